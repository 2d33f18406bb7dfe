/**
 * clockwork's spans and metrics exported with @effect/opentelemetry: an order
 * is placed inside a request's span, its `charge-card` run (on the memory
 * store here; any store works the same, across machines) continues that
 * trace, fails once, and is retried. The console exporters print the spans
 * (`http POST /orders`, then a `clockwork.run` per attempt, with the job's own
 * `psp.charge` span under each) and the metrics (`clockwork_runs_finished`,
 * `clockwork_run_duration_ms`, `clockwork_schedule_lag_ms`...).
 *
 * Run it with `npm run telemetry --workspace examples`. In production, swap the
 * console exporters for OTLP ones (`@effect/opentelemetry`'s `Otlp.layer({
 * baseUrl })` needs no OpenTelemetry SDK at all).
 */
import { Clockwork, JobStore, Scheduler } from "@clockwork/core"
import { NodeSdk } from "@effect/opentelemetry"
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import { chargeCard } from "./jobs.js"

const Telemetry = NodeSdk.layer(() => ({
  resource: { serviceName: "clockwork-demo" },
  spanProcessor: new SimpleSpanProcessor(new ConsoleSpanExporter()),
  metricReader: new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 60_000 })
}))

const program = Effect.gen(function*() {
  const handle = yield* Scheduler.enqueue(chargeCard, { order: "o-1001", cents: 4_200 }).pipe(
    Effect.withSpan("http POST /orders", { kind: "server" })
  )
  yield* Scheduler.result(handle)
  yield* Effect.log("order o-1001 charged; spans and metrics follow")
})

// the telemetry layer outermost: the app's layers (and the runner's fibers) are built with its tracer
program.pipe(
  Effect.provide(Clockwork.layer([chargeCard]).pipe(Layer.provideMerge(JobStore.layerMemory))),
  Effect.provide(Telemetry),
  Effect.runPromise
)
