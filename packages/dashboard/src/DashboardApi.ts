/**
 * The dashboard's JSON API as an `HttpApi`: its routes, the shapes they
 * answer with, and their errors. The server serves it under `/api` with its
 * OpenAPI document at `/api/openapi.json`; `HttpApiClient.make(DashboardApi.api)`
 * derives a typed client from it.
 *
 * @since 0.1.0
 */
import { JobStore, Journal, Run } from "@clockwork/core"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity } from "@effect/platform"
import { Schema } from "effect"
import { HistoryCursor } from "./internal/cursor.js"

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * No schedule or run has that id.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  what: Schema.Literal("schedule", "run"),
  id: Schema.String,
  /** says which id, for people reading the response */
  message: Schema.String
}, HttpApiSchema.annotations({ status: 404 })) {
  /**
   * @since 0.1.0
   */
  static of(what: "schedule" | "run", id: string): NotFound {
    return new NotFound({ what, id, message: `no ${what} has the id ${JSON.stringify(id)}` })
  }
}

/**
 * An action the state of its schedule or run does not allow (retrying a run
 * that succeeded, running a `skip` schedule now while its run is unfinished).
 *
 * @since 0.1.0
 * @category errors
 */
export class Refused extends Schema.TaggedError<Refused>()("Refused", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 409 })) {}

/**
 * An action without the dashboard's token, with a wrong one, or on a
 * dashboard that has no token configured (read-only).
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 401 })) {}

/**
 * The store did not answer.
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  operation: Schema.String,
  message: Schema.String
}, HttpApiSchema.annotations({ status: 503 })) {}

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

/**
 * A schedule with its trigger in words and how its latest run ended.
 *
 * @since 0.1.0
 * @category models
 */
export const ScheduleView = Schema.Struct({
  ...JobStore.ScheduleRecord.fields,
  /** "every 10s", "cron 0 3 * * * (Europe/Berlin)" */
  triggerText: Schema.String,
  lastOutcome: Schema.optional(Schema.Struct({
    runId: Run.RunId,
    status: Run.RunStatus,
    finishedAt: Schema.DateTimeUtcFromNumber
  }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type ScheduleView = typeof ScheduleView.Type

/**
 * The queue: per job, and the runs running or waiting now.
 *
 * @since 0.1.0
 * @category models
 */
export const QueueView = Schema.Struct({
  now: Schema.DateTimeUtcFromNumber,
  jobs: Schema.Array(JobStore.JobQueue),
  running: Schema.Array(Run.Run),
  /** queued runs, soonest first (at most 100) */
  queued: Schema.Array(Run.Run)
})

/**
 * @since 0.1.0
 * @category models
 */
export type QueueView = typeof QueueView.Type

/**
 * A page of the history, newest first; `next` fetches the following page.
 *
 * @since 0.1.0
 * @category models
 */
export const HistoryPage = Schema.Struct({
  runs: Schema.Array(Run.RunRecord),
  next: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type HistoryPage = typeof HistoryPage.Type

/**
 * A run as the queue knows it, with every recorded attempt (newest first)
 * and, for a workflow run, its journal (each step, sleep, child and signal,
 * in the order they were first reached).
 *
 * @since 0.1.0
 * @category models
 */
export const RunDetail = Schema.Struct({
  run: Run.Run,
  attempts: Schema.Array(Run.RunRecord),
  steps: Schema.Array(Journal.StepRecord)
})

/**
 * @since 0.1.0
 * @category models
 */
export type RunDetail = typeof RunDetail.Type

/**
 * Finished attempts over a window, per job and status and per time bucket and
 * status. `truncated` when the window held more attempts than were counted.
 *
 * @since 0.1.0
 * @category models
 */
export const Counts = Schema.Struct({
  from: Schema.DateTimeUtcFromNumber,
  to: Schema.DateTimeUtcFromNumber,
  bucketMs: Schema.Number,
  byJob: Schema.Array(Schema.Struct({ jobName: Schema.String, status: Run.RunStatus, count: Schema.Number })),
  buckets: Schema.Array(Schema.Struct({ at: Schema.DateTimeUtcFromNumber, status: Run.RunStatus, count: Schema.Number })),
  truncated: Schema.Boolean
})

/**
 * @since 0.1.0
 * @category models
 */
export type Counts = typeof Counts.Type

/**
 * What cancelling a run did: `cancelled`, `running` (its worker was asked and
 * had not stopped it within 10 seconds) or `finished` (it had already ended).
 *
 * @since 0.1.0
 * @category models
 */
export const CancelOutcome = Schema.Struct({
  outcome: Schema.Literal("cancelled", "running", "finished"),
  run: Run.Run
})

/**
 * A run queued again as a new run.
 *
 * @since 0.1.0
 * @category models
 */
export const Retried = Schema.Struct({
  retried: Run.RunId,
  run: Run.Run
})

const limit = Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500))

/**
 * The history filters, as URL parameters. `from` and `to` are ISO 8601
 * instants bounding when the attempt finished (`to` excluded); `cursor` is a
 * page's `next`.
 *
 * @since 0.1.0
 * @category models
 */
export const HistoryParams = Schema.Struct({
  job: Schema.optional(Schema.NonEmptyTrimmedString),
  status: Schema.optional(Run.RunStatus),
  schedule: Schema.optional(Schema.NonEmptyTrimmedString),
  from: Schema.optional(Schema.DateTimeUtc),
  to: Schema.optional(Schema.DateTimeUtc),
  cursor: Schema.optional(HistoryCursor),
  limit: Schema.optional(limit)
})

/**
 * The window of `counts`, as URL parameters (default: the last hour).
 *
 * @since 0.1.0
 * @category models
 */
export const WindowParams = Schema.Struct({
  from: Schema.optional(Schema.DateTimeUtc),
  to: Schema.optional(Schema.DateTimeUtc)
})

// ---------------------------------------------------------------------------
// api
// ---------------------------------------------------------------------------

/**
 * Guards the actions: `Authorization: Bearer <token>` with the dashboard's
 * token. A header, not a cookie, so another site cannot make a browser send it.
 *
 * @since 0.1.0
 * @category security
 */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@clockwork/dashboard/Authorization", {
  failure: Unauthorized,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

const scheduleId = Schema.Struct({ id: Schema.String })
const runId = Schema.Struct({ runId: Run.RunId })

/**
 * What can be read, without a token.
 *
 * @since 0.1.0
 * @category api
 */
export class Read extends HttpApiGroup.make("read")
  .add(HttpApiEndpoint.get("schedules", "/schedules").addSuccess(Schema.Array(ScheduleView)))
  .add(HttpApiEndpoint.get("queue", "/queue").addSuccess(QueueView))
  .add(HttpApiEndpoint.get("runs", "/runs").setUrlParams(HistoryParams).addSuccess(HistoryPage))
  .add(HttpApiEndpoint.get("run", "/runs/:runId").setPath(runId).addSuccess(RunDetail).addError(NotFound))
  .add(HttpApiEndpoint.get("workers", "/workers").addSuccess(Schema.Array(JobStore.WorkerRecord)))
  .add(HttpApiEndpoint.get("counts", "/counts").setUrlParams(WindowParams).addSuccess(Counts))
{}

/**
 * What changes the scheduler's state: each needs the token and is logged.
 *
 * @since 0.1.0
 * @category api
 */
export class Actions extends HttpApiGroup.make("actions")
  .add(
    HttpApiEndpoint.post("runSchedule", "/schedules/:id/run").setPath(scheduleId).addSuccess(Run.Run).addError(NotFound)
      .addError(Refused)
  )
  .add(HttpApiEndpoint.post("pause", "/schedules/:id/pause").setPath(scheduleId).addSuccess(ScheduleView).addError(NotFound))
  .add(
    HttpApiEndpoint.post("resume", "/schedules/:id/resume").setPath(scheduleId).addSuccess(ScheduleView).addError(NotFound)
  )
  .add(HttpApiEndpoint.post("cancel", "/runs/:runId/cancel").setPath(runId).addSuccess(CancelOutcome).addError(NotFound))
  .add(
    HttpApiEndpoint.post("retry", "/runs/:runId/retry").setPath(runId).addSuccess(Retried).addError(NotFound)
      .addError(Refused)
  )
  .middleware(Authorization)
{}

/**
 * The dashboard's API, served under `/api`.
 *
 * @since 0.1.0
 * @category api
 */
export const api = HttpApi.make("clockwork-dashboard")
  .add(Read)
  .add(Actions)
  .addError(StoreUnavailable)
  .prefix("/api")
