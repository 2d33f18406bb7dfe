/**
 * The listener store's rules, specified once and run on each store: memory,
 * PGlite and PostgreSQL (when DATABASE_URL is set).
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Option } from "effect"
import { ListenerStore } from "../src/index.js"
import { dropOnClose, freshSchema, hasDatabase, pgClient, sharedPgliteClient, useSharedPglite } from "./utils.js"

const lease = (owner: string, now: number, until = now + 1000) => ({ name: "reviews", owner, now, until })

const suite = (name: string, store: () => Layer.Layer<ListenerStore.ListenerStore, unknown>) =>
  describe(name, () => {
    const provide = <A, E>(effect: Effect.Effect<A, E, ListenerStore.ListenerStore>) =>
      Effect.provide(effect, store())

    it.scoped("acquire creates the row with the initial params and takes the lease", () =>
      provide(Effect.gen(function*() {
        const s = yield* ListenerStore.ListenerStore
        expect(Option.isNone(yield* s.get("reviews"))).toBe(true)
        const state = Option.getOrThrow(yield* s.acquire(lease("a", 1000), { batch_id: 0 }))
        expect(state.params).toEqual({ batch_id: 0 })
        expect(state.owner).toBe("a")
        expect(DateTime.toEpochMillis(state.leaseUntil!)).toBe(2000)
        expect([state.version, state.ticks, state.stopped]).toEqual([0, 0, false])
        expect(DateTime.toEpochMillis(state.createdAt)).toBe(1000)
        // the stored params win over the initial ones from then on
        const again = Option.getOrThrow(yield* s.acquire(lease("a", 1500), { batch_id: 99 }))
        expect(again.params).toEqual({ batch_id: 0 })
      })))

    it.scoped("one owner at a time: another takes the lease only once it expired, and the first is fenced out", () =>
      provide(Effect.gen(function*() {
        const s = yield* ListenerStore.ListenerStore
        yield* s.acquire(lease("a", 1000), { batch_id: 0 })
        expect(Option.isNone(yield* s.acquire(lease("b", 1999), { batch_id: 0 }))).toBe(true)
        expect(yield* s.renew(lease("b", 1999))).toBe(false)
        expect(yield* s.renew(lease("a", 1999, 3000))).toBe(true)
        expect(Option.isNone(yield* s.acquire(lease("b", 2500), { batch_id: 0 }))).toBe(true)
        const taken = yield* s.acquire(lease("b", 3000), { batch_id: 0 })
        expect(Option.getOrThrow(taken).owner).toBe("b")
        // a write of the old owner changes nothing
        expect(Option.isNone(yield* s.recordTick({ ...lease("a", 3001), outcome: "skipped" }))).toBe(true)
        expect(yield* s.renew(lease("a", 3001))).toBe(false)
        expect(Option.getOrThrow(yield* s.get("reviews")).ticks).toBe(0)
      })))

    it.scoped("release frees the lease at once, only for its owner", () =>
      provide(Effect.gen(function*() {
        const s = yield* ListenerStore.ListenerStore
        yield* s.acquire(lease("a", 1000), { batch_id: 0 })
        yield* s.release("reviews", "b")
        expect(Option.isNone(yield* s.acquire(lease("b", 1001), { batch_id: 0 }))).toBe(true)
        yield* s.release("reviews", "a")
        expect(Option.getOrThrow(yield* s.get("reviews")).owner).toBeUndefined()
        expect(Option.isSome(yield* s.acquire(lease("b", 1002), { batch_id: 0 }))).toBe(true)
      })))

    it.scoped("recordTick counts ticks, stores params after a success, and renews the lease", () =>
      provide(Effect.gen(function*() {
        const s = yield* ListenerStore.ListenerStore
        yield* s.acquire(lease("a", 1000), { batch_id: 0 })
        const tick = (record: ListenerStore.TickRecord) => Effect.map(s.recordTick(record), Option.getOrThrow)
        yield* tick({ ...lease("a", 1100), outcome: "skipped" })
        const failed = yield* tick({ ...lease("a", 1200), outcome: "failed", runId: "r1", error: "Error: boom" })
        expect([failed.failed, failed.consecutiveFailures, failed.lastRunId, failed.lastError]).toEqual([
          1,
          1,
          "r1",
          "Error: boom"
        ])
        const failedAgain = yield* tick({ ...lease("a", 1300), outcome: "failed", runId: undefined, error: "x" })
        expect([failedAgain.consecutiveFailures, failedAgain.lastRunId]).toEqual([2, "r1"])
        const ok = yield* tick({ ...lease("a", 1400, 9000), outcome: "succeeded", params: { batch_id: 1 }, runId: "r2" })
        expect(ok.params).toEqual({ batch_id: 1 })
        expect([ok.version, ok.ticks, ok.skipped, ok.succeeded, ok.failed, ok.consecutiveFailures]).toEqual([
          1,
          4,
          1,
          1,
          2,
          0
        ])
        expect([ok.lastRunId, ok.lastError]).toEqual(["r2", undefined])
        expect(DateTime.toEpochMillis(ok.lastTickAt!)).toBe(1400)
        expect(DateTime.toEpochMillis(ok.leaseUntil!)).toBe(9000)
        expect(Option.getOrThrow(yield* s.get("reviews")).params).toEqual({ batch_id: 1 })
      })))

    it.scoped("a stopped listener is acquired by no one and renewed by no one; resuming clears its streak", () =>
      provide(Effect.gen(function*() {
        const s = yield* ListenerStore.ListenerStore
        yield* s.acquire(lease("a", 1000), { batch_id: 0 })
        yield* s.recordTick({ ...lease("a", 1100), outcome: "failed", runId: undefined, error: "x" })
        const stopped = yield* s.setStopped("reviews", true, 1200, { batch_id: 0 })
        expect([stopped.stopped, stopped.consecutiveFailures]).toEqual([true, 1])
        expect(yield* s.renew(lease("a", 1300))).toBe(false)
        expect(Option.isNone(yield* s.acquire(lease("a", 1300), { batch_id: 0 }))).toBe(true)
        expect(Option.isNone(yield* s.acquire(lease("b", 5000), { batch_id: 0 }))).toBe(true)
        const resumed = yield* s.setStopped("reviews", false, 5100, { batch_id: 0 })
        expect([resumed.stopped, resumed.consecutiveFailures, resumed.failed]).toEqual([false, 0, 1])
        expect(Option.getOrThrow(yield* s.acquire(lease("b", 5200), { batch_id: 0 })).owner).toBe("b")
      })))

    it.scoped("setStopped creates the row of a listener that never ran", () =>
      provide(Effect.gen(function*() {
        const s = yield* ListenerStore.ListenerStore
        const state = yield* s.setStopped("reviews", true, 1000, { batch_id: 7 })
        expect([state.stopped, state.params, state.ticks]).toEqual([true, { batch_id: 7 }, 0])
      })))
  })

suite("ListenerStore.layerMemory", () => ListenerStore.layerMemory)

describe("ListenerStore.layerSql on PGlite", () => {
  useSharedPglite()
  suite("the rules", () =>
    Layer.unwrapScoped(Effect.gen(function*() {
      const schema = freshSchema()
      yield* dropOnClose(schema)
      return ListenerStore.layerSql({ schema })
    })).pipe(Layer.provide(sharedPgliteClient)))

  it.effect("an invalid schema name fails with ListenerStoreError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ListenerStore.makeSql({ schema: "Bad-Name" }))
      expect(error._tag).toBe("ListenerStoreError")
      expect(error.message).toContain(`schema "Bad-Name"`)
    }).pipe(Effect.provide(sharedPgliteClient)))
})

describe.runIf(hasDatabase)("ListenerStore.layerSql on PostgreSQL", () => {
  suite("the rules", () =>
    Layer.unwrapScoped(Effect.gen(function*() {
      const schema = freshSchema()
      yield* dropOnClose(schema)
      return ListenerStore.layerSql({ schema })
    })).pipe(Layer.provide(pgClient)))

  it.effect("the table is created once when many stores start at once", () =>
    Effect.gen(function*() {
      const schema = freshSchema()
      yield* dropOnClose(schema)
      const stores = yield* Effect.all(
        Array.from({ length: 6 }, () => ListenerStore.makeSql({ schema })),
        { concurrency: "unbounded" }
      )
      const state = yield* stores[0]!.acquire(lease("a", 1000), { batch_id: 0 })
      expect(Option.isSome(state)).toBe(true)
      expect(Option.isSome(yield* stores[5]!.get("reviews"))).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(pgClient)))
})
