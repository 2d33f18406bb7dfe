/**
 * A schedule as the store keeps it.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Misfire, Overlap } from "./Policy.js"
import { Trigger } from "./Trigger.js"

/**
 * A stored schedule: which job runs with which payload, on which trigger.
 *
 * @since 0.1.0
 * @category models
 */
export class ScheduleRecord extends Schema.Class<ScheduleRecord>("ScheduleRecord")({
  id: Schema.String,
  jobName: Schema.String,
  payload: Schema.Unknown,
  trigger: Trigger,
  misfire: Misfire,
  overlap: Overlap,
  /** ticks later than this are "missed" for the `skip` misfire policy */
  misfireGraceMs: Schema.Number,
  paused: Schema.Boolean,
  /** absent when a one-shot schedule has fired */
  nextFireAt: Schema.optional(Schema.DateTimeUtcFromNumber),
  lastFireAt: Schema.optional(Schema.DateTimeUtcFromNumber),
  createdAt: Schema.DateTimeUtcFromNumber,
  updatedAt: Schema.DateTimeUtcFromNumber
}) {}
