import { type JobStore, StoreError } from "@clockwork/core/JobStore"
import { type SqlClient, TransactionConnection } from "@effect/sql/SqlClient"
import { Duration, Effect, type Scope } from "effect"
import type { Options } from "../PgStore.js"
import * as Changes from "./changes.js"
import * as ClockSkew from "./clockSkew.js"
import { storeError } from "./errors.js"
import { migrate } from "./migrations.js"
import { cancel } from "./sql/cancel.js"
import { claim } from "./sql/claim.js"
import { complete } from "./sql/complete.js"
import { insertRuns } from "./sql/enqueue.js"
import { fire } from "./sql/fire.js"
import { heartbeat, reapExpired } from "./sql/leases.js"
import * as Queries from "./sql/queries.js"
import { pruneHistory } from "./sql/prune.js"
import * as Statistics from "./sql/statistics.js"
import * as Schedules from "./sql/schedules.js"
import * as Workers from "./sql/workers.js"
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
}

export const tables = (sql: SqlClient, options: Options | undefined) =>
  Effect.gen(function*() {
    const schema = options?.schema ?? defaultSchema
    const invalid = Tables.invalidSchema(schema)
    if (invalid !== undefined) return yield* new StoreError({ operation: "make", message: invalid })
    // the app's client may transform names (camelCase); the store's SQL is written for the columns as they are
    return Tables.make(sql.withoutTransforms(), schema)
  })

export const migrateOnly = (sql: SqlClient, options: Options | undefined) =>
  Effect.flatMap(tables(sql, options), migrate)

export const make = (driver: Driver, options: Options | undefined): Effect.Effect<JobStore, StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const t = yield* tables(driver.sql, options)
    if (options?.migrate !== false) yield* migrate(t)
    if (driver.checkClock === true) {
      yield* ClockSkew.check(t, Duration.decode(options?.maxClockSkew ?? "1 second")).pipe(
        Effect.catchAll((error) => Effect.logWarning("clockwork: could not compare clocks with the database", error))
      )
    }
    const feed = yield* Changes.make(t, driver.listen, Duration.decode(options?.pollInterval ?? driver.pollInterval))
    const refreshStatistics = yield* Statistics.refresher(t)

    const store: JobStore = {
      upsertSchedule: (input) => storeError("upsertSchedule")(Schedules.upsert(t, input)),
      getSchedule: (id) => storeError("getSchedule")(Schedules.get(t, id)),
      listSchedules: storeError("listSchedules")(Schedules.list(t)),
      setPaused: (id, paused, nextFireAt, now) =>
        storeError("setPaused")(Schedules.setPaused(t, id, paused, nextFireAt, now)),
      removeSchedule: (id) => storeError("removeSchedule")(Schedules.remove(t, id)),
      dueSchedules: (now, limit) => storeError("dueSchedules")(Schedules.due(t, now, limit)),
      fire: (tick) => storeError("fire")(fire(t, tick)),
      nextFireAt: storeError("nextFireAt")(Schedules.nextFireAt(t)),

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
          return storeError("enqueue")(insert).pipe(
            // not from inside the app's transaction: the analyze would run on its connection
            Effect.tap(() => local ? Effect.zipRight(feed.local("runs"), refreshStatistics(runs.length)) : Effect.void)
          )
        }),
      claim: (request) => storeError("claim")(claim(t, request)),
      nextRunAt: (after) => storeError("nextRunAt")(Queries.nextRunAt(t, after)),
      complete: (outcomes) => storeError("complete")(complete(t, outcomes)),
      cancel: (runId, now) => storeError("cancel")(cancel(t, runId, now)),
      heartbeat: (workerId, runIds, leaseUntil) =>
        storeError("heartbeat")(heartbeat(t, workerId, runIds, leaseUntil)),
      reapExpired: (now) => storeError("reapExpired")(Effect.zipLeft(reapExpired(t, now), Workers.reap(t, now))),
      getRun: (runId) => storeError("getRun")(Queries.getRun(t, runId)),
      listRuns: (query) => storeError("listRuns")(Queries.listRuns(t, query)),
      queueDepth: (now) => storeError("queueDepth")(Queries.queueDepth(t, now)),

      history: (query) => storeError("history")(Queries.history(t, query)),
      pruneHistory: (before) => storeError("pruneHistory")(pruneHistory(t, before)),

      workerBeat: (worker) => storeError("workerBeat")(Workers.beat(t, worker)),
      removeWorker: (id) => storeError("removeWorker")(Workers.remove(t, id)),
      listWorkers: (now) => storeError("listWorkers")(Workers.list(t, now)),

      changes: feed.subscribe
    }
    return store
  })
