/**
 * A workflow run's journal: what each of its steps recorded (a result, a
 * failure, a wait), so that a later attempt returns a completed step's result
 * instead of running it again. Stores keep it beside the run; `Workflow` reads
 * and writes it; `Scheduler.steps` shows it.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { RunError, RunId, RunState } from "./Run.js"

/**
 * What a journal entry is: a step (an effect run once), a durable sleep, a
 * child run, or a signal.
 *
 * @since 0.1.0
 * @category models
 */
export const StepKind = Schema.Literal("step", "sleep", "child", "signal")

/**
 * @since 0.1.0
 * @category models
 */
export type StepKind = typeof StepKind.Type

/**
 * Where a journal entry stands: `succeeded` is final (its result is
 * returned from then on, and the entry is never replaced); `failed` is the
 * last failure (a step that failed runs again on the next attempt; a signal
 * that timed out or a child that failed stays failed); `waiting`: the
 * workflow waits for it (a sleep's instant, a child's end, a signal).
 *
 * @since 0.1.0
 * @category models
 */
export const StepStatus = Schema.Literal("succeeded", "failed", "waiting")

/**
 * @since 0.1.0
 * @category models
 */
export type StepStatus = typeof StepStatus.Type

/**
 * The state of a child run, as the journal reads it with its entry.
 *
 * @since 0.1.0
 * @category models
 */
export class ChildState extends Schema.Class<ChildState>("ChildState")({
  state: RunState,
  /** encoded with the child job's success Schema */
  result: Schema.optional(Schema.Unknown),
  error: Schema.optional(RunError)
}) {}

/**
 * One journal entry. Instants are epoch milliseconds. `position` is where the
 * workflow's code reached it ("3", or "2.1.0" inside the second branch of a
 * `Workflow.all`): a later attempt must reach the same entry at the same
 * position, else the code changed under the run.
 *
 * @since 0.1.0
 * @category models
 */
export class StepRecord extends Schema.Class<StepRecord>("StepRecord")({
  runId: RunId,
  name: Schema.String,
  kind: StepKind,
  status: StepStatus,
  /** empty for a signal delivered before the workflow reached it */
  position: Schema.String,
  /** the attempt of the run that wrote the entry last (0: written by a signal) */
  attempt: Schema.Int,
  startedAt: Schema.Number,
  finishedAt: Schema.optional(Schema.Number),
  /** a sleep's instant, or the instant a signal's wait times out */
  wakeAt: Schema.optional(Schema.Number),
  childRunId: Schema.optional(RunId),
  /** encoded with the step's Schema (a signal's value as sent) */
  result: Schema.optional(Schema.Unknown),
  error: Schema.optional(RunError),
  /** a child entry's run, as it is now (read, not stored) */
  child: Schema.optional(ChildState)
}) {}

/**
 * A run's journal as one read returns it: its entries, and how many times the
 * run was woken so far (a child ended, a signal came). An attempt that ends
 * waiting passes `wakes` back, so a wake that came while it ran is not lost.
 *
 * @since 0.1.0
 * @category models
 */
export interface Journal {
  readonly steps: ReadonlyArray<StepRecord>
  readonly wakes: number
}

/**
 * What delivering a signal did: `delivered` (stored; the run wakes if it
 * waits for it), `duplicate` (a value for this name is already stored, and
 * kept), `expired` (the run's wait for it timed out), `finished` (the run
 * already ended), `not_found`.
 *
 * @since 0.1.0
 * @category models
 */
export type SignalResult = "delivered" | "duplicate" | "expired" | "finished" | "not_found"

/**
 * The instant a workflow run waiting for a child or a signal, with no
 * timeout, is queued for: the end of year 9999 (every store and date format
 * holds it). Whatever wakes the run makes it due at once.
 *
 * @since 0.1.0
 * @category models
 */
export const untilWoken: number = Date.UTC(9999, 11, 31, 23, 59, 59, 999)
