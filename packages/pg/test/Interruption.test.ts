/**
 * A store statement, once sent, runs to its end: interrupting a store call
 * must never reach PostgreSQL as `pg_cancel_backend`, which lands on whatever
 * the connection runs by the time it arrives.
 */
import type { JobStore } from "@clockwork/core"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Random, Redacted } from "effect"
import Pg from "pg"
import { PgStore } from "../src/index.js"
import { client, dropOnClose, freshSchema, hasDatabase, url } from "./utils.js"

const t0 = Date.UTC(2026, 0, 1)

const runs = (n: number): Array<JobStore.NewRun> =>
  Array.from({ length: n }, (_, i) => ({ jobName: "noop", payload: { i }, runAt: t0, scheduledFor: t0 }))

/**
 * A pool of two connections, so an interrupted call's connection is at once
 * another call's, and the number of `pg_cancel_backend` queries sent through
 * it (@effect/sql-pg sends them with `pool.query`).
 */
const watchedPool = Effect.gen(function*() {
  const counts = { cancels: 0 }
  const context = yield* Layer.build(PgClient.layerFromPool({
    acquire: Effect.acquireRelease(
      Effect.map(url, (url) => {
        const pool = new Pg.Pool({ connectionString: Redacted.value(url), max: 2 })
        const query = pool.query.bind(pool) as (...args: Array<unknown>) => unknown
        Object.assign(pool, {
          query: (...args: Array<unknown>) => {
            if (String(args[0]).includes("pg_cancel_backend")) counts.cancels++
            return query(...args)
          }
        })
        return pool
      }).pipe(Effect.orDie),
      (pool) => Effect.promise(() => pool.end())
    )
  }))
  return { context, counts }
})

describe.runIf(hasDatabase)("PgStore under interruption", () => {
  it.scopedLive("interrupting store calls sends no cancel, and cancels no statement of another call", () =>
    Effect.gen(function*() {
      const { context, counts } = yield* watchedPool
      const schema = freshSchema()
      yield* dropOnClose(schema).pipe(Effect.provide(context))
      const store = yield* PgStore.make({ schema, pollInterval: 0 }).pipe(Effect.provide(context))
      yield* store.enqueue(runs(2_000), t0)

      const failures: Array<string> = []
      let calls = 0
      // bystanders: reads and writes that are never interrupted, and must all succeed
      const bystander = (n: number) =>
        Effect.gen(function*() {
          for (let i = 0; i < n; i++) {
            const call: Effect.Effect<unknown, JobStore.StoreError> = i % 3 === 0
              ? store.enqueue(runs(20), t0)
              : i % 3 === 1
              ? store.listRuns({ limit: 1_000 })
              : store.claim({ now: t0 - 1, limit: 0, workerId: "w", leaseMs: 60_000 })
            yield* call.pipe(Effect.catchAll((error) => Effect.sync(() => failures.push(error.message))))
            calls++
          }
        })
      // victims: the same calls, interrupted a few milliseconds in, while their statements run
      const victim = Effect.gen(function*() {
        const call: Effect.Effect<unknown, JobStore.StoreError> = (yield* Random.nextBoolean)
          ? store.listRuns({ limit: 1_000 })
          : store.enqueue(runs(50), t0)
        const fiber = yield* Effect.fork(call)
        yield* Effect.sleep(`${yield* Random.nextIntBetween(1, 10)} millis`)
        yield* Fiber.interrupt(fiber)
      })
      yield* Effect.all([
        bystander(150),
        bystander(150),
        Effect.forEach(Array.from({ length: 200 }), () => victim, { concurrency: 2, discard: true })
      ], { concurrency: "unbounded", discard: true })

      expect(calls).toBe(300)
      expect(counts.cancels).toBe(0)
      expect(failures).toEqual([])
    }), 120_000)

  it.scopedLive("an interrupted call's statement, once sent, runs to its end", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(client)
      const schema = freshSchema()
      yield* dropOnClose(schema).pipe(Effect.provide(context))
      const store = yield* PgStore.make({ schema, pollInterval: 0 }).pipe(Effect.provide(context))
      const fiber = yield* Effect.fork(store.enqueue(runs(5_000), t0))
      yield* Effect.sleep("20 millis")
      // the caller is let go at once, long before its statement ends
      const started = Date.now()
      yield* Fiber.interrupt(fiber)
      expect(Date.now() - started).toBeLessThan(100)
      const queued = Effect.map(store.listRuns({ limit: 10_000 }), (runs) => runs.length)
      while ((yield* queued) < 5_000) yield* Effect.sleep("50 millis")
      expect(yield* queued).toBe(5_000)
    }).pipe(Effect.timeout("30 seconds")), 60_000)
})
