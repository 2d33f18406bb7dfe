/**
 * A clockwork process for the multi-process tests:
 *
 *   node --import tsx --conditions=source process.ts worker <schema> <workerId> <concurrency> <leaseMs>
 *     [--jobs=a,b] (register only these jobs) [--watchdog=<ms>] (kill the process when its loop blocks)
 *   node --import tsx --conditions=source process.ts scheduler <schema> [cron]
 *   node --import tsx --conditions=source process.ts consumer <schema> <name> <consumerId> [--pause=<ms>]
 *     (a feed consumer that writes each entry to `<schema>.consumed`, pausing that long after each)
 *
 * Prints `ready` when its layers are built, and runs until killed (SIGTERM
 * shuts down gracefully). Its client is the documented one (with
 * `PgStore.clientConfig`); CLOCKWORK_STATEMENT_TIMEOUT and
 * CLOCKWORK_SHUTDOWN_GRACE (durations, e.g. "1500 millis") set the store's
 * `statementTimeout` and the runner's `shutdownGrace`.
 */
import { Clockwork, Events, type Feed, Scheduler, Trigger } from "@clockwork/core"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Watchdog } from "@clockwork/node"
import { Config, Duration, Effect, Fiber, Layer, Option } from "effect"
import { PgStore } from "../../src/index.js"
import { jobs } from "./jobs.js"

const [role, schema, ...rest] = process.argv.slice(2)
const args = rest.filter((arg) => !arg.startsWith("--"))
const flag = (name: string) => rest.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
if (schema === undefined) throw new Error("usage: process.ts worker|scheduler <schema> ...")

// the application name lets a test find this process's connections in pg_stat_activity
const Pg = PgClient.layerConfig({
  url: Config.redacted("DATABASE_URL"),
  applicationName: Config.succeed(`clockwork-${role}-${schema}`),
  ...PgStore.clientConfig
})
const setting = (name: string) => Effect.runSync(Config.option(Config.duration(name)).pipe(Effect.map(Option.getOrUndefined)))
const statementTimeout = setting("CLOCKWORK_STATEMENT_TIMEOUT")
const shutdownGrace = setting("CLOCKWORK_SHUTDOWN_GRACE")
const Store = PgStore.layer({ schema, migrate: false, statementTimeout }).pipe(Layer.provideMerge(Pg))
const ready = Effect.sync(() => process.stdout.write("ready\n"))

const worker = () => {
  const [workerId = "w", concurrency = "4", leaseMs = "3000"] = args
  const only = flag("jobs")?.split(",")
  const registered = jobs(schema, workerId).filter((job) => only === undefined || only.includes(job.name))
  const watchdog = flag("watchdog")
  return Layer.launch(
    Layer.mergeAll(
      Clockwork.layerWorker(registered, {
        runner: {
          workerId,
          concurrency: Number(concurrency),
          lease: Duration.millis(Number(leaseMs)),
          ...(shutdownGrace === undefined ? {} : { shutdownGrace })
        }
      }),
      Clockwork.layerReaper({ interval: "1 second" }),
      watchdog === undefined ? Layer.empty : Watchdog.layer({ maxBlocked: `${Number(watchdog)} millis` }),
      Layer.effectDiscard(ready)
    ).pipe(Layer.provideMerge(Store))
  )
}

const scheduler = () => {
  const [cron] = args
  const [, , tick] = jobs(schema, "scheduler")
  const register = cron === undefined ? Effect.void : Effect.gen(function*() {
    const trigger = yield* Trigger.cron(cron)
    yield* Scheduler.schedule("tick", tick, { trigger, payload: {} })
  })
  return Layer.launch(
    Layer.effectDiscard(Effect.zipRight(register, ready)).pipe(
      Layer.provideMerge(Clockwork.layerScheduler({ reaper: { interval: "1 second" } })),
      Layer.provideMerge(Store)
    )
  )
}

// each entry is written as it is handled, so a consumer killed mid-batch leaves the entries it got to
const consumer = () => {
  const [name = "audit", consumerId = "c"] = args
  const pause = Number(flag("pause") ?? "0")
  const handle = (entries: ReadonlyArray<Feed.FeedEntry>) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.forEach(entries, (entry) =>
        Effect.zipRight(
          sql`insert into ${sql(schema)}.consumed (consumer, cursor, run_id)
            values (${consumerId}, ${entry.cursor}, ${entry._tag === "Attempt" ? entry.record.runId : null})`,
          Effect.sleep(pause)
        ), { discard: true })).pipe(Effect.orDie)
  return Effect.zipRight(
    ready,
    Scheduler.consume({ name, startAt: "start", batchSize: 10, lease: "3 seconds", pollInterval: "200 millis" }, handle)
  ).pipe(Effect.provide(Scheduler.layer.pipe(Layer.provideMerge(Events.layer), Layer.provideMerge(Store))))
}

const app: Effect.Effect<never, unknown> = role === "worker" ? worker() : role === "consumer" ? consumer() : scheduler()
const fiber = Effect.runFork(app)
fiber.addObserver((exit) => {
  if (exit._tag === "Failure") process.stderr.write(`${String(exit.cause)}\n`)
  process.exit(exit._tag === "Success" ? 0 : 1)
})
// SIGTERM: interrupt the app, so the runner and its layers shut down gracefully
process.once("SIGTERM", () => Effect.runFork(Fiber.interrupt(fiber)))
