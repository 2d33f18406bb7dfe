/**
 * (a) Drain: N no-op jobs are queued while no worker runs; the clock starts
 * when the worker starts and stops when the last job is recorded as done (no
 * job left queued or running in the system's tables).
 */
import * as Progress from "../progress.js"
import { alternate, type Context, medians, repetitionsText, type Scenario, signal, times, within } from "../scenario.js"
import { sleep } from "../stats.js"
import type { System } from "../system.js"

const chunk = 20_000

/** Queues `count` no-op jobs in bulk (chunks, so no single statement grows huge). */
export const fill = async (system: System, count: number, at?: Date) => {
  for (let from = 0; from < count; from += chunk) {
    const payloads = Array.from({ length: Math.min(chunk, count - from) }, (_, k) => from + k)
    await system.enqueueMany(payloads, at)
  }
}

/** Jobs per second to drain `count` queued jobs. */
export const drainRate = async (system: System, count: number, timeoutMs: number) => {
  await system.empty()
  await fill(system, count)
  let ran = 0
  const all = signal()
  const start = performance.now()
  const worker = await system.startWorker(() => {
    if (++ran === count) all.resolve()
  })
  try {
    await within(all.promise, timeoutMs, `${system.name} drain`)
    while (await system.busy()) await sleep(5)
  } finally {
    await worker.stop()
  }
  return count / ((performance.now() - start) / 1000)
}

export const scenario: Scenario = {
  id: "a",
  title: "Drain no-op jobs",
  run: async (ctx: Context) => {
    const count = ctx.quick ? 2_000 : 100_000
    const samples = await alternate(
      ctx,
      "a drain",
      ctx.systems,
      (system) => drainRate(system, count, ctx.quick ? 60_000 : 900_000),
      (rate) => `${Progress.int(rate)} jobs/s`
    )
    const rate = medians(samples, (x) => x)
    const ratio = rate["clockwork"]! / rate["graphile-worker"]!
    return {
      id: "a",
      title: `Drain ${Progress.int(count)} no-op jobs`,
      method: `${Progress.int(count)} jobs queued (not timed), then a worker started; timed from the worker's start ` +
        `until no job is left queued or running. ${repetitionsText(ctx)}`,
      rows: [{ metric: "drain", unit: "jobs/s", better: "higher", values: rate }],
      targets: [{
        label: "drain ≥ 2× tuned graphile-worker",
        measured: times(ratio),
        goal: "≥ 2×",
        met: ratio >= 2
      }]
    }
  }
}
