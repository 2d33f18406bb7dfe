/**
 * The per-run cost of worker isolation: N no-op runs through the whole engine
 * (enqueue → claim → run → outcome → history) as a fiber job, as a worker job
 * with an Effect handler (WorkerJob.serve) and as a worker job with a plain
 * function, on a pool of 2 threads. The pool is up (threads booted, worker
 * modules loaded) before the clock starts. Also the latency of one run at a
 * time (`Scheduler.run`, enqueue and await).
 *
 *   npm run bench --workspace @clockwork/node [-- --runs 2000 --repeat 3 --sequential 200]
 */
import { Clockwork, Events, type Job, JobStore, Scheduler } from "@clockwork/core"
import { Effect, Layer, Queue } from "effect"
import { availableParallelism, cpus } from "node:os"
import { WorkerPool } from "../src/index.js"
import * as jobs from "./jobs.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const runs = arg("runs", 2000)
const repeat = arg("repeat", 3)
const sequential = arg("sequential", 200)
const poolSize = arg("pool", 2)

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

// all runs enqueued at once; the clock stops when the last outcome is published
const throughput = (job: Job.Job<{ readonly i: number }, { readonly i: number }, any, any>) =>
  Effect.scoped(Effect.gen(function*() {
    const events = yield* Effect.flatMap(Events.Events, (events) => events.subscribe)
    const start = performance.now()
    yield* Scheduler.enqueueMany(job, Array.from({ length: runs }, (_, i) => ({ i })))
    let finished = 0
    while (finished < runs) {
      for (const event of yield* Queue.takeBetween(events, 1, Number.POSITIVE_INFINITY)) {
        if (event._tag === "Succeeded") finished++
        else if (event._tag === "Failed" || event._tag === "TimedOut") throw new Error(`a run failed: ${event.error.message}`)
      }
    }
    return runs / ((performance.now() - start) / 1000)
  }))

// one run at a time: the median round trip of a single run (enqueue, run, await)
const latency = (job: Job.Job<{ readonly i: number }, { readonly i: number }, any, any>) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    for (let i = 0; i < sequential; i++) {
      const start = performance.now()
      yield* Scheduler.run(job, { i })
      times.push(performance.now() - start)
    }
    return median(times)
  })

const modes = {
  fiber: jobs.inFiber,
  "worker (Effect handler)": jobs.inWorker,
  "worker (plain function)": jobs.inWorkerPlain
} as const

const main = Effect.gen(function*() {
  console.log(
    `worker isolation: ${runs} no-op runs, pool of ${poolSize}, runner concurrency 100, ${repeat} repetitions (+1 warm-up); ` +
      `${cpus()[0]?.model ?? "?"} x${availableParallelism()}, node ${process.version}`
  )
  const summary: Record<string, { runsPerSec: number; msPerRun: number }> = {}
  for (const [mode, job] of Object.entries(modes)) {
    const app = Clockwork.layer([job]).pipe(
      Layer.provide(JobStore.layerMemory),
      Layer.provide(WorkerPool.layer({ size: poolSize, preload: [jobs.inWorker, jobs.inWorkerPlain] }))
    )
    const result = yield* Effect.gen(function*() {
      const rates: Array<number> = []
      for (let i = 0; i <= repeat; i++) {
        const rate = yield* throughput(job)
        console.log(`${mode.padEnd(24)} ${i === 0 ? "warm-up" : `run ${i}   `} ${rate.toFixed(0).padStart(7)} runs/s`)
        if (i > 0) rates.push(rate)
      }
      const msPerRun = yield* latency(job)
      console.log(`${mode.padEnd(24)} one at a time  ${msPerRun.toFixed(3)} ms/run (median)`)
      return { runsPerSec: Math.round(median(rates)), msPerRun: Number(msPerRun.toFixed(3)) }
    }).pipe(Effect.provide(app))
    summary[mode] = result
  }
  const fiber = summary.fiber!
  const worker = summary["worker (Effect handler)"]!
  // one at a time, the engine's own round trip (~1 ms) hides the thread hop
  console.log(
    `worker isolation (Effect handler) costs ${(1000 / worker.runsPerSec - 1000 / fiber.runsPerSec).toFixed(3)} ms ` +
      `per run at full load (1/throughput, against a fiber job)`
  )
  console.log(JSON.stringify({ runs, repeat, sequential, poolSize, node: process.version, summary }, null, 2))
})

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exit(1)
})
