/**
 * Memory store throughput: N no-op runs, each with its timeout armed, through
 * the whole engine (enqueue → claim → fiber → outcome → history), against
 * two baselines measured in the same process: bare fibers with no timeout,
 * and bare fibers with a per-run `Effect.timeout`.
 *
 *   npm run bench --workspace @clockwork/core [-- --runs 100000 --repeat 5]
 *
 * Prints one line per repetition and a JSON summary with medians.
 */
import { Deferred, Effect, Layer, Schema } from "effect"
import { Clockwork, Job, JobStore, Runner, Scheduler } from "../src/index.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const runs = arg("runs", 100_000)
const repeat = arg("repeat", 5)
const concurrency = arg("concurrency", 1000)
// `--only clockwork` skips the baselines (for profiling)
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined

const gc = () => (globalThis as { gc?: () => void }).gc?.()
const heapMb = () => process.memoryUsage().heapUsed / 1024 / 1024
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const engine = Effect.gen(function*() {
  const done = yield* Deferred.make<void>()
  let count = 0
  const noop = Job.make({
    name: "noop",
    payload: Schema.Number,
    timeout: "15 minutes",
    run: () =>
      Effect.sync(() => {
        if (++count === runs) Deferred.unsafeDone(done, Effect.void)
      })
  })
  const app = Clockwork.layer([noop], { runner: { concurrency, batchSize: concurrency } }).pipe(
    Layer.provideMerge(JobStore.layerMemory)
  )
  return yield* Effect.gen(function*() {
    const payloads = Array.from({ length: runs }, (_, i) => i)
    // the runner is already waiting: the clock covers enqueue, claims, runs and outcomes
    const start = performance.now()
    yield* Scheduler.enqueueMany(noop, payloads)
    const enqueueMs = performance.now() - start
    yield* Deferred.await(done)
    // a run counts once its outcome is written to the history
    const runner = yield* Runner.Runner
    while (runner.activeRuns().length > 0) yield* Effect.yieldNow()
    const ms = performance.now() - start
    // what the store keeps (100k runs and their history rows), after a full GC
    gc()
    const retained = heapMb()
    const store = yield* JobStore.JobStore
    const recorded = (yield* store.history({ limit: runs })).length
    return { runsPerSec: runs / (ms / 1000), enqueuePerSec: runs / (enqueueMs / 1000), recorded, heap: retained }
  }).pipe(Effect.provide(app))
})

const baseline = (withTimeout: boolean) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* Effect.forEach(
      Array.from({ length: runs }, (_, i) => i),
      () => withTimeout ? Effect.timeout(Effect.void, "15 minutes") : Effect.void,
      { concurrency, discard: true }
    )
    return { runsPerSec: runs / ((performance.now() - start) / 1000), heap: heapMb() }
  })

const main = Effect.gen(function*() {
  const results: Record<string, Array<{ runsPerSec: number; heap: number }>> = {
    clockwork: [],
    fibersWithEffectTimeout: [],
    fibersNoTimeout: []
  }
  console.log(`memory store: ${runs} no-op runs, concurrency ${concurrency}, ${repeat} repetitions (+1 warm-up)`)
  for (let i = 0; i <= repeat; i++) {
    gc()
    const heapBefore = heapMb()
    const c = yield* engine
    if (c.recorded !== runs) throw new Error(`expected ${runs} history rows, found ${c.recorded}`)
    gc()
    const t = only === undefined ? yield* baseline(true) : { runsPerSec: 0, heap: 0 }
    gc()
    const n = only === undefined ? yield* baseline(false) : { runsPerSec: 0, heap: 0 }
    const label = i === 0 ? "warm-up" : `run ${i}`
    console.log(
      `${label}: clockwork ${c.runsPerSec.toFixed(0)} runs/s (enqueue ${c.enqueuePerSec.toFixed(0)}/s, heap ${
        (c.heap - heapBefore).toFixed(0)
      } MB retained after GC) | fibers + Effect.timeout ${t.runsPerSec.toFixed(0)}/s | bare fibers ${
        n.runsPerSec.toFixed(0)
      }/s`
    )
    if (i === 0) continue
    results.clockwork!.push({ runsPerSec: c.runsPerSec, heap: c.heap - heapBefore })
    results.fibersWithEffectTimeout!.push(t)
    results.fibersNoTimeout!.push(n)
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([k, v]) => [k, {
      medianRunsPerSec: Math.round(median(v.map((x) => x.runsPerSec))),
      medianHeapMb: Math.round(median(v.map((x) => x.heap)))
    }])
  )
  console.log(JSON.stringify({ runs, concurrency, repeat, node: process.version, summary }, null, 2))
})

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exit(1)
})
