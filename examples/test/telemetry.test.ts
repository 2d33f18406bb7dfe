import { Clockwork, JobStore, Scheduler } from "@clockwork/core"
import { NodeSdk } from "@effect/opentelemetry"
import { describe, expect, it } from "@effect/vitest"
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import { chargeCard } from "../src/telemetry/jobs.js"

describe("telemetry through @effect/opentelemetry", () => {
  it.live("a run's attempts are spans of the request's trace, and its metrics reach the exporter", () =>
    Effect.gen(function*() {
      const spans = new InMemorySpanExporter()
      const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
      const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 })
      const Telemetry = NodeSdk.layer(() => ({
        resource: { serviceName: "clockwork-test" },
        spanProcessor: new SimpleSpanProcessor(spans),
        metricReader: reader
      }))
      // read before the scope closes: shutting the SDK down empties the in-memory exporters
      const [finished, exported] = yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(chargeCard, { order: "o-1", cents: 100 }).pipe(
          Effect.withSpan("http POST /orders")
        )
        yield* Scheduler.result(handle)
        yield* Effect.promise(() => reader.forceFlush())
        return [
          [...spans.getFinishedSpans()],
          metrics.getMetrics().flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics))
        ] as const
      }).pipe(
        Effect.provide(Clockwork.layer([chargeCard]).pipe(Layer.provideMerge(JobStore.layerMemory))),
        Effect.provide(Telemetry),
        Effect.scoped
      )

      const request = finished.find((span) => span.name === "http POST /orders")!
      const runs = finished.filter((span) => span.name === "clockwork.run")
      expect(runs.map((span) => span.attributes["clockwork.status"])).toEqual(["failed", "succeeded"])
      for (const run of runs) {
        expect(run.spanContext().traceId).toBe(request.spanContext().traceId)
        expect(run.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
        expect(run.attributes["clockwork.job"]).toBe("charge-card")
      }
      const charges = finished.filter((span) => span.name === "psp.charge")
      expect(charges.map((span) => span.parentSpanContext?.spanId)).toEqual(runs.map((span) => span.spanContext().spanId))

      const finishedRuns = exported.find((m) => m.descriptor.name === "clockwork_runs_finished")!
      const points = finishedRuns.dataPoints.map((p) => [p.attributes["job"], p.attributes["status"], p.value])
      expect(points).toContainEqual(["charge-card", "failed", 1])
      expect(points).toContainEqual(["charge-card", "succeeded", 1])
      expect(exported.map((m) => m.descriptor.name)).toContain("clockwork_run_duration_ms")
    }), 30_000)
})
