/**
 * The runners (workers) the store knows to be alive, and what each said of
 * itself on its last beat.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * What a runner says about itself on each beat.
 *
 * @since 0.1.0
 * @category models
 */
export class WorkerInfo extends Schema.Class<WorkerInfo>("WorkerInfo")({
  /** runs it may execute at once */
  concurrency: Schema.Number,
  /** the jobs it has registered */
  jobs: Schema.Array(Schema.String),
  /** runs it was executing at the beat */
  running: Schema.Number
}) {}

/**
 * A live runner, as the store last heard from it.
 *
 * @since 0.1.0
 * @category models
 */
export class WorkerRecord extends Schema.Class<WorkerRecord>("WorkerRecord")({
  id: Schema.String,
  startedAt: Schema.DateTimeUtcFromNumber,
  heartbeatAt: Schema.DateTimeUtcFromNumber,
  /** gone unless it beats again before this */
  expiresAt: Schema.DateTimeUtcFromNumber,
  info: WorkerInfo
}) {}
