/**
 * An app process for the multi-process test:
 *
 *   node --import tsx --conditions=source process.ts <schema> <name>
 *
 * Runs the listener (and a runner for its job) on PostgreSQL, prints `ready`
 * when its layers are built and a line per tick it handles, and runs until
 * killed.
 */
import { Clockwork } from "@clockwork/core"
import { PgStore } from "@clockwork/pg"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, Stream } from "effect"
import { Listener, ListenerStore } from "../../src/index.js"
import { make } from "./listener.js"

const [schema, name] = process.argv.slice(2)
if (schema === undefined || name === undefined) throw new Error("usage: process.ts <schema> <name>")

const uberReviews = make(schema, name)

const Pg = PgClient.layerConfig({
  url: Config.redacted("DATABASE_URL"),
  applicationName: Config.succeed(`clockwork-listener-${name}-${schema}`)
})

const App = Listener.layer([uberReviews], { owner: name, lease: "2 seconds" }).pipe(
  Layer.provideMerge(
    Clockwork.layer([uberReviews.job], { runner: { workerId: name, lease: "2 seconds" }, reaper: { interval: "1 second" } })
  ),
  Layer.provideMerge(
    Layer.mergeAll(PgStore.layer({ schema, migrate: false, pollInterval: "200 millis" }), ListenerStore.layerSql({ schema }))
  ),
  Layer.provideMerge(Pg)
)

const main = Effect.gen(function*() {
  yield* Effect.forkScoped(
    Stream.runForEach(Listener.ticks(uberReviews), (tick) =>
      Effect.sync(() => {
        const line = tick._tag === "Succeeded"
          ? `stored batch ${tick.params.batch_id} -> ${tick.next.batch_id}`
          : `${tick._tag} ${tick.params.batch_id}`
        process.stdout.write(`${line}\n`)
      }))
  )
  yield* Effect.sync(() => process.stdout.write("ready\n"))
  return yield* Effect.never
}).pipe(Effect.scoped, Effect.provide(App))

Effect.runFork(main).addObserver((exit) => {
  if (exit._tag === "Failure") process.stderr.write(`${String(exit.cause)}\n`)
  process.exit(exit._tag === "Success" ? 0 : 1)
})
