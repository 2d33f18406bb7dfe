import { Effect, Metric, MetricBoundaries, MetricLabel, Option, Tracer } from "effect"
import type { RunStatus } from "../Run.js"

export const runSpanName = "clockwork.run"

// Effect's own tracer, the one in place when no other is installed: its spans go nowhere
const defaultTracer = Effect.runSync(Effect.tracer)

/**
 * Whether spans are worth making: a tracer other than Effect's default is
 * installed (an OpenTelemetry layer, `Effect.withTracer`). A span per run
 * otherwise costs a drain a tenth of its throughput for nothing.
 */
export const tracing: Effect.Effect<boolean> = Effect.map(Effect.tracer, (tracer) => tracer !== defaultTracer)

export const runsFinished = Metric.counter("clockwork_runs_finished", {
  description: "attempts that ended, by job and status",
  incremental: true
})

// 5 ms to ~11 minutes, doubling
const durations = MetricBoundaries.exponential({ start: 5, factor: 2, count: 18 })

export const runDuration = Metric.histogram(
  "clockwork_run_duration_ms",
  durations,
  "how long attempts ran, by job (milliseconds)"
)

export const scheduleLag = Metric.histogram(
  "clockwork_schedule_lag_ms",
  durations,
  "how late first attempts started after the instant they were due, by job (milliseconds)"
)

export const queueDepth = Metric.gauge("clockwork_queue_depth", {
  description: "runs queued (due now, due later) and running, by job and state, as a reaper last counted"
})

export const leaseExpiries = Metric.counter("clockwork_lease_expiries", {
  description: "runs taken back from a worker that stopped renewing its lease",
  incremental: true
})

// labels per job (and status), made once: an outcome then costs two map lookups, not new label objects
const jobLabels = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
const statusLabels = new Map<string, Map<RunStatus, ReadonlyArray<MetricLabel.MetricLabel>>>()

const labelsOf = (jobName: string) => {
  let labels = jobLabels.get(jobName)
  if (labels === undefined) {
    labels = [MetricLabel.make("job", jobName)]
    jobLabels.set(jobName, labels)
  }
  return labels
}

/** Counts an attempt's end, and its duration. */
export const attemptEnded = (jobName: string, status: RunStatus, durationMs: number): void => {
  let byStatus = statusLabels.get(jobName)
  if (byStatus === undefined) {
    byStatus = new Map()
    statusLabels.set(jobName, byStatus)
  }
  let labels = byStatus.get(status)
  if (labels === undefined) {
    labels = [...labelsOf(jobName), MetricLabel.make("status", status)]
    byStatus.set(status, labels)
  }
  runsFinished.unsafeUpdate(1, labels)
  runDuration.unsafeUpdate(durationMs, labelsOf(jobName))
}

/** Records how late a first attempt started. */
export const firstAttemptStarted = (jobName: string, lagMs: number): void =>
  scheduleLag.unsafeUpdate(Math.max(0, lagMs), labelsOf(jobName))

/** Sets the queue depth gauges of one job. */
export const queueCounted = (jobName: string, due: number, later: number, running: number): void => {
  const labels = labelsOf(jobName)
  queueDepth.unsafeUpdate(due, [...labels, MetricLabel.make("state", "due")])
  queueDepth.unsafeUpdate(later, [...labels, MetricLabel.make("state", "later")])
  queueDepth.unsafeUpdate(running, [...labels, MetricLabel.make("state", "running")])
}

export const leasesExpired = (count: number): void => leaseExpiries.unsafeUpdate(count, [])

/**
 * The W3C traceparent of the current span, if any: the trace a run enqueued
 * now continues. Read from the context, not with `Effect.currentSpan`, which
 * fails without a span (an exception object with its stack trace on every
 * enqueue outside a span).
 */
export const currentTraceparent: Effect.Effect<string | undefined> = Effect.map(
  Effect.serviceOption(Tracer.ParentSpan),
  (span) => {
    if (Option.isNone(span) || span.value._tag !== "Span") return undefined
    const { sampled, spanId, traceId } = span.value
    return `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`
  }
)

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The span a run's trace context names, as the parent of its attempt's span. */
export const parentOf = (traceparent: string | undefined): Tracer.ExternalSpan | undefined => {
  if (traceparent === undefined) return undefined
  const match = traceparentPattern.exec(traceparent)
  if (match === null) return undefined
  return Tracer.externalSpan({ traceId: match[1]!, spanId: match[2]!, sampled: (parseInt(match[3]!, 16) & 1) === 1 })
}
