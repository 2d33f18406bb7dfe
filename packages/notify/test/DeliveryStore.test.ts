/**
 * The outbox's rules, once for each store: memory, PGlite, and PostgreSQL
 * when DATABASE_URL is set. Adding twice keeps the first record (a replayed
 * batch resends nothing delivered); a claim holds a delivery until it ends;
 * a failure reschedules or gives up.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { DeliveryStore } from "../src/index.js"
import { dropOnClose, freshSchema, hasDatabase, pgClient, sharedPgliteClient, useSharedPglite } from "./utils.js"

const alert = (id: string) => ({ id, kind: "run", occurrences: [], suppressed: 0, note: "<&>\"'\u00e9" })

const suite = (name: string, store: () => Layer.Layer<DeliveryStore.DeliveryStore, unknown>) =>
  describe(name, () => {
    it.scoped("records each (alert, channel) once; a replayed batch changes nothing", () =>
      Effect.gen(function*() {
        const s = yield* DeliveryStore.DeliveryStore
        yield* s.add("ops", [{ alertId: "a1", channel: "email", alert: alert("a1") }, { alertId: "a1", channel: "hook", alert: alert("a1") }], 1000)
        const claimed = yield* s.claim("ops", ["email", "hook"], 1000, 61_000, 10)
        expect(claimed.map((d) => [d.alertId, d.channel]).sort()).toEqual([["a1", "email"], ["a1", "hook"]])
        expect(claimed[0]!.alert).toEqual(alert("a1"))
        yield* s.delivered("ops", "a1", "email")
        yield* s.add("ops", [{ alertId: "a1", channel: "email", alert: alert("a1") }], 2000)
        const all = yield* s.list("ops")
        expect(all.map((d) => [d.channel, d.status, d.attempts]).sort()).toEqual([["email", "delivered", 1], ["hook", "pending", 0]])
        expect(yield* s.list("other")).toEqual([])
      }).pipe(Effect.provide(store())))

    it.scoped("a claim holds a delivery until it ends, for this notifier's channels only", () =>
      Effect.gen(function*() {
        const s = yield* DeliveryStore.DeliveryStore
        yield* s.add("ops", [{ alertId: "a", channel: "email", alert: alert("a") }, { alertId: "b", channel: "pager", alert: alert("b") }], 0)
        expect((yield* s.claim("ops", ["email"], 0, 30_000, 10)).map((d) => d.alertId)).toEqual(["a"])
        expect(yield* s.claim("ops", ["email"], 29_999, 60_000, 10)).toEqual([])
        expect((yield* s.claim("ops", ["email"], 30_000, 60_000, 10)).map((d) => d.alertId)).toEqual(["a"])
        expect(yield* s.claim("other", ["email", "pager"], 100_000, 200_000, 10)).toEqual([])
      }).pipe(Effect.provide(store())))

    it.scoped("a failure is retried at its time, or given up as undelivered", () =>
      Effect.gen(function*() {
        const s = yield* DeliveryStore.DeliveryStore
        yield* s.add("ops", [{ alertId: "a", channel: "email", alert: alert("a") }], 0)
        yield* s.claim("ops", ["email"], 0, 30_000, 10)
        yield* s.failed("ops", "a", "email", "451 try later", 10_000)
        expect(yield* s.claim("ops", ["email"], 9_999, 40_000, 10)).toEqual([])
        const again = yield* s.claim("ops", ["email"], 10_000, 40_000, 10)
        expect(again.map((d) => [d.attempts, d.lastError])).toEqual([[1, "451 try later"]])
        yield* s.failed("ops", "a", "email", "451 still", undefined)
        expect(yield* s.claim("ops", ["email"], 1_000_000, 2_000_000, 10)).toEqual([])
        expect((yield* s.list("ops")).map((d) => [d.status, d.attempts, d.lastError])).toEqual([["undelivered", 2, "451 still"]])
      }).pipe(Effect.provide(store())))

    pruneTest(store)
  })

const pruneTest = (store: () => Layer.Layer<DeliveryStore.DeliveryStore, unknown>) =>
  it.scoped("prunes the finished records raised before an instant, never a pending one", () =>
    Effect.gen(function*() {
      const s = yield* DeliveryStore.DeliveryStore
      yield* s.add("ops", [{ alertId: "old-done", channel: "email", alert: alert("a") }, { alertId: "old-given-up", channel: "email", alert: alert("b") }, { alertId: "old-pending", channel: "email", alert: alert("c") }], 1000)
      yield* s.add("ops", [{ alertId: "new-done", channel: "email", alert: alert("d") }], 5000)
      yield* s.add("other", [{ alertId: "old-done", channel: "email", alert: alert("a") }], 1000)
      yield* s.delivered("ops", "old-done", "email")
      yield* s.failed("ops", "old-given-up", "email", "refused", undefined)
      yield* s.delivered("ops", "new-done", "email")
      yield* s.delivered("other", "old-done", "email")
      expect(yield* s.prune("ops", 5000)).toBe(2)
      expect((yield* s.list("ops")).map((d) => [d.alertId, d.createdAt]).sort()).toEqual([["new-done", 5000], ["old-pending", 1000]])
      expect((yield* s.list("other")).length).toBe(1)
    }).pipe(Effect.provide(store())))

suite("DeliveryStore.layerMemory", () => DeliveryStore.layerMemory)

const sqlStore = (client: Layer.Layer<any, any>) => () => {
  const schema = freshSchema()
  return DeliveryStore.layerSql({ schema }).pipe(
    Layer.provideMerge(Layer.scopedDiscard(dropOnClose(schema))),
    Layer.provide(client)
  )
}

describe("PGlite", () => {
  useSharedPglite()
  suite("DeliveryStore.layerSql", sqlStore(sharedPgliteClient))
})

describe.runIf(hasDatabase)("PostgreSQL", () => {
  suite("DeliveryStore.layerSql", sqlStore(pgClient))

  it.scoped("processes claiming at once never take the same delivery", () =>
    Effect.gen(function*() {
      const schema = freshSchema()
      const stores = yield* Effect.all(
        // each with its own pool, as four processes would be
        Array.from({ length: 4 }, () =>
          Effect.map(Layer.build(DeliveryStore.layerSql({ schema }).pipe(Layer.provide(pgClient))), Context.get(DeliveryStore.DeliveryStore))),
        { concurrency: "unbounded" }
      )
      yield* Layer.build(Layer.scopedDiscard(dropOnClose(schema)).pipe(Layer.provide(pgClient)))
      yield* stores[0]!.add("ops", Array.from({ length: 40 }, (_, i) => ({ alertId: `a${i}`, channel: "email", alert: alert(`a${i}`) })), 0)
      const claims = yield* Effect.all(stores.map((s) => s.claim("ops", ["email"], 0, 60_000, 15)), { concurrency: "unbounded" })
      const ids = claims.flat().map((d) => d.alertId)
      expect(ids.length).toBe(40)
      expect(new Set(ids).size).toBe(40)
    }), 60_000)
})
