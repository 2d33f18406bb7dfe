/**
 * Listeners on the memory stores under TestClock: the interval, conditions,
 * params carried from tick to tick, count-only listening, stop and resume,
 * failures, slow handlers and timeouts.
 */
import { Scheduler, Testing, Trigger } from "@clockwork/core"
import { assert, describe, expect, it } from "@effect/vitest"
import { Chunk, DateTime, Effect, Fiber, Layer, Logger, Option, Schedule, Schema, Stream } from "effect"
import { Listener, ListenerStore, MemorySource, Source } from "../src/index.js"

const Review = Schema.Struct({ id: Schema.Number, batchId: Schema.Number, text: Schema.String })
type Review = typeof Review.Type

const Params = Schema.Struct({ batch_id: Schema.Int })

/** `count` reviews in batch `batchId`, ids from `from`. */
const reviews = (batchId: number, count: number, from = batchId * 100): Array<Review> =>
  Array.from({ length: count }, (_, i) => ({ id: from + i, batchId, text: `review ${from + i}` }))

const inBatch = ({ batch_id }: { readonly batch_id: number }) => (review: Review) => review.batchId === batch_id

/** The app: the listeners' jobs on the testing app (memory job store), the memory listener store. */
const app = <const Ls extends ReadonlyArray<Listener.Any>>(listeners: Ls, options?: Listener.Options) =>
  Listener.layer(listeners, { owner: "test", ...options }).pipe(
    Layer.provideMerge(Testing.layer(listeners.map((listener) => listener.job))),
    Layer.provideMerge(ListenerStore.layerMemory)
  )

const seconds = (instant: DateTime.Utc) => DateTime.toEpochMillis(instant) / 1000

/** The listener's runs, oldest first. */
const runsOf = (name: string) => Effect.map(Scheduler.history({ jobName: name }), (runs) => runs.slice().reverse())

describe("Listener", () => {
  it.scoped("ticks every interval, from one interval after it starts", () => {
    const source = MemorySource.make(Review, reviews(0, 1))
    const listener = Listener.make({
      name: "every-3s",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "3 seconds",
      run: () => Effect.void
    })
    return Effect.gen(function*() {
      yield* Testing.advance("2.9 seconds")
      expect((yield* source.stats).searches).toBe(0)
      yield* Testing.advance("7.1 seconds")
      const runs = yield* runsOf("every-3s")
      expect(runs.map((run) => seconds(run.startedAt))).toEqual([3, 6, 9])
      expect(runs.map((run) => run.status)).toEqual(["succeeded", "succeeded", "succeeded"])
      expect((yield* Listener.status(listener)).state).toBe("running")
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("a quiet listener writes no history: two minutes of 3-second ticks that find nothing are only counted", () => {
    const source = MemorySource.make(Review)
    const listener = Listener.make({
      name: "quiet",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "3 seconds",
      run: () => Effect.void
    })
    return Effect.gen(function*() {
      yield* Testing.advance("2 minutes")
      expect(yield* Scheduler.history({ jobName: "quiet" })).toEqual([])
      const status = yield* Listener.status(listener)
      expect([status.ticks, status.skipped, status.succeeded]).toEqual([40, 40, 0])
      expect((yield* source.stats).searches).toBe(40)
    }).pipe(Effect.provide(app([listener])))
  }, 30_000)

  it.scoped("runs on a cron trigger's instants, and on any Schedule", () => {
    const source = MemorySource.make(Review, reviews(0, 1))
    const options = { source, params: Params, initialParams: { batch_id: 0 }, query: inBatch, run: () => Effect.void }
    const onCron = Listener.make({ ...options, name: "cron", every: Trigger.cron("*/20 * * * * *") })
    const onSchedule = Listener.make({ ...options, name: "schedule", every: Schedule.spaced("25 seconds") })
    return Effect.gen(function*() {
      yield* Testing.advance("61 seconds")
      expect((yield* runsOf("cron")).map((run) => seconds(run.startedAt))).toEqual([20, 40, 60])
      expect((yield* runsOf("schedule")).map((run) => seconds(run.startedAt))).toEqual([25, 50])
    }).pipe(Effect.provide(app([onCron, onSchedule])))
  })

  it.effect("a bad interval or a one-shot trigger fails the layer", () =>
    Effect.gen(function*() {
      const source = MemorySource.make(Review)
      const options = { source, params: Params, initialParams: { batch_id: 0 }, query: inBatch, run: () => Effect.void }
      const zero = yield* Effect.flip(Layer.build(app([Listener.make({ ...options, name: "zero", every: 0 })])).pipe(Effect.scoped))
      expect(zero._tag).toBe("InvalidInterval")
      const once = yield* Effect.flip(
        Layer.build(app([Listener.make({ ...options, name: "once", every: Trigger.now })])).pipe(Effect.scoped)
      )
      expect(once.message).toContain("a listener polls")
      const twice = yield* Effect.flip(
        Layer.build(
          Listener.layer([Listener.make({ ...options, name: "twin", every: "1 second" }), Listener.make({ ...options, name: "twin", every: "1 second" })])
            .pipe(Layer.provide(Testing.layer([])), Layer.provide(ListenerStore.layerMemory))
        ).pipe(Effect.scoped)
      )
      expect(twice._tag).toBe("DuplicateListenerName")
    }))

  it.scoped("a listener whose job the app's runner lacks fails the layer", () =>
    Effect.gen(function*() {
      const listener = Listener.make({
        name: "unregistered",
        source: MemorySource.make(Review),
        params: Params,
        initialParams: { batch_id: 0 },
        query: inBatch,
        every: "1 second",
        run: () => Effect.void
      })
      const error = yield* Effect.flip(
        Layer.build(
          Listener.layer([listener]).pipe(Layer.provide(Testing.layer([])), Layer.provide(ListenerStore.layerMemory))
        )
      )
      expect(error._tag).toBe("ListenerNotRegistered")
      expect(error.message).toContain("unregistered")
    }))

  it.scoped("condition total == 10: runs only when exactly 10 records match", () => {
    const source = MemorySource.make(Review, reviews(0, 5))
    const seen: Array<number> = []
    const listener = Listener.make({
      name: "exactly-10",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "3 seconds",
      condition: (search) => search.total === 10,
      run: (records) =>
        Effect.sync(() => {
          seen.push(records.length)
        })
    })
    return Effect.gen(function*() {
      yield* Testing.advance("3 seconds") // 5: skipped
      yield* source.insert(...reviews(0, 5, 5))
      yield* Testing.advance("3 seconds") // 10: runs
      yield* source.insert(...reviews(0, 1, 10))
      yield* Testing.advance("3 seconds") // 11: skipped
      expect(seen).toEqual([10])
      const runs = yield* runsOf("exactly-10")
      expect(runs.map((run) => seconds(run.startedAt))).toEqual([6])
      const status = yield* Listener.status(listener)
      expect([status.ticks, status.skipped, status.succeeded, status.failed]).toEqual([3, 2, 1, 0])
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("condition total > 10: runs only when more than 10 records match", () => {
    const source = MemorySource.make(Review, reviews(0, 10))
    const seen: Array<number> = []
    const listener = Listener.make({
      name: "more-than-10",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "3 seconds",
      condition: (search) => search.total > 10,
      run: (records) =>
        Effect.sync(() => {
          seen.push(records.length)
        })
    })
    return Effect.gen(function*() {
      yield* Testing.advance("3 seconds") // 10: skipped
      yield* source.insert(...reviews(0, 2, 10))
      yield* Testing.advance("6 seconds") // 12, 12: runs twice (the handler keeps the params)
      expect(seen).toEqual([12, 12])
      expect((yield* runsOf("more-than-10")).map((run) => seconds(run.startedAt))).toEqual([6, 9])
      const status = yield* Listener.status(listener)
      expect([status.ticks, status.skipped, status.succeeded]).toEqual([3, 1, 2])
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("batch_id increments across ticks: one batch per tick, each once, in the run history with its payload", () => {
    const source = MemorySource.make(Review, [...reviews(0, 10), ...reviews(1, 10), ...reviews(2, 3)])
    const handled: Array<ReadonlyArray<number>> = []
    const listener = Listener.make({
      name: "uber-reviews",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "3 seconds",
      run: (records, ctx) =>
        Effect.sync(() => {
          handled.push(records.map((review) => review.id))
          return { batch_id: ctx.params.batch_id + 1 }
        })
    })
    return Effect.gen(function*() {
      yield* Testing.advance("12 seconds")
      expect(handled).toEqual([
        reviews(0, 10).map((r) => r.id),
        reviews(1, 10).map((r) => r.id),
        reviews(2, 3).map((r) => r.id)
      ])
      expect(yield* Listener.params(listener)).toEqual({ batch_id: 3 })
      const runs = yield* runsOf("uber-reviews")
      expect(runs.map((run) => [seconds(run.startedAt), run.status, run.result])).toEqual([
        [3, "succeeded", { batch_id: 1 }],
        [6, "succeeded", { batch_id: 2 }],
        [9, "succeeded", { batch_id: 3 }]
      ])
      expect(runs.map((run) => run.metrics)).toEqual([
        { total: 10, records: 10 },
        { total: 10, records: 10 },
        { total: 3, records: 3 }
      ])
      const first = yield* Scheduler.getRun(runs[0]!.runId)
      expect(first.payload).toMatchObject({ version: 0, params: { batch_id: 0 }, total: 10 })
      // the fourth tick found batch 3 empty: counted, no run
      const status = yield* Listener.status(listener)
      expect([status.ticks, status.skipped, status.succeeded]).toEqual([4, 1, 3])
      expect(status.lastRunId).toBe(runs[2]!.runId)
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("a run that succeeded for the stored params but was never recorded (its holder died) is taken over, not handled again", () => {
    const source = MemorySource.make(Review, [...reviews(0, 2), ...reviews(1, 2)])
    const handled: Array<number> = []
    const listener = Listener.make({
      name: "orphaned",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "1 second",
      run: (_, ctx) =>
        Effect.sync(() => {
          handled.push(ctx.params.batch_id)
          return { batch_id: ctx.params.batch_id + 1 }
        })
    })
    return Effect.gen(function*() {
      // what a process that died right after its run leaves: the run succeeded, the params were not stored
      const orphan = yield* Scheduler.enqueue(listener.job, { version: 0, params: { batch_id: 0 }, total: 2, records: reviews(0, 2) })
      yield* Testing.settle
      expect(handled).toEqual([0])
      yield* Effect.gen(function*() {
        yield* Testing.advance("2 seconds")
        expect(handled).toEqual([0, 1])
        const status = yield* Listener.status(listener)
        expect(status.params).toEqual({ batch_id: 2 })
        expect(status.succeeded).toBe(2)
        const runs = yield* runsOf("orphaned")
        expect(runs.map((run) => run.runId)).toHaveLength(2)
        expect(runs[0]!.runId).toBe(orphan.id)
      }).pipe(Effect.provide(Listener.layer([listener], { owner: "successor" })))
    }).pipe(Effect.provide(Testing.layer([listener.job]).pipe(Layer.provideMerge(ListenerStore.layerMemory))))
  })

  it.scoped("a run whose params could not be stored (the store failed) is taken over at the next tick, not handled again", () => {
    const source = MemorySource.make(Review, [...reviews(0, 2), ...reviews(1, 2)])
    const handled: Array<number> = []
    const listener = Listener.make({
      name: "unrecorded",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "1 second",
      run: (_, ctx) =>
        Effect.sync(() => {
          handled.push(ctx.params.batch_id)
          return { batch_id: ctx.params.batch_id + 1 }
        })
    })
    // the memory store, whose first write of params fails as a database that went away would
    let failures = 1
    const flakyStore = Layer.effect(
      ListenerStore.ListenerStore,
      Effect.map(ListenerStore.makeMemory, (store): ListenerStore.ListenerStore => ({
        ...store,
        recordTick: (tick) =>
          tick.outcome === "succeeded" && failures-- > 0
            ? Effect.fail(new ListenerStore.ListenerStoreError({ operation: "recordTick", reason: "connection lost" }))
            : store.recordTick(tick)
      }))
    )
    return Effect.gen(function*() {
      yield* Testing.advance("1 second")
      expect(handled).toEqual([0])
      expect(yield* Listener.params(listener)).toEqual({ batch_id: 0 })
      yield* Testing.advance("2 seconds")
      expect(handled).toEqual([0, 1])
      expect(yield* Listener.params(listener)).toEqual({ batch_id: 2 })
      expect((yield* runsOf("unrecorded")).map((run) => run.result)).toEqual([{ batch_id: 1 }, { batch_id: 2 }])
    }).pipe(
      Effect.provide(
        Listener.layer([listener], { owner: "test" }).pipe(
          Layer.provideMerge(Testing.layer([listener.job])),
          Layer.provideMerge(flakyStore)
        )
      )
    )
  })

  it.scoped("loadRecords: false counts and never loads a record", () => {
    const source = MemorySource.make(Review, reviews(0, 4))
    const seen: Array<readonly [number, number]> = []
    const listener = Listener.make({
      name: "count-only",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "1 second",
      loadRecords: false,
      run: (records, ctx) =>
        Effect.sync(() => {
          seen.push([records.length, ctx.total])
        })
    })
    return Effect.gen(function*() {
      yield* Testing.advance("3 seconds")
      expect(seen).toEqual([[0, 4], [0, 4], [0, 4]])
      expect(yield* source.stats).toEqual({ searches: 0, counts: 3, loaded: 0 })
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("metrics are computed for each run, handed to the handler, and recorded with the run", () => {
    const source = MemorySource.make(Review, reviews(0, 4))
    const listener = Listener.make({
      name: "with-metrics",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "1 second",
      metrics: (search) => Effect.succeed({ f1: search.total / 8 }),
      run: (_, ctx) => ctx.report({ reported: ctx.metrics.f1 * 2 })
    })
    return Effect.gen(function*() {
      yield* Testing.advance("1 second")
      const [run] = yield* runsOf("with-metrics")
      expect(run?.metrics).toEqual({ total: 4, records: 4, f1: 0.5, reported: 1 })
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("stop ends the stream: the run in flight is interrupted (its finalizers run), nothing ticks until resume", () => {
    const source = MemorySource.make(Review, reviews(0, 2))
    const log: Array<string> = []
    const listener = Listener.make({
      name: "stoppable",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "3 seconds",
      run: (_, ctx) =>
        Effect.gen(function*() {
          log.push(`start ${ctx.params.batch_id}`)
          yield* Effect.addFinalizer(() => Effect.sync(() => log.push(`finalizer ${ctx.params.batch_id}`)))
          yield* Effect.sleep("10 seconds")
          log.push(`end ${ctx.params.batch_id}`)
        }).pipe(Effect.scoped)
    })
    return Effect.gen(function*() {
      yield* Testing.advance("4 seconds")
      expect(log).toEqual(["start 0"])
      yield* Listener.stop(listener)
      expect(log).toEqual(["start 0", "finalizer 0"])
      const [run] = yield* runsOf("stoppable")
      expect(run?.status).toBe("cancelled")
      const stopped = yield* Listener.status(listener)
      expect(stopped.state).toBe("stopped")
      expect(stopped.holder).toBeUndefined() // the lease was released when the stream ended
      const searches = (yield* source.stats).searches
      yield* Testing.advance("30 seconds")
      expect((yield* source.stats).searches).toBe(searches)
      expect(yield* runsOf("stoppable")).toHaveLength(1)

      yield* Listener.resume(listener)
      yield* Testing.advance("3 seconds")
      expect(log).toEqual(["start 0", "finalizer 0", "start 0"])
      expect((yield* Listener.status(listener)).state).toBe("running")
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("the stream ends when its consumer stops, and its finalizer gives up the lease", () => {
    const source = MemorySource.make(Review, reviews(0, 1))
    const listener = Listener.make({
      name: "raw",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "1 second",
      run: () => Effect.void
    })
    return Effect.gen(function*() {
      let ended = false
      const fiber = yield* Listener.stream(listener, { owner: "raw-owner" }).pipe(
        Stream.take(2),
        Stream.ensuring(Effect.sync(() => {
          ended = true
        })),
        Stream.runCollect,
        Effect.fork
      )
      yield* Testing.advance("2 seconds")
      const ticks = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(ticks.map((tick) => tick._tag)).toEqual(["Succeeded", "Succeeded"])
      assert.isTrue(ended)
      const store = yield* ListenerStore.ListenerStore
      const state = Option.getOrThrow(yield* store.get("raw"))
      expect(state.owner).toBeUndefined()
      expect(state.succeeded).toBe(2)
    }).pipe(Effect.provide(Testing.layer([listener.job]).pipe(Layer.provideMerge(ListenerStore.layerMemory))))
  })

  it.scoped("a handler failing every other tick keeps the listener going with its params intact", () => {
    const source = MemorySource.make(Review, [...reviews(0, 2), ...reviews(1, 2), ...reviews(2, 2), ...reviews(3, 2)])
    let calls = 0
    const listener = Listener.make({
      name: "flaky",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "1 second",
      run: (_, ctx) =>
        Effect.gen(function*() {
          calls++
          if (calls % 2 === 1) return yield* Effect.fail(new Error(`batch ${ctx.params.batch_id} hiccup`))
          return { batch_id: ctx.params.batch_id + 1 }
        })
    })
    return Effect.gen(function*() {
      yield* Testing.advance("6 seconds")
      const runs = yield* runsOf("flaky")
      expect(runs.map((run) => run.status)).toEqual(["failed", "succeeded", "failed", "succeeded", "failed", "succeeded"])
      expect(runs.filter((run) => run.status === "failed").map((run) => run.error?.message)).toEqual([
        "batch 0 hiccup",
        "batch 1 hiccup",
        "batch 2 hiccup"
      ])
      expect(runs.filter((run) => run.status === "succeeded").map((run) => run.result)).toEqual([
        { batch_id: 1 },
        { batch_id: 2 },
        { batch_id: 3 }
      ])
      const status = yield* Listener.status(listener)
      expect(status.params).toEqual({ batch_id: 3 })
      expect([status.ticks, status.succeeded, status.failed, status.consecutiveFailures]).toEqual([6, 3, 3, 0])
      expect(status.state).toBe("running")
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("failures in a row are logged once; stopAfterFailures stops the listener everywhere", () => {
    const source = MemorySource.make(Review, reviews(0, 1))
    const listener = Listener.make({
      name: "doomed",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "1 second",
      stopAfterFailures: 3,
      run: () => Effect.fail(new Error("still broken"))
    })
    const lines: Array<string> = []
    const capture = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => lines.push(`${logLevel.label} ${String(message)}`))
    )
    return Effect.gen(function*() {
      yield* Testing.advance("10 seconds")
      expect((yield* runsOf("doomed")).map((run) => run.status)).toEqual(["failed", "failed", "failed"])
      const status = yield* Listener.status(listener)
      expect([status.state, status.failed, status.consecutiveFailures]).toEqual(["stopped", 3, 3])
      expect(status.lastError).toBe("Error: still broken")
      const errors = lines.filter((line) => line.startsWith("ERROR"))
      expect(errors).toHaveLength(2)
      expect(errors[0]).toContain("still broken")
      expect(errors[1]).toContain("stopped after 3 failed ticks in a row")

      // resuming clears the streak; it fails three more times and stops again
      yield* Listener.resume(listener)
      expect((yield* Listener.status(listener)).consecutiveFailures).toBe(0)
      yield* Testing.advance("10 seconds")
      expect(yield* runsOf("doomed")).toHaveLength(6)
      expect((yield* Listener.status(listener)).state).toBe("stopped")
    }).pipe(Effect.provide(app([listener])), Effect.provide(capture))
  })

  it.scoped("a failing search is a failed run too, and the listener goes on", () => {
    let broken = true
    const inner = MemorySource.make(Review, reviews(0, 2))
    const source = Source.make({
      name: "sometimes-down",
      records: Review,
      search: (query: MemorySource.Query<Review>) =>
        broken ? Effect.fail(new Source.SourceError({ source: "sometimes-down", reason: "connection refused" })) : inner.search(query)
    })
    const listener = Listener.make({
      name: "searching",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "1 second",
      run: (_, ctx) => Effect.succeed({ batch_id: ctx.params.batch_id + 1 })
    })
    return Effect.gen(function*() {
      yield* Testing.advance("2 seconds")
      broken = false
      yield* Testing.advance("1 second")
      const runs = yield* runsOf("searching")
      expect(runs.map((run) => [run.status, run.error?.tag])).toEqual([
        ["failed", "SearchFailed"],
        ["failed", "SearchFailed"],
        ["succeeded", undefined]
      ])
      expect(runs[0]!.error?.message).toContain("connection refused")
      expect(yield* Listener.params(listener)).toEqual({ batch_id: 1 })
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("a slow handler delays the next tick instead of overlapping", () => {
    const source = MemorySource.make(Review, reviews(0, 1))
    let running = 0
    let most = 0
    const listener = Listener.make({
      name: "slow",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "2 seconds",
      run: () =>
        Effect.gen(function*() {
          running++
          most = Math.max(most, running)
          yield* Effect.sleep("5 seconds")
        }).pipe(Effect.ensuring(Effect.sync(() => running--)))
    })
    return Effect.gen(function*() {
      yield* Testing.advance("20 seconds")
      const runs = yield* runsOf("slow")
      // ticks due at 4, 6 passed while the first run lasted: the next tick came once, when it ended
      expect(runs.map((run) => [seconds(run.startedAt), seconds(run.finishedAt)])).toEqual([[2, 7], [7, 12], [12, 17]])
      expect(most).toBe(1)
    }).pipe(Effect.provide(app([listener])))
  })

  it.scoped("a handler over its timeout is interrupted, its finalizers run, the run is timed_out and the params kept", () => {
    const source = MemorySource.make(Review, reviews(0, 1))
    const finalized: Array<number> = []
    const listener = Listener.make({
      name: "too-slow",
      source,
      params: Params,
      initialParams: { batch_id: 0 },
      query: inBatch,
      every: "10 seconds",
      timeout: "2 seconds",
      run: (_, ctx) =>
        Effect.sleep("5 seconds").pipe(
          Effect.as({ batch_id: ctx.params.batch_id + 1 }),
          Effect.onInterrupt(() => Effect.sync(() => finalized.push(ctx.params.batch_id)))
        )
    })
    return Effect.gen(function*() {
      yield* Testing.advance("15 seconds")
      const [run] = yield* runsOf("too-slow")
      expect(run?.status).toBe("timed_out")
      expect(run?.durationMs).toBe(2000)
      expect(run?.error?.tag).toBe("JobTimeout")
      expect(finalized).toEqual([0])
      const status = yield* Listener.status(listener)
      expect(status.params).toEqual({ batch_id: 0 })
      expect(status.failed).toBe(1)
    }).pipe(Effect.provide(app([listener])))
  })
})
