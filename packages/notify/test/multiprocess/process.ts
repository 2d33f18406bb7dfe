/**
 * A process for the multi-process test:
 *
 *   node --import tsx --conditions=source process.ts notifier <schema> <smtpPort> <id>
 *   node --import tsx --conditions=source process.ts worker <schema> <id>
 *
 * A notifier ("ops", lease 2 s) mails through the SMTP server at 127.0.0.1:<smtpPort>;
 * a worker runs `scrape`, which always fails (no retry). Prints `ready` when
 * its layers are built, and runs until killed.
 */
import { Clockwork, Events, Scheduler } from "@clockwork/core"
import { PgStore } from "@clockwork/pg"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer } from "effect"
import { DeliveryStore, Email, Notify } from "../../src/index.js"
import { scrape } from "./jobs.js"

const [role, schema, ...args] = process.argv.slice(2)
if (schema === undefined) throw new Error("usage: process.ts notifier|worker <schema> ...")

const Pg = PgClient.layerConfig({ url: Config.redacted("DATABASE_URL"), ...PgStore.clientConfig })
const Store = PgStore.layer({ schema, migrate: false, pollInterval: "200 millis" }).pipe(Layer.provideMerge(Pg))
const ready = Layer.effectDiscard(Effect.sync(() => process.stdout.write("ready\n")))

const notifier = () => {
  const [port, id] = args
  return Notify.layer({
    name: "ops",
    channels: [Email.Email],
    startAt: "start", // the schema is new: every failure is the test's
    lease: "2 seconds",
    sendTimeout: "2 seconds",
    backoff: "1 second"
  }).pipe(
    Layer.provide(Email.layer({ host: "127.0.0.1", port: Number(port), from: `notifier-${id}@example.com`, to: "ops@example.com" })),
    Layer.provide(DeliveryStore.layerSql({ schema })),
    Layer.provide(Scheduler.layer),
    Layer.provide(Events.layer),
    Layer.provide(Store),
    Layer.merge(ready)
  )
}

const worker = () =>
  Clockwork.layerWorker([scrape], { runner: { workerId: args[0] ?? "w" } }).pipe(
    Layer.provide(Store),
    Layer.merge(ready)
  )

const main: Effect.Effect<never, unknown> = role === "notifier" ? Layer.launch(notifier()) : Layer.launch(worker())

Effect.runFork(main).addObserver((exit) => {
  if (exit._tag === "Failure") process.stderr.write(`${String(exit.cause)}\n`)
  process.exit(exit._tag === "Success" ? 0 : 1)
})
