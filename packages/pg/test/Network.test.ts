/**
 * The store on a network path that goes silent (sockets open, nothing
 * forwarded, no error): through the TCP proxy of test/support, frozen.
 */
import type { JobStore } from "@clockwork/core"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Config, Effect, Exit, Layer, Logger, Queue, Redacted } from "effect"
import { PgStore } from "../src/index.js"
import * as Proxy from "./support/proxy.js"
import { client, dropOnClose, freshSchema, hasDatabase } from "./utils.js"

const t0 = Date.UTC(2026, 0, 1)
const newRun: JobStore.NewRun = { jobName: "noop", payload: {}, runAt: t0, scheduledFor: t0 }

/** Log lines at info level and above, as "LEVEL message", with when they were logged. */
const captureLogs = (lines: Array<{ readonly at: number; readonly line: string }>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push({ at: Date.now(), line: `${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}` })
    })
  )

/** Polls `check` every 100 ms until it holds; fails after `seconds`. */
const until = (what: string, check: () => boolean, seconds: number) =>
  Effect.gen(function*() {
    while (!check()) yield* Effect.sleep("100 millis")
  }).pipe(Effect.timeoutFail({ duration: `${seconds} seconds`, onTimeout: () => new Error(`timed out waiting for ${what}`) }))

/**
 * A store in a fresh schema whose connections go through a proxy (statementTimeout 1 s, no poll), and
 * what it logs.
 */
const behindProxy = Effect.gen(function*() {
  const server = new URL(process.env.DATABASE_URL!)
  const proxy = yield* Proxy.make({ host: server.hostname, port: Number(server.port || 5432) })
  const schema = freshSchema()
  yield* dropOnClose(schema).pipe(Effect.provide(yield* Layer.build(client)))
  const lines: Array<{ readonly at: number; readonly line: string }> = []
  const said = (text: string) => lines.filter(({ line }) => line.includes(text))
  const context = yield* Layer.build(PgClient.layerConfig({
    url: Config.succeed(Redacted.make(proxy.via(server.toString()))),
    ...PgStore.clientConfig
  }))
  const store = yield* PgStore.make({ schema, statementTimeout: "1 second", pollInterval: 0 }).pipe(
    Effect.provide(context),
    Effect.provide(captureLogs(lines))
  )
  return { proxy, schema, said, store }
})

describe.runIf(hasDatabase)("PgStore on a path that goes silent", () => {
  it.scopedLive("a call fails after statementTimeout, LISTEN is replaced within twice that, and both come back on thaw", () =>
    Effect.gen(function*() {
      const { proxy, said, schema, store } = yield* behindProxy
      const writer = yield* PgStore.make({ schema, migrate: false, pollInterval: 0 }).pipe(
        Effect.provide(yield* Layer.build(client))
      )
      const changes = yield* store.changes
      yield* store.enqueue([newRun], t0)

      yield* proxy.freeze
      const frozenAt = Date.now()
      const exit = yield* Effect.exit(store.listRuns({}))
      const waited = Date.now() - frozenAt
      expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({
        _tag: "StoreError",
        operation: "listRuns",
        message: "the database did not answer within 1s (the statement was not cancelled and may still complete)"
      })
      expect(waited).toBeGreaterThanOrEqual(900)
      expect(waited).toBeLessThan(5_000)
      // the LISTEN connection is asked a query every second and must answer within one
      yield* until("LISTEN to be given up", () => said("lost its connection").length > 0, 10)
      const noticed = said("lost its connection")[0]!.at - frozenAt
      console.log(`a silent LISTEN connection noticed after ${noticed} ms (statementTimeout 1 s)`)
      expect(noticed).toBeLessThan(5_000)

      yield* proxy.thaw
      expect((yield* store.listRuns({})).length).toBe(1)
      yield* until("LISTEN to be back", () => said("is back after").length > 0, 30)
      yield* Queue.takeAll(changes)
      yield* writer.enqueue([newRun], t0)
      expect(yield* Queue.take(changes).pipe(Effect.timeout("5 seconds"))).toBe("runs")
      expect(said("LISTEN").map(({ line }) => line.replace(/after .*$/, "after …"))).toEqual([
        `WARN clockwork: LISTEN clockwork:${schema} lost its connection; reconnecting, changes from other processes are heard when it is back`,
        `INFO clockwork: LISTEN clockwork:${schema} is back after …`
      ])
    }), 60_000)

  it.scopedLive("a LISTEN connection that takes seconds to open again is said to be back, and its next loss is said again", () =>
    Effect.gen(function*() {
      const { proxy, said, schema } = yield* behindProxy
      for (const round of [1, 2]) {
        // only the LISTEN connection goes silent: the store's other statements (its pings) get through
        yield* proxy.freezeWhere("(clockwork listen)")
        yield* until(`loss ${round} to be said`, () => said("lost its connection").length === round, 15)
        // the new LISTEN connection waits on the frozen path longer than its first pings take
        yield* Effect.sleep("7 seconds")
        yield* proxy.thaw
        yield* until(`LISTEN to be back (${round})`, () => said("is back after").length === round, 30)
      }
      expect(said("LISTEN").map(({ line }) => line.replace(/ (lost|is back) .*$/, " $1"))).toEqual([
        `WARN clockwork: LISTEN clockwork:${schema} lost`,
        `INFO clockwork: LISTEN clockwork:${schema} is back`,
        `WARN clockwork: LISTEN clockwork:${schema} lost`,
        `INFO clockwork: LISTEN clockwork:${schema} is back`
      ])
    }), 120_000)
})
