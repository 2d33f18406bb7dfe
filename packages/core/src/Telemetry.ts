/**
 * What clockwork tells OpenTelemetry (through Effect's Tracer and Metric): a
 * span per attempt, continuing the trace that enqueued the run, and metrics
 * of runs, durations, lateness, queues and lost leases. Export them with
 * `@effect/opentelemetry` (see the README and `examples/src/telemetry.ts`).
 *
 * **Spans.** Each attempt runs inside a span named `clockwork.run`
 * (`kind: consumer`) with the attributes `clockwork.job`, `clockwork.run_id`,
 * `clockwork.attempt`, `clockwork.worker_id`, `clockwork.schedule_id` (when a
 * schedule fired it) and, when it ends, `clockwork.status` (the history's
 * status, or `lost` when another worker took the run over). A run enqueued
 * inside a span carries that span's trace context through the store (on any
 * machine), so its attempts' spans are the span's children; a `then:` step
 * continues its parent's trace. The job's own spans (SQL statements, HTTP
 * calls) nest under the attempt's. The engine's background loops (claims,
 * completions, heartbeats, ticks, reaping) trace nothing: they would be a
 * root span every few milliseconds. Spans are made only when a tracer is
 * installed (an OpenTelemetry layer, `Effect.withTracer`): with Effect's
 * default tracer they would go nowhere, and cost a drain a tenth of its
 * throughput.
 *
 * **Metrics** (Effect `Metric`s, read with `Metric.snapshot` or exported):
 * the names below, labelled `job` (and `status` or `state`).
 *
 * @since 0.1.0
 */
import * as internal from "./internal/telemetry.js"

/**
 * The name of an attempt's span.
 *
 * @since 0.1.0
 * @category models
 */
export const runSpanName: string = internal.runSpanName

/**
 * `clockwork_runs_finished`: attempts that ended, labelled `job` and `status`
 * (a counter).
 *
 * @since 0.1.0
 * @category metrics
 */
export const runsFinished = internal.runsFinished

/**
 * `clockwork_run_duration_ms`: how long attempts ran, labelled `job` (a
 * histogram, 5 ms to about 11 minutes).
 *
 * @since 0.1.0
 * @category metrics
 */
export const runDuration = internal.runDuration

/**
 * `clockwork_schedule_lag_ms`: how late each run's first attempt started
 * after the instant it was due (a schedule's tick, an enqueue's `at`),
 * labelled `job` (a histogram).
 *
 * @since 0.1.0
 * @category metrics
 */
export const scheduleLag = internal.scheduleLag

/**
 * `clockwork_queue_depth`: runs due now (`state: due`), due later (`later`)
 * and running (`running`) per `job`, as the reaper of this process last
 * counted them (a gauge; each reaper interval, `Clockwork.layer` default one
 * minute).
 *
 * @since 0.1.0
 * @category metrics
 */
export const queueDepth = internal.queueDepth

/**
 * `clockwork_lease_expiries`: runs this process's reaper took back from a
 * worker that stopped renewing its lease (a counter).
 *
 * @since 0.1.0
 * @category metrics
 */
export const leaseExpiries = internal.leaseExpiries
