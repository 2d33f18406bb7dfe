/**
 * (b) Bulk enqueue: N no-op jobs in one call of each system's bulk API
 * (clockwork `Scheduler.enqueueMany`, graphile-worker `WorkerUtils.addJobs`,
 * pg-boss `insert`), into empty tables, no worker running.
 */
import * as Progress from "../progress.js"
import { alternate, type Context, medians, repetitionsText, type Scenario, times } from "../scenario.js"
import type { System } from "../system.js"

const enqueueRate = async (system: System, count: number) => {
  await system.empty()
  const payloads = Array.from({ length: count }, (_, i) => i)
  const start = performance.now()
  await system.enqueueMany(payloads)
  const rate = count / ((performance.now() - start) / 1000)
  if (!(await system.busy())) throw new Error(`${system.name}: the enqueued jobs are not in its tables`)
  return rate
}

export const scenario: Scenario = {
  id: "b",
  title: "Bulk enqueue",
  run: async (ctx: Context) => {
    const count = ctx.quick ? 2_000 : 100_000
    const samples = await alternate(
      ctx,
      "b enqueue",
      ctx.systems,
      (system) => enqueueRate(system, count),
      (rate) => `${Progress.int(rate)} jobs/s`
    )
    const rate = medians(samples, (x) => x)
    const ratio = rate["clockwork"]! / rate["graphile-worker"]!
    return {
      id: "b",
      title: `Bulk enqueue ${Progress.int(count)} jobs`,
      method: `One call of ${Progress.int(count)} jobs into empty tables, no worker running. ${repetitionsText(ctx)}`,
      rows: [{ metric: "bulk enqueue", unit: "jobs/s", better: "higher", values: rate }],
      targets: [{
        label: "bulk enqueue ≥ 1.5× graphile-worker",
        measured: times(ratio),
        goal: "≥ 1.5×",
        met: ratio >= 1.5
      }]
    }
  }
}
