/**
 * The API's handlers: reads through the scheduler and the store, and actions
 * that say in the app's log what they did.
 */
import { JobStore, Scheduler, Trigger } from "@clockwork/core"
import { HttpApiBuilder } from "@effect/platform"
import { Clock, DateTime, Effect, Layer, Option, Redacted } from "effect"
import * as Crypto from "node:crypto"
import * as Api from "../DashboardApi.js"
import * as History from "./history.js"

const unavailable = (error: JobStore.StoreError) =>
  new Api.StoreUnavailable({ operation: error.operation, message: `the store failed in ${error.operation}: ${error.message}` })

const storeFailure = <A, E, R>(effect: Effect.Effect<A, E | JobStore.StoreError, R>) =>
  Effect.catchIf(
    effect,
    (error): error is Extract<E | JobStore.StoreError, JobStore.StoreError> =>
      error instanceof JobStore.StoreError,
    (error) => Effect.fail(unavailable(error))
  ) as Effect.Effect<A, Exclude<E, JobStore.StoreError> | Api.StoreUnavailable, R>

const runNotFound = (runId: string) => () => Effect.fail(Api.NotFound.of("run", runId))
const scheduleNotFound = (id: string) => () => Effect.fail(Api.NotFound.of("schedule", id))

const epoch = (instant: DateTime.Utc | undefined) => instant === undefined ? undefined : DateTime.toEpochMillis(instant)

const scheduleView = (scheduler: Scheduler.Scheduler) => (schedule: JobStore.ScheduleRecord) =>
  Effect.map(scheduler.history({ scheduleId: schedule.id, limit: 1 }), ([last]): Api.ScheduleView => ({
    ...schedule,
    triggerText: Trigger.describe(schedule.trigger),
    ...(last === undefined
      ? {}
      : { lastOutcome: { runId: last.runId, status: last.status, finishedAt: last.finishedAt } })
  }))


/** The read routes. */
export const read = HttpApiBuilder.group(Api.api, "read", (handlers) =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const store = yield* JobStore.JobStore
    return handlers
      .handle("schedules", () =>
        storeFailure(Effect.flatMap(scheduler.schedules, Effect.forEach(scheduleView(scheduler), { concurrency: 4 }))))
      .handle("queue", () =>
        storeFailure(Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const [jobs, running, queued] = yield* Effect.all([
            scheduler.queue,
            store.listRuns({ state: "running", limit: 200 }),
            store.listRuns({ state: "queued", limit: 100 })
          ])
          return {
            now: DateTime.unsafeMake(now),
            jobs,
            running,
            queued: [...queued].sort((a, b) => DateTime.toEpochMillis(a.runAt) - DateTime.toEpochMillis(b.runAt))
          }
        })))
      .handle("runs", ({ urlParams }) =>
        storeFailure(Effect.map(
          History.page(scheduler.history, {
            jobName: urlParams.job,
            status: urlParams.status,
            scheduleId: urlParams.schedule,
            from: epoch(urlParams.from),
            to: epoch(urlParams.to),
            after: urlParams.cursor,
            limit: urlParams.limit ?? 50
          }),
          ({ next, runs }) => next === undefined ? { runs } : { runs, next }
        )))
      .handle("run", ({ path }) =>
        storeFailure(Effect.gen(function*() {
          const run = yield* Effect.catchTag(scheduler.getRun(path.runId), "RunNotFound", runNotFound(path.runId))
          const attempts = yield* scheduler.history({ runId: path.runId, limit: 1_000 })
          const steps = yield* scheduler.steps(path.runId)
          return { run, attempts, steps }
        })))
      .handle("workers", () => storeFailure(scheduler.workers))
      .handle("counts", ({ urlParams }) =>
        storeFailure(Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const to = epoch(urlParams.to) ?? now + 1
          const from = epoch(urlParams.from) ?? to - 60 * 60_000
          const counts = yield* History.counts(scheduler.history, from, to)
          return {
            from: DateTime.unsafeMake(from),
            to: DateTime.unsafeMake(to),
            bucketMs: counts.bucketMs,
            byJob: counts.byJob,
            buckets: counts.buckets.map((b) => ({ ...b, at: DateTime.unsafeMake(b.at) })),
            truncated: counts.truncated
          }
        })))
  }))

/** The action routes; each is logged once it is done. */
export const actions = HttpApiBuilder.group(Api.api, "actions", (handlers) =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const view = scheduleView(scheduler)
    return handlers
      .handle("runSchedule", ({ path }) =>
        storeFailure(Effect.gen(function*() {
          const run = yield* scheduler.trigger(path.id).pipe(
            Effect.catchTags({
              ScheduleNotFound: scheduleNotFound(path.id),
              ScheduleBusy: (busy) => new Api.Refused({ message: busy.message })
            })
          )
          yield* Effect.logInfo(`clockwork dashboard: ran schedule ${path.id} now as run ${run.id}`)
          return run
        })))
      .handle("pause", ({ path }) =>
        storeFailure(Effect.gen(function*() {
          const schedule = yield* Effect.catchTag(scheduler.pause(path.id), "ScheduleNotFound", scheduleNotFound(path.id))
          yield* Effect.logInfo(`clockwork dashboard: paused schedule ${schedule.id}`)
          return yield* view(schedule)
        })))
      .handle("resume", ({ path }) =>
        storeFailure(Effect.gen(function*() {
          const schedule = yield* Effect.catchTag(scheduler.resume(path.id), "ScheduleNotFound", scheduleNotFound(path.id))
          yield* Effect.logInfo(`clockwork dashboard: resumed schedule ${schedule.id}`)
          return yield* view(schedule)
        })))
      .handle("cancel", ({ path }) =>
        storeFailure(Effect.gen(function*() {
          const outcome = yield* Effect.catchTag(scheduler.cancel(path.runId), "RunNotFound", runNotFound(path.runId))
          const run = yield* Effect.catchTag(scheduler.getRun(path.runId), "RunNotFound", runNotFound(path.runId))
          yield* Effect.logInfo(`clockwork dashboard: cancel of run ${run.id} (${run.jobName}): ${outcome}`)
          return { outcome: outcome === "not_found" ? "finished" as const : outcome, run }
        })))
      .handle("retry", ({ path }) =>
        storeFailure(Effect.gen(function*() {
          const queued = yield* scheduler.retry(path.runId).pipe(
            Effect.catchTags({
              RunNotFound: runNotFound(path.runId),
              NotRetryable: (refused) => new Api.Refused({ message: refused.message })
            })
          )
          yield* Effect.logInfo(`clockwork dashboard: retried run ${path.runId} (${queued.jobName}) as run ${queued.id}`)
          return { retried: path.runId, run: queued }
        })))
  }))

/**
 * The token check: constant-time comparison with the configured token; with
 * none configured every action is refused (the dashboard is read-only).
 */
export const authorization = (token: Option.Option<Redacted.Redacted>) =>
  Layer.succeed(Api.Authorization, {
    bearer: (given) =>
      Option.match(token, {
        onNone: () =>
          Effect.fail(new Api.Unauthorized({ message: "this dashboard is read-only: it has no token configured" })),
        onSome: (expected) =>
          equal(Redacted.value(given), Redacted.value(expected))
            ? Effect.void
            : Effect.fail(new Api.Unauthorized({ message: "actions need the dashboard's token as Authorization: Bearer <token>" }))
      })
  })

/** Compares digests of equal length, so the time taken tells nothing about the token. */
const equal = (a: string, b: string): boolean =>
  Crypto.timingSafeEqual(Crypto.createHash("sha256").update(a).digest(), Crypto.createHash("sha256").update(b).digest())
