/**
 * Runs and their history: every attempt of every job is recorded with its
 * status, timings, error and metrics (the `scheduled_job_runs` table of the
 * systems clockwork replaces).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The id of a run (one logical execution of a job, across its attempts).
 *
 * @since 0.1.0
 * @category models
 */
export const RunId = Schema.String.pipe(Schema.brand("@clockwork/RunId"))

/**
 * @since 0.1.0
 * @category models
 */
export type RunId = typeof RunId.Type

/**
 * How an attempt ended.
 * - `succeeded`: the job returned a value.
 * - `failed` / `timed_out`: it failed or hit its timeout; when the job's retry
 *   policy allows, another attempt is queued (`retryAt` is set).
 * - `dead`: it failed after retrying and the retry policy is exhausted
 *   (dead-lettered); the error says why.
 * - `cancelled`: cancelled by a user.
 * - `interrupted`: stopped by a runner shutdown; the run is queued again.
 *
 * @since 0.1.0
 * @category models
 */
export const RunStatus = Schema.Literal("succeeded", "failed", "timed_out", "cancelled", "interrupted", "dead")

/**
 * @since 0.1.0
 * @category models
 */
export type RunStatus = typeof RunStatus.Type

/**
 * Where a run is now.
 *
 * @since 0.1.0
 * @category models
 */
export const RunState = Schema.Literal("queued", "running", "succeeded", "failed", "timed_out", "cancelled", "dead")

/**
 * @since 0.1.0
 * @category models
 */
export type RunState = typeof RunState.Type

/**
 * A failure as stored: the error's tag, its message and the pretty-printed cause.
 *
 * @since 0.1.0
 * @category models
 */
export class RunError extends Schema.Class<RunError>("RunError")({
  tag: Schema.String,
  message: Schema.String,
  cause: Schema.String
}) {}

/**
 * Numbers (or other JSON) a run reports: lines added, items processed...
 *
 * @since 0.1.0
 * @category models
 */
export const Metrics = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * @since 0.1.0
 * @category models
 */
export type Metrics = typeof Metrics.Type

/**
 * One attempt of one run, as recorded in the history. `final` is true on the
 * last attempt of a run (no attempt of it will follow: it succeeded, was
 * cancelled, is dead, or failed or timed out with no retry left or allowed)
 * and false when another attempt follows (`retryAt` is set, or the attempt was
 * interrupted and the run queued again).
 *
 * @since 0.1.0
 * @category models
 */
export class RunRecord extends Schema.Class<RunRecord>("RunRecord")({
  runId: RunId,
  jobName: Schema.String,
  scheduleId: Schema.optional(Schema.String),
  attempt: Schema.Int,
  status: RunStatus,
  scheduledFor: Schema.DateTimeUtcFromNumber,
  startedAt: Schema.DateTimeUtcFromNumber,
  finishedAt: Schema.DateTimeUtcFromNumber,
  durationMs: Schema.Number,
  error: Schema.optional(RunError),
  result: Schema.optional(Schema.Unknown),
  metrics: Schema.optional(Metrics),
  retryAt: Schema.optional(Schema.DateTimeUtcFromNumber),
  workerId: Schema.optional(Schema.String),
  final: Schema.Boolean
}) {}

/**
 * Whether an attempt with this status and retry instant is its run's last:
 * an interrupted attempt is always followed by another, any other without a
 * `retryAt` is not. Every store derives `RunRecord.final` with it.
 *
 * @since 0.1.0
 * @category models
 */
export const isFinalAttempt = (status: RunStatus, retryAt: unknown): boolean =>
  status !== "interrupted" && (retryAt === undefined || retryAt === null)

/**
 * Whether an attempt ended its run without success: it failed, timed out or
 * is dead, and no attempt follows. This is what an alert waits for; a
 * cancellation (by a user, or of a dependent whose parent failed) is not one.
 *
 * @since 0.1.0
 * @category models
 */
export const isFinalFailure = (record: RunRecord): boolean =>
  record.final && (record.status === "failed" || record.status === "timed_out" || record.status === "dead")

/**
 * A run as the queue knows it: its job, payload, when it is due and where it is.
 *
 * @since 0.1.0
 * @category models
 */
export class Run extends Schema.Class<Run>("Run")({
  id: RunId,
  jobName: Schema.String,
  payload: Schema.Unknown,
  scheduleId: Schema.optional(Schema.String),
  state: RunState,
  attempt: Schema.Int,
  runAt: Schema.DateTimeUtcFromNumber,
  scheduledFor: Schema.DateTimeUtcFromNumber,
  priority: Schema.Int,
  key: Schema.optional(Schema.String),
  then: Schema.Array(Schema.String),
  result: Schema.optional(Schema.Unknown),
  error: Schema.optional(RunError),
  workerId: Schema.optional(Schema.String),
  createdAt: Schema.DateTimeUtcFromNumber
}) {}

/**
 * A query over the history, newest first.
 *
 * @since 0.1.0
 * @category models
 */
export interface HistoryQuery {
  readonly jobName?: string
  readonly runId?: RunId
  readonly scheduleId?: string
  readonly status?: RunStatus | ReadonlyArray<RunStatus>
  /** finished at or after (epoch ms) */
  readonly from?: number
  /** finished before (epoch ms) */
  readonly to?: number
  readonly limit?: number
}

/**
 * An attempt's outcome held something the stores cannot keep (a NUL
 * character, NaN, a lone surrogate... in its result, error or metrics), or the
 * store refused it. The attempt is recorded with this error instead, so the
 * run ends visibly and every other outcome is still written:
 *
 * - a success becomes a failure, not retried (the job would return the same
 *   value again), and its result and follow-ups are dropped;
 * - a failure keeps its status and its retry; this error quotes the job's
 *   own error, with the characters that cannot be stored escaped (`\u0000`).
 *
 * Metrics that cannot be stored are dropped.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnstorableOutcome extends Schema.TaggedError<UnstorableOutcome>()("UnstorableOutcome", {
  /** where the bad value was, e.g. `result.lines[3]`, `error.message`, `metrics.note` */
  field: Schema.String,
  reason: Schema.String,
  /** the job's own error (`Tag: message`), escaped, when the attempt failed */
  jobError: Schema.optional(Schema.String)
}) {
  override get message() {
    return `the run's ${this.field} cannot be stored: ${this.reason}${
      this.jobError === undefined ? "" : `; the job failed with ${this.jobError}`
    }`
  }
}

/**
 * Why a dependent (a `then:` job) never ran: its parent run ended without
 * success (failed, timed out, dead or cancelled). The dependent is recorded as
 * a `cancelled` run, with a history row, carrying this error.
 *
 * @since 0.1.0
 * @category errors
 */
export class ParentFailed extends Schema.TaggedError<ParentFailed>()("ParentFailed", {
  parentRunId: Schema.String,
  parentJobName: Schema.String,
  parentState: RunState
}) {
  override get message() {
    return `its parent run ${this.parentRunId} (${this.parentJobName}) ended ${this.parentState}`
  }
}
