import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Schema } from "effect"
import { Clockwork, Job, JobStore, Scheduler, Testing } from "../src/index.js"

const noop = Job.make({ name: "noop", payload: Schema.Struct({}), run: () => Effect.void })

const nap = Job.make({
  name: "nap",
  payload: Schema.Struct({ seconds: Schema.Number }),
  run: ({ seconds }) => Effect.sleep(`${seconds} seconds`)
})

/**
 * The memory store, made to fail every call with a StoreError while `down` is
 * set, as a database does while it restarts; counts the calls that failed.
 */
const unreliableStore = Effect.gen(function*() {
  const store = yield* JobStore.makeMemory
  const state = { down: false, failedCalls: new Map<string, number>() }
  const wrapped = Object.fromEntries(
    Object.entries(store).map(([operation, member]) => [
      operation,
      typeof member !== "function" ? member : (...args: Array<unknown>) =>
        Effect.suspend(() => {
          if (!state.down) return member(...args)
          state.failedCalls.set(operation, (state.failedCalls.get(operation) ?? 0) + 1)
          return Effect.fail(new JobStore.StoreError({ operation, message: "connection refused" }))
        })
    ])
  ) as unknown as JobStore.JobStore
  return { store: wrapped, state }
})

/** Log lines at info level and above, as "LEVEL message". */
const captureLogs = (lines: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
  )

/** The app, without reaper or retention, on `store`, with `logger`. */
const appOn = (store: JobStore.JobStore, logger: Layer.Layer<never>) =>
  Clockwork.layer([nap, noop], { reaper: false, retention: false, runner: { shutdownGrace: 0 } }).pipe(
    Layer.provideMerge(Layer.succeed(JobStore.JobStore, store)),
    Layer.provide(logger)
  )

describe("a store that stops answering", () => {
  it.scoped("is logged once and its return once; outcomes of runs that ended meanwhile are written when it answers", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const { store, state } = yield* unreliableStore
      const App = appOn(store, captureLogs(lines))
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueueMany(nap, [{ seconds: 10 }, { seconds: 10 }])
        yield* Testing.advance("5 seconds")
        state.down = true
        // the runs end at 10 s; their outcomes, heartbeats and claims fail for a minute
        yield* Testing.advance("60 seconds")
        expect(state.failedCalls.get("complete")).toBeGreaterThan(1)
        expect(lines.filter((line) => line.startsWith("WARN"))).toEqual([
          "WARN clockwork: the store does not answer (complete: connection refused); trying again with backoff, and saying so once it answers"
        ])
        expect(lines.filter((line) => line.startsWith("ERROR"))).toEqual([])

        state.down = false
        yield* Testing.advance("10 seconds")
        // down from the first failed call (the outcomes at 10 s) to the first that succeeds, within
        // 5 s (the longest backoff) of the store's return at 65 s; said once it answered for 3 s
        const back = lines.filter((line) => line.includes("answers again"))
        expect(back).toHaveLength(1)
        expect(back[0]).toMatch(/^INFO clockwork: the store answers again, after 5[5-9]s/)
        const history = yield* Scheduler.history({ jobName: "nap" })
        expect(history.map((r) => [r.status, r.finishedAt.epochMillis])).toEqual([
          ["succeeded", 10_000],
          ["succeeded", 10_000]
        ])
      }).pipe(Effect.provide(App))
    }))

  it.scoped("each outage is said once each way, however close together; failures while it comes back are the same one", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const { store, state } = yield* unreliableStore
      const App = appOn(store, captureLogs(lines))
      yield* Effect.gen(function*() {
        const outage = (seconds: number) =>
          Effect.gen(function*() {
            state.down = true
            yield* Testing.advance(`${seconds} seconds`)
            state.down = false
          })
        const warnings = () => lines.filter((line) => line.startsWith("WARN") && line.includes("does not answer"))
        const ends = () => lines.filter((line) => line.includes("answers again"))
        // the runs end (and their outcomes fail to be written) at 1 s and 12 s: in each outage
        yield* Scheduler.enqueueMany(nap, [{ seconds: 1 }, { seconds: 12 }])
        yield* Testing.advance("100 millis")
        // two outages 8 s apart: two of each
        yield* outage(2)
        yield* Testing.advance("8 seconds")
        yield* outage(4)
        yield* Testing.advance("10 seconds")
        expect(warnings()).toHaveLength(2)
        expect(ends()).toHaveLength(2)

        // at 24 s: down for 3 s (the first run's outcome fails at 25 s and is written at 28 s, after
        // its backoff); then failing again at 30 s (the second's) while it comes back, as a pool does
        // when it finds its dead connections: one outage, over once the store answered for 3 s
        yield* Scheduler.enqueueMany(nap, [{ seconds: 1 }, { seconds: 6 }])
        yield* Testing.advance("100 millis")
        yield* outage(3)
        yield* Testing.advance("2 seconds")
        yield* outage(2)
        yield* Testing.advance("2 seconds")
        expect(warnings()).toHaveLength(3)
        expect(ends()).toHaveLength(2)
        yield* Testing.advance("10 seconds")
        expect(warnings()).toHaveLength(3)
        expect(ends()).toHaveLength(3)
        expect(lines.filter((line) => line.startsWith("ERROR"))).toEqual([])
        expect((yield* Scheduler.history({ jobName: "nap" })).map((r) => r.status)).toEqual(
          ["succeeded", "succeeded", "succeeded", "succeeded"]
        )
      }).pipe(Effect.provide(App))
    }))

  it.scoped("shutting down while it does not answer: the outcomes are left to a reaper, and the log says so", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const { store, state } = yield* unreliableStore
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueueMany(nap, [{ seconds: 10 }, { seconds: 10 }])
        yield* Testing.advance("1 second")
        state.down = true
      }).pipe(Effect.provide(appOn(store, captureLogs(lines))))
      // the app closed: its runs were interrupted (no grace) and their outcomes could not be written
      expect(state.failedCalls.get("complete")).toBe(1)
      expect(state.failedCalls.get("removeWorker")).toBeUndefined()
      expect(lines.filter((line) => line.startsWith("WARN"))).toEqual([
        "WARN clockwork: shutting down with 2 run(s) whose outcome is not written; " +
        "a reaper queues them again once their lease expires"
      ])
      state.down = false
      expect((yield* store.listRuns({})).map((run) => run.state)).toEqual(["running", "running"])
    }))

  it.scoped("the claim loop backs off, up to 5 s between tries, instead of retrying at a fixed pace", () =>
    Effect.gen(function*() {
      const { store, state } = yield* unreliableStore
      const App = appOn(store, Logger.remove(Logger.defaultLogger))
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(noop, {}, { delay: "30 seconds" })
        yield* Testing.advance("1 second")
        state.down = true
        // the runner wakes for the run at 30 s and finds the store down until 90 s:
        // tries after 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s and then every 5 s, about 17 in all
        yield* Testing.advance("89 seconds")
        const tries = state.failedCalls.get("claim") ?? 0
        expect(tries).toBeGreaterThanOrEqual(12)
        expect(tries).toBeLessThanOrEqual(20)
        state.down = false
        yield* Testing.advance("5 seconds")
        const [record] = yield* Scheduler.history({ jobName: "noop" })
        expect(record?.status).toBe("succeeded")
      }).pipe(Effect.provide(App))
    }))
})

describe("retention", () => {
  it.scoped("prunes what ended longer ago than `keep`, every `interval`", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const App = Testing.layer([noop], { retention: { keep: "1 day", interval: "1 hour" } }).pipe(
        Layer.provide(captureLogs(lines))
      )
      yield* Effect.gen(function*() {
        const first = yield* Scheduler.enqueue(noop, {})
        yield* Testing.advance("12 hours")
        const second = yield* Scheduler.enqueue(noop, {})
        yield* Testing.settle
        // the first run ended at 0 h: still kept at 24 h, gone at the prune of 25 h
        yield* Testing.advance("12 hours")
        expect((yield* Scheduler.history()).map((r) => r.runId)).toEqual([second.id, first.id])
        yield* Testing.advance("1 hour")
        expect((yield* Scheduler.history()).map((r) => r.runId)).toEqual([second.id])
        expect(yield* Effect.flip(Scheduler.getRun(first.id))).toBeInstanceOf(JobStore.RunNotFound)
        yield* Testing.advance("12 hours")
        expect(yield* Scheduler.history()).toEqual([])
        expect(lines.filter((line) => line.includes("pruned"))).toEqual([
          "INFO clockwork: pruned 1 history row(s) older than 1d",
          "INFO clockwork: pruned 1 history row(s) older than 1d"
        ])
      }).pipe(Effect.provide(App))
    }))

  it.effect("an invalid `keep` or `interval` fails the layer with InvalidInterval naming the option", () =>
    Effect.gen(function*() {
      const build = (options: Clockwork.RetentionOptions) =>
        Clockwork.layerRetention(options).pipe(
          Layer.provide(JobStore.layerMemory),
          Layer.build,
          Effect.scoped,
          Effect.flip
        )
      expect(yield* build({ keep: 0 })).toMatchObject({
        _tag: "InvalidInterval",
        field: "retention.keep",
        value: "0",
        reason: "must be greater than zero"
      })
      expect(yield* build({ interval: Number.NaN })).toMatchObject({
        _tag: "InvalidInterval",
        field: "retention.interval",
        reason: "NaN"
      })
    }))
})

describe("workers", () => {
  it.scopedLive("a runner is listed while it runs, beating every third of its lease, and gone when it stops", () =>
    Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const App = Clockwork.layer([nap, noop], {
        reaper: false,
        retention: false,
        runner: { workerId: "worker-1", concurrency: 4, lease: "600 millis", shutdownGrace: 0 }
      }).pipe(Layer.provideMerge(Layer.succeed(JobStore.JobStore, store)))
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(nap, { seconds: 60 })
        // a few beats (every 200 ms) later
        yield* Effect.sleep("500 millis")
        const [worker] = yield* Scheduler.workers
        expect(worker?.id).toBe("worker-1")
        expect(worker?.info).toMatchObject({ concurrency: 4, jobs: ["nap", "noop"], running: 1 })
        expect(worker!.heartbeatAt.epochMillis).toBeGreaterThan(worker!.startedAt.epochMillis)
        expect(worker!.expiresAt.epochMillis - worker!.heartbeatAt.epochMillis).toBe(600)
      }).pipe(Effect.provide(App), Effect.scoped)
      expect(yield* store.listWorkers(0)).toEqual([])
    }))
})
