/**
 * `/metrics` in Prometheus' text exposition format, read from the store on
 * each scrape: attempts per job and status over the last hour, the queue per
 * job, lease expiries, schedules and live workers. Read from the store (not
 * kept in this process), every dashboard reports the same figures for all
 * processes sharing it. Then this process's own clockwork metrics
 * (`Telemetry`: attempts, durations and lateness of the runs it ran, its
 * reaper's queue count), which are non-zero where the dashboard runs inside
 * a worker's app.
 */
import { Run, type Scheduler } from "@clockwork/core"
import { Clock, DateTime, Effect, Metric, MetricState, Option } from "effect"
import * as History from "./history.js"

const windowMs = 60 * 60_000

const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")

const labelsOf = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${label(v)}"`).join(",")}}`

interface Family {
  readonly name: string
  readonly help: string
  readonly samples: ReadonlyArray<readonly [labels: Record<string, string>, value: number]>
}

const render = (families: ReadonlyArray<Family>): string =>
  families.map(({ help, name, samples }) =>
    [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} gauge`,
      ...samples.map(([labels, value]) => `${name}${labelsOf(Object.entries(labels))} ${value}`)
    ].join("\n")
  ).join("\n") + "\n"

/** This process's clockwork metrics (counters, gauges, histograms), in the exposition format. */
const processMetrics = Effect.map(Metric.snapshot, (pairs) => {
  const families = new Map<string, { type: string; help: string; lines: Array<string> }>()
  for (const { metricKey, metricState } of pairs) {
    const name = metricKey.name
    if (!name.startsWith("clockwork_")) continue
    const tags = metricKey.tags.map((t) => [t.key, t.value] as const)
    const type = MetricState.isCounterState(metricState)
      ? "counter"
      : MetricState.isGaugeState(metricState)
      ? "gauge"
      : MetricState.isHistogramState(metricState)
      ? "histogram"
      : undefined
    if (type === undefined) continue
    let family = families.get(name)
    if (family === undefined) {
      family = { type, help: Option.getOrElse(metricKey.description, () => name), lines: [] }
      families.set(name, family)
    }
    if (MetricState.isCounterState(metricState)) family.lines.push(`${name}${labelsOf(tags)} ${Number(metricState.count)}`)
    else if (MetricState.isGaugeState(metricState)) family.lines.push(`${name}${labelsOf(tags)} ${Number(metricState.value)}`)
    else if (MetricState.isHistogramState(metricState)) {
      for (const [boundary, count] of metricState.buckets) {
        const le = Number.isFinite(boundary) ? String(boundary) : "+Inf"
        family.lines.push(`${name}_bucket${labelsOf([...tags, ["le", le]])} ${count}`)
      }
      if (metricState.buckets.every(([boundary]) => Number.isFinite(boundary))) {
        family.lines.push(`${name}_bucket${labelsOf([...tags, ["le", "+Inf"]])} ${metricState.count}`)
      }
      family.lines.push(`${name}_sum${labelsOf(tags)} ${metricState.sum}`)
      family.lines.push(`${name}_count${labelsOf(tags)} ${metricState.count}`)
    }
  }
  return [...families].map(([name, f]) => [`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.lines].join("\n"))
    .join("\n")
})

/** The exposition text. */
export const text = (scheduler: Scheduler.Scheduler) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const [counts, queue, workers, schedules] = yield* Effect.all([
      History.counts(scheduler.history, now - windowMs, now + 1),
      scheduler.queue,
      scheduler.workers,
      scheduler.schedules
    ])
    const expiries = new Map<string, number>()
    const finalFailures = new Map<string, number>()
    for (const record of counts.records) {
      if (record.status === "interrupted" && record.error?.tag === "LeaseExpired") {
        expiries.set(record.jobName, (expiries.get(record.jobName) ?? 0) + 1)
      }
      if (Run.isFinalFailure(record)) finalFailures.set(record.jobName, (finalFailures.get(record.jobName) ?? 0) + 1)
    }
    const own = yield* processMetrics
    return render([
      {
        name: "clockwork_attempts_last_hour",
        help: "Attempts that finished in the last hour, by job and status.",
        samples: counts.byJob.map((c) => [{ job: c.jobName, status: c.status }, c.count])
      },
      {
        name: "clockwork_final_failures_last_hour",
        help: "Runs that ended without success and will not be retried, in the last hour, by job.",
        samples: [...finalFailures].map(([job, count]) => [{ job }, count])
      },
      {
        name: "clockwork_lease_expiries_last_hour",
        help: "Attempts whose lease expired (their worker crashed or stalled) in the last hour, by job.",
        samples: [...expiries].map(([job, count]) => [{ job }, count])
      },
      {
        name: "clockwork_queue_due",
        help: "Queued runs that are due, by job.",
        samples: queue.map((q) => [{ job: q.jobName }, q.due])
      },
      {
        name: "clockwork_queue_later",
        help: "Queued runs due later, by job.",
        samples: queue.map((q) => [{ job: q.jobName }, q.later])
      },
      {
        name: "clockwork_queue_running",
        help: "Running runs, by job.",
        samples: queue.map((q) => [{ job: q.jobName }, q.running])
      },
      {
        name: "clockwork_queue_lag_seconds",
        help: "How long the longest-waiting due run has waited, by job.",
        samples: queue.map((q) => [
          { job: q.jobName },
          q.oldestDueAt === undefined ? 0 : Math.max(0, now - DateTime.toEpochMillis(q.oldestDueAt)) / 1000
        ])
      },
      {
        name: "clockwork_workers_alive",
        help: "Runners whose heartbeat has not expired.",
        samples: [[{}, workers.length]]
      },
      {
        name: "clockwork_schedules",
        help: "Schedules, by whether they are paused.",
        samples: [
          [{ paused: "false" }, schedules.filter((s) => !s.paused).length],
          [{ paused: "true" }, schedules.filter((s) => s.paused).length]
        ]
      }
    ]) + (own === "" ? "" : `${own}\n`)
  })
