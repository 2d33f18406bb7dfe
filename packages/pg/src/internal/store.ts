import { type JobStore, StoreError } from "@clockwork/core/JobStore"
import { type SqlClient, TransactionConnection } from "@effect/sql/SqlClient"
import { Duration, Effect, type Scope } from "effect"
import type { Options } from "../PgStore.js"
import * as Changes from "./changes.js"
import * as ClockSkew from "./clockSkew.js"
import { storeError } from "./errors.js"
import { migrate } from "./migrations.js"
import { notify } from "./sql/notify.js"
import { cancel, cancelChildren } from "./sql/cancel.js"
import { claim } from "./sql/claim.js"
import { complete } from "./sql/complete.js"
import { insertRuns } from "./sql/enqueue.js"
import * as Feed from "./sql/feed.js"
import { fire } from "./sql/fire.js"
import { heartbeat, reapExpired } from "./sql/leases.js"
import * as Queries from "./sql/queries.js"
import { pruneHistory } from "./sql/prune.js"
import * as Statistics from "./sql/statistics.js"
import * as Schedules from "./sql/schedules.js"
import { upsertSchedules } from "./sql/upsertSchedules.js"
import * as Workers from "./sql/workers.js"
import * as Workflow from "./sql/workflow.js"
import * as Statements from "./statements.js"
import * as Tables from "./tables.js"

export const defaultSchema = "clockwork"

/** What the store runs on: the SQL client and where its notifications come from. */
export interface Driver {
  readonly sql: SqlClient
  readonly listen: Changes.Listen
  /** the poll's interval when the options do not set one */
  readonly pollInterval: Duration.DurationInput
  /** compare the database's clock with this process's at start-up (not for PGlite: it is this process) */
  readonly checkClock?: boolean
  /** how long a call waits for the database when the options do not say; none: as long as it takes */
  readonly statementTimeout: Duration.DurationInput | undefined
  /** the pool's size: the store's operations at once (each holds a connection while it runs) */
  readonly connections: number
}

/**
 * A bulk enqueue is one statement that grows with its runs: its wait is the
 * statement timeout plus a second per this many runs (ten times slower than
 * measured, see BENCHMARKS.md), so a large batch is not reported failed while
 * it is being written.
 */
const runsPerExtraSecond = 5_000

/**
 * As for runs: a large registration's wait grows with it, a second per this
 * many schedules (about ten times slower than measured, see BENCHMARKS.md).
 */
const schedulesPerExtraSecond = 500

export const tables = (sql: SqlClient, options: Options | undefined) =>
  Effect.gen(function*() {
    const schema = options?.schema ?? defaultSchema
    const invalid = Tables.invalidSchema(schema)
    if (invalid !== undefined) return yield* new StoreError({ operation: "make", message: invalid })
    // the app's client may transform names (camelCase); the store's SQL is written for the columns as they are
    return Tables.make(sql.withoutTransforms(), schema)
  })

// migrations wait for each other on an advisory lock, for as long as another process migrates
export const migrateOnly = (sql: SqlClient, options: Options | undefined) =>
  Effect.flatMap(tables(sql, options), (t) => Statements.toTheEnd(migrate(t)))

export const make = (driver: Driver, options: Options | undefined): Effect.Effect<JobStore, StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const t = yield* tables(driver.sql, options)
    const timeoutInput = options?.statementTimeout ?? driver.statementTimeout
    const timeout = timeoutInput === undefined ? undefined : Duration.decode(timeoutInput)
    const statements = yield* Statements.make(driver.connections)
    // every call: a StoreError for the database's errors, never cancelled once sent, its wait bounded
    const call = (operation: string, wait = timeout) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      statements.run(operation, wait)(storeError(operation)(effect))

    if (options?.migrate !== false) yield* Statements.toTheEnd(migrate(t))
    if (driver.checkClock === true) {
      yield* ClockSkew.check(t, Duration.decode(options?.maxClockSkew ?? "1 second")).pipe(
        call("checkClock"),
        Effect.catchAll((error) => Effect.logWarning("clockwork: could not compare clocks with the database", error))
      )
    }
    const feed = yield* Changes.make(t, driver.listen, Duration.decode(options?.pollInterval ?? driver.pollInterval))
    const refreshStatistics = yield* Statistics.refresher(t)

    const store: JobStore = {
      upsertSchedule: (input) =>
        call("upsertSchedule")(upsertSchedules(t, "upsertSchedule", [input])).pipe(Effect.map(([result]) => result!)),
      upsertSchedules: (inputs) => {
        const wait = timeout === undefined
          ? undefined
          : Duration.sum(timeout, Duration.seconds(Math.floor(inputs.length / schedulesPerExtraSecond)))
        return call("upsertSchedules", wait)(upsertSchedules(t, "upsertSchedules", inputs))
      },
      getSchedule: (id) => call("getSchedule")(Schedules.get(t, id)),
      listSchedules: call("listSchedules")(Schedules.list(t)),
      setPaused: (id, paused, nextFireAt, now) =>
        call("setPaused")(Schedules.setPaused(t, id, paused, nextFireAt, now)),
      removeSchedule: (id, now) => call("removeSchedule")(Schedules.remove(t, id, now)),
      dueSchedules: (now, limit) => call("dueSchedules")(Schedules.due(t, now, limit)),
      fire: (tick) => call("fire")(fire(t, tick)),
      nextFireAt: call("nextFireAt")(Schedules.nextFireAt(t)),

      enqueue: (runs, now) =>
        runs.length === 0 ? Effect.succeed([]) : Effect.flatMap(Effect.serviceOption(TransactionConnection), (outer) => {
          // outside the app's transaction this process's runners are woken at once, and ignore the
          // NOTIFY's echo; inside it, the NOTIFY at its commit wakes everyone (a rollback, no one)
          const local = outer._tag === "None"
          const payload = local ? feed.own : "runs"
          // without dedup keys one statement; with them, rounds that must commit together
          const insert = runs.some((run) => run.key !== undefined)
            ? t.sql.withTransaction(insertRuns(t, "enqueue", runs, now, payload))
            : insertRuns(t, "enqueue", runs, now, payload)
          const wait = timeout === undefined
            ? undefined
            : Duration.sum(timeout, Duration.seconds(Math.floor(runs.length / runsPerExtraSecond)))
          return call("enqueue", wait)(insert).pipe(
            // not from inside the app's transaction: the analyze would run on its connection
            Effect.tap(() => local ? Effect.zipRight(feed.local("runs"), refreshStatistics(runs.length)) : Effect.void)
          )
        }),
      claim: (request) => call("claim")(claim(t, request)),
      // every write that records history rows tells the feed's readers, coalesced (changes.ts)
      complete: (outcomes) =>
        call("complete")(complete(t, outcomes)).pipe(
          Effect.tap((result) => result.refused.length < outcomes.length ? feed.feedGrew : Effect.void)
        ),
      cancel: (runId, now) =>
        call("cancel")(cancel(t, runId, now)).pipe(
          Effect.tap((result) => result === "cancelled" ? feed.feedGrew : Effect.void),
          // a workflow's children go with it, in a statement of their own (see cancelChildren)
          Effect.tap((result) =>
            result === "cancelled" || result === "running"
              ? call("cancelChildren")(cancelChildren(t, runId, now)).pipe(
                Effect.tap(({ cancelled, requested }) =>
                  Effect.zipRight(
                    cancelled > 0 ? feed.feedGrew : Effect.void,
                    requested > 0 ? call("cancelChildren")(notify(t, "cancels")) : Effect.void
                  )
                )
              )
              : Effect.void
          )
        ),
      heartbeat: (workerId, runIds, leaseUntil) => call("heartbeat")(heartbeat(t, workerId, runIds, leaseUntil)),
      reapExpired: (now) =>
        call("reapExpired")(Effect.zipLeft(reapExpired(t, now), Workers.reap(t, now))).pipe(
          Effect.tap((reaped) => reaped > 0 ? feed.feedGrew : Effect.void)
        ),
      getRun: (runId) => call("getRun")(Queries.getRun(t, runId)),
      listRuns: (query) => call("listRuns")(Queries.listRuns(t, query)),
      queueDepth: (now) => call("queueDepth")(Queries.queueDepth(t, now)),

      journal: (runId) => call("journal")(Workflow.journal(t, runId)),
      recordSteps: (steps) => call("recordSteps")(Workflow.recordSteps(t, steps)),
      startChildren: (start) => call("startChildren")(Workflow.startChildren(t, start)),
      suspend: (suspension) =>
        call("suspend")(Workflow.suspend(t, suspension)).pipe(
          Effect.tap(({ cancelled }) => cancelled ? feed.feedGrew : Effect.void),
          Effect.map(({ held }) => held)
        ),
      signal: (delivery) => call("signal")(Workflow.signal(t, delivery)),

      history: (query) => call("history")(Queries.history(t, query)),
      // a large prune takes many batches: each batch's wait is bounded, not the whole
      pruneHistory: (before) =>
        storeError("pruneHistory")(pruneHistory(t, before, (statement) => call("pruneHistory")(statement))),

      readFeed: (after, limit) => call("readFeed")(Feed.read(t, after, limit)),
      feedEnd: call("feedEnd")(Feed.end(t)),
      holdConsumer: (request) => call("holdConsumer")(Feed.hold(t, request)),
      commitConsumer: (request) => call("commitConsumer")(Feed.commit(t, request)),
      releaseConsumer: (name, holder) => call("releaseConsumer")(Feed.release(t, name, holder)),

      workerBeat: (worker) => call("workerBeat")(Workers.beat(t, worker)),
      removeWorker: (id) => call("removeWorker")(Workers.remove(t, id)),
      listWorkers: (now) => call("listWorkers")(Workers.list(t, now)),

      changes: feed.subscribe
    }
    return store
  })
