/**
 * What a store operation can fail with: the store did not answer or refused
 * the data (`StoreError`, with its `kind`), or the schedule or run asked for
 * does not exist.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Whether trying a failed store request again can help.
 * - `transient`: the store did not answer (connection lost or refused, a
 *   timeout, the server shutting down, too many connections, a serialization
 *   conflict); the same request may succeed later.
 * - `permanent`: the store refused the request's data (an encoding it cannot
 *   hold, a constraint, a value out of range); the same request fails again.
 * - `unknown`: anything else (a missing table, a permission); treated as
 *   transient.
 *
 * @since 0.1.0
 * @category models
 */
export const StoreErrorKind = Schema.Literal("transient", "permanent", "unknown")

/**
 * @since 0.1.0
 * @category models
 */
export type StoreErrorKind = typeof StoreErrorKind.Type

/**
 * The store could not do what was asked (connection lost, constraint broken).
 * `kind` says whether trying again can help: the engine waits out a
 * transient error (holding outcomes until the store answers) and works around
 * a permanent one (an outcome the store refuses is recorded without its data).
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  operation: Schema.String,
  message: Schema.String,
  kind: Schema.optionalWith(StoreErrorKind, { default: () => "unknown" }),
  cause: Schema.optional(Schema.Defect)
}) {}

/**
 * No schedule has that id.
 *
 * @since 0.1.0
 * @category errors
 */
export class ScheduleNotFound extends Schema.TaggedError<ScheduleNotFound>()("ScheduleNotFound", {
  id: Schema.String
}) {
  override get message() {
    return `no schedule has the id "${this.id}"`
  }
}

/**
 * No run has that id.
 *
 * @since 0.1.0
 * @category errors
 */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  runId: Schema.String
}) {
  override get message() {
    return `no run has the id "${this.runId}"`
  }
}
