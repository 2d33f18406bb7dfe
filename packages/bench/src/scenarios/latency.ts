/**
 * (c) Enqueue → start latency: jobs enqueued one at a time, each only after
 * the previous one started; the latency is from just before the enqueue call
 * to the first line of the job, both read in this process.
 */
import * as Progress from "../progress.js"
import { alternate, type Context, medians, repetitionsText, type Scenario, signal, within } from "../scenario.js"
import { type Latencies, latencies, sleep } from "../stats.js"
import type { System } from "../system.js"

/** Latencies of `count` sequential jobs, on a worker that is already idle and listening. */
export const sequentialLatencies = async (system: System, count: number, timeoutMs: number): Promise<Latencies> => {
  await system.empty()
  let waiting = signal<number>()
  let expected = -1
  const worker = await system.startWorker((i) => {
    if (i === expected) waiting.resolve(performance.now())
  })
  try {
    await sleep(300) // the worker settles (connections, LISTEN) before the first job
    const times: Array<number> = []
    for (let k = 0; k < count; k++) {
      waiting = signal<number>()
      expected = k
      const start = performance.now()
      await system.enqueue(k)
      const started = await within(waiting.promise, timeoutMs, `${system.name} job ${k}`)
      times.push(started - start)
    }
    return latencies(times)
  } finally {
    await worker.stop()
  }
}

export const scenario: Scenario = {
  id: "c",
  title: "Enqueue → start latency",
  run: async (ctx: Context) => {
    const count = ctx.quick ? 50 : 1_000
    const samples = await alternate(
      ctx,
      "c latency",
      ctx.systems,
      (system) => sequentialLatencies(system, count, 30_000),
      (l) => `p50 ${Progress.ms(l.p50)}, p95 ${Progress.ms(l.p95)}, p99 ${Progress.ms(l.p99)}, max ${Progress.ms(l.max)}`
    )
    const p50 = medians(samples, (l) => l.p50)
    const p99 = medians(samples, (l) => l.p99)
    return {
      id: "c",
      title: `Enqueue → start latency, ${Progress.int(count)} sequential jobs`,
      method: `Each job enqueued (single-job API) only after the previous one started; measured from before the ` +
        `enqueue call to the start of the job, in the same process. Percentiles per repetition, then their ` +
        `median. ${repetitionsText(ctx)}`,
      rows: [
        { metric: "p50", unit: "ms", better: "lower", values: p50 },
        { metric: "p95", unit: "ms", better: "lower", values: medians(samples, (l) => l.p95) },
        { metric: "p99", unit: "ms", better: "lower", values: p99 },
        { metric: "max", unit: "ms", better: "lower", values: medians(samples, (l) => l.max) }
      ],
      targets: [
        { label: "latency p50 ≤ 2 ms", measured: Progress.ms(p50["clockwork"]!), goal: "≤ 2 ms", met: p50["clockwork"]! <= 2 },
        { label: "latency p99 ≤ 10 ms", measured: Progress.ms(p99["clockwork"]!), goal: "≤ 10 ms", met: p99["clockwork"]! <= 10 }
      ]
    }
  }
}
