/**
 * (d) Schedule precision: jobs enqueued ahead of time, each due at its own
 * instant (spaced evenly over a few seconds); the lag is how long after its
 * instant each one starts.
 */
import * as Progress from "../progress.js"
import { alternate, type Context, medians, repetitionsText, type Scenario, signal, within } from "../scenario.js"
import { type Latencies, latencies, sleep } from "../stats.js"
import { nowMs, type System } from "../system.js"

const lead = 1_500

const startLags = async (system: System, count: number, spacingMs: number): Promise<Latencies> => {
  await system.empty()
  const startedAt = new Array<number | undefined>(count)
  let started = 0
  const all = signal()
  const worker = await system.startWorker((i) => {
    if (startedAt[i] !== undefined) return
    startedAt[i] = nowMs()
    if (++started === count) all.resolve()
  })
  try {
    await sleep(300)
    const first = Math.ceil(nowMs()) + lead
    const due = Array.from({ length: count }, (_, i) => first + i * spacingMs)
    for (let i = 0; i < count; i++) await system.enqueue(i, new Date(due[i]!))
    if (nowMs() > first) throw new Error(`${system.name}: enqueuing took longer than the ${lead} ms lead`)
    await within(all.promise, lead + count * spacingMs + 60_000, `${system.name} scheduled jobs`)
    return latencies(due.map((at, i) => startedAt[i]! - at))
  } finally {
    await worker.stop()
  }
}

export const scenario: Scenario = {
  id: "d",
  title: "Schedule precision",
  run: async (ctx: Context) => {
    const count = ctx.quick ? 20 : 200
    const spacing = 20
    const samples = await alternate(
      ctx,
      "d schedule",
      ctx.systems,
      (system) => startLags(system, count, spacing),
      (l) => `lag p50 ${Progress.ms(l.p50)}, p99 ${Progress.ms(l.p99)}, max ${Progress.ms(l.max)}`
    )
    const p99 = medians(samples, (l) => l.p99)
    return {
      id: "d",
      title: `Schedule precision, ${count} jobs due at given instants`,
      method: `${count} jobs enqueued one by one ${lead / 1000} s ahead, due ${spacing} ms apart ` +
        `(clockwork \`enqueue(..., { at })\`, graphile-worker \`runAt\`, pg-boss \`startAfter\`); lag = start − due ` +
        `instant. Percentiles per repetition, then their median. ${repetitionsText(ctx)}`,
      rows: [
        { metric: "lag p50", unit: "ms", better: "lower", values: medians(samples, (l) => l.p50) },
        { metric: "lag p99", unit: "ms", better: "lower", values: p99 },
        { metric: "lag max", unit: "ms", better: "lower", values: medians(samples, (l) => l.max) }
      ],
      targets: [
        {
          label: "schedule lag p99 ≤ 10 ms",
          measured: Progress.ms(p99["clockwork"]!),
          goal: "≤ 10 ms",
          met: p99["clockwork"]! <= 10
        }
      ]
    }
  }
}
