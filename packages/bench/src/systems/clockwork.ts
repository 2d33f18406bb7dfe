/**
 * clockwork: enqueues through the `Scheduler`, and a worker that is the
 * whole app layer (`Clockwork.layer`: runner, ticker and reaper). On
 * PostgreSQL (`PgStore` on an `@effect/sql-pg` pool) or embedded
 * (`PgliteStore` on an in-memory PGlite).
 */
import { Clockwork, Events, Job, JobStore, Scheduler, Trigger } from "@clockwork/core"
import { PgliteClient, PgliteStore, PgStore } from "@clockwork/pg"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Layer, ManagedRuntime, Redacted, Schema, Scope } from "effect"
import * as Db from "../db.js"
import * as SqlStats from "../sqlStats.js"
import { type Connection, cronExpression, type OnRun, type System, timeZones } from "../system.js"

/** Runner settings: how many runs at once, and how many one claim takes. */
export interface RunnerSettings {
  readonly concurrency: number
  readonly batchSize: number
}

/** No-op jobs finish at once, so large claims pay off; 500 a claim, as graphile-worker's local queue. */
export const defaultRunner: RunnerSettings = { concurrency: 1000, batchSize: 500 }

const poolSize = 10

/**
 * How the registration scenario registers schedules: `Scheduler.schedule`
 * once per schedule, in sequence, or all in one `Scheduler.scheduleMany`.
 */
export type Registration = "one by one" | "scheduleMany"

/** clockwork, with what only clockwork has: schedules registered under stable ids. */
export interface ClockworkSystem extends System {
  /**
   * registers `count` daily cron schedules of the no-op job, ids `tenant-<n>`, payload `{ i: n }`:
   * the same definitions each time, so a second call changes nothing
   */
  readonly registerSchedules: (count: number, how: Registration) => Promise<void>
}

/** clockwork on PostgreSQL, in its own schema; with `sqlStats`, every statement is timed (see sqlStats.ts). */
export const make = (
  connection: Connection,
  runner: RunnerSettings = defaultRunner,
  sqlStats = false
): ClockworkSystem => {
  const schema = `${connection.schemaPrefix}clockwork`
  return makeOn(
    schema,
    async () => {
      const admin = Db.connect(connection.url)
      await Db.dropSchema(admin, schema).finally(() => admin.end())
    },
    (schema) =>
      PgStore.layer({ schema }).pipe(
        Layer.provideMerge(PgClient.layer({ url: Redacted.make(connection.url), maxConnections: poolSize })),
        Layer.provideMerge(sqlStats ? SqlStats.layer : Layer.empty)
      ),
    runner,
    `PgStore on @effect/sql-pg (pool of ${poolSize}); Clockwork.layer, runner concurrency ${runner.concurrency}, ` +
      `batchSize ${runner.batchSize}; LISTEN/NOTIFY with the default 2 s poll`
  )
}

/** clockwork on PGlite in memory (no server). */
export const makeEmbedded = (runner: RunnerSettings = defaultRunner): ClockworkSystem =>
  makeOn(
    "clockwork",
    async () => {},
    (schema) => PgliteStore.layerClient({ schema }).pipe(Layer.provideMerge(PgliteClient.layer({}))),
    runner,
    `PgliteStore on an in-memory PGlite; Clockwork.layer, runner concurrency ${runner.concurrency}, ` +
      `batchSize ${runner.batchSize}`
  )

/** A tenant's daily report: a fixed minute and hour in one of a few time zones, so every registration is the same. */
const tenantSchedule = (n: number) => {
  const timeZone = timeZones[n % timeZones.length]!
  return { trigger: Trigger.cron(`${n % 60} ${n % 24} * * *`, { timeZone }), payload: { i: n } }
}

const makeOn = <E>(
  schema: string,
  /** runs before the store is built (and migrates): drops what an earlier run left */
  dropSchema: () => Promise<void>,
  storeOn: (schema: string) => Layer.Layer<JobStore.JobStore | SqlClient.SqlClient, E>,
  runner: RunnerSettings,
  settings: string
): ClockworkSystem => {
  let onRun: OnRun = () => {}
  const noop = Job.make({
    name: "noop",
    payload: Schema.Struct({ i: Schema.Number }),
    run: ({ i }) => Effect.sync(() => onRun(i))
  })

  const runtime = ManagedRuntime.make(
    Scheduler.layer.pipe(Layer.provideMerge(Events.layer), Layer.provideMerge(storeOn(schema)))
  )
  const run = <A, X>(effect: Effect.Effect<A, X, Scheduler.Scheduler | SqlClient.SqlClient>) =>
    runtime.runPromise(effect)
  const sql = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) => run(Effect.flatMap(SqlClient.SqlClient, f))

  return {
    name: "clockwork",
    schema,
    settings,
    install: async () => {
      await dropSchema()
      await run(Effect.void) // builds the store, which migrates the schema
    },
    empty: () =>
      sql((sql) =>
        sql`truncate ${sql(`${schema}.runs`)}, ${sql(`${schema}.run_history`)}, ${sql(`${schema}.schedules`)}, ${
          sql(`${schema}.schedule_changes`)
        }`
      )
        .then(() => undefined),
    enqueueMany: (payloads, at) =>
      run(Effect.asVoid(Scheduler.enqueueMany(noop, payloads.map((i) => ({ i })), at === undefined ? undefined : { at }))),
    enqueue: (i, at) => run(Effect.asVoid(Scheduler.enqueue(noop, { i }, at === undefined ? undefined : { at }))),
    // in batches of 10,000 through scheduleMany, as an app registering many schedules would
    storeCronSchedules: (count) =>
      run(Effect.forEach(
        Array.from({ length: Math.ceil(count / 10_000) }, (_, batch) => batch * 10_000),
        (from) =>
          Scheduler.scheduleMany(
            noop,
            Array.from({ length: Math.min(10_000, count - from) }, (_, k) => {
              const n = from + k
              const timeZone = timeZones[n % timeZones.length]!
              return {
                id: `cron-${n}`,
                trigger: Trigger.cron(cronExpression(n, timeZone), { timeZone }),
                payload: { i: n }
              }
            })
          ),
        { discard: true }
      )),
    registerSchedules: (count, how) => {
      const tenants = Array.from({ length: count }, (_, n) => n)
      return run(
        how === "scheduleMany"
          ? Effect.asVoid(Scheduler.scheduleMany(noop, tenants.map((n) => ({ id: `tenant-${n}`, ...tenantSchedule(n) }))))
          : Effect.forEach(tenants, (n) => Scheduler.schedule(`tenant-${n}`, noop, tenantSchedule(n)), { discard: true })
      )
    },
    startWorker: async (callback) => {
      onRun = callback
      const scope = await runtime.runPromise(Scope.make())
      await runtime.runPromise(Layer.buildWithScope(Clockwork.layer([noop], { runner }), scope))
      return {
        stop: async () => {
          await runtime.runPromise(Scope.close(scope, Exit.void))
          onRun = () => {}
        }
      }
    },
    busy: () =>
      sql((sql) =>
        sql<{ readonly found: boolean }>`select exists (
          select 1 from ${sql(`${schema}.runs`)} where state in ('queued', 'running')
        ) as found`
      ).then((rows) => rows[0]?.found === true),
    close: () => runtime.dispose()
  }
}

