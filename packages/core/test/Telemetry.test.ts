import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Metric, MetricState, Option, Schedule, Schema, Tracer } from "effect"
import { Clockwork, Job, JobStore, Scheduler, Telemetry, Testing, Trigger } from "../src/index.js"

/** A tracer that keeps every span Effect's own tracer makes. */
const capturing = Effect.map(Effect.tracer, (native) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: (f, fiber) => native.context(f, fiber)
  })
  return { spans, tracer }
})

const runSpans = (spans: ReadonlyArray<Tracer.Span>, jobName: string) =>
  spans.filter((span) => span.name === Telemetry.runSpanName && span.attributes.get("clockwork.job") === jobName)

const parentId = (span: Tracer.Span) => Option.getOrUndefined(Option.map(span.parent, (parent) => parent.spanId))

/** The value of a metric with these labels, from `Metric.snapshot`. */
const metricState = (name: string, labels: Record<string, string>) =>
  Effect.map(Metric.snapshot, (pairs) => {
    const pair = pairs.find((p) =>
      p.metricKey.name === name &&
      Object.entries(labels).every(([key, value]) => p.metricKey.tags.some((t) => t.key === key && t.value === value))
    )
    return pair?.metricState
  })

const counterOf = (name: string, labels: Record<string, string>) =>
  Effect.map(metricState(name, labels), (state) => (state !== undefined && MetricState.isCounterState(state) ? state.count : 0))

describe("spans", () => {
  it.scoped("an attempt's span is a child of the span that enqueued the run, with the run's attributes and status", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* capturing
      let attempts = 0
      const charge = Job.make({
        name: "charge-card",
        payload: Schema.Struct({ order: Schema.String }),
        retry: Schedule.recurs(1),
        run: () =>
          Effect.withSpan("psp.request")(Effect.suspend(() => ++attempts === 1 ? Effect.fail("declined") : Effect.void))
      })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(charge, { order: "o-1" }).pipe(Effect.withSpan("http POST /checkout"))
        yield* Testing.advance("10 seconds")
        const checkout = spans.find((span) => span.name === "http POST /checkout")!
        const runs = runSpans(spans, "charge-card")
        expect(runs).toHaveLength(2)
        for (const [i, span] of runs.entries()) {
          expect(span.traceId).toBe(checkout.traceId)
          expect(parentId(span)).toBe(checkout.spanId)
          expect(span.kind).toBe("consumer")
          expect(Object.fromEntries(span.attributes)).toMatchObject({
            "clockwork.job": "charge-card",
            "clockwork.run_id": handle.id,
            "clockwork.attempt": i + 1,
            "clockwork.status": i === 0 ? "failed" : "succeeded"
          })
          expect(span.status._tag).toBe("Ended")
        }
        // the job's own spans nest under its attempt's
        const requests = spans.filter((span) => span.name === "psp.request")
        expect(requests.map(parentId)).toEqual(runs.map((span) => span.spanId))
      }).pipe(Effect.provide(Testing.layer([charge])), Effect.withTracer(tracer))
    }))

  it.scoped("a run enqueued outside any span starts its own trace; a then: step's span is a child of its parent's", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* capturing
      const second = Job.make({ name: "step-two", payload: Schema.Number, run: () => Effect.void })
      const first = Job.make({ name: "step-one", payload: Schema.Struct({}), success: Schema.Number, run: () => Effect.succeed(2) })
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(first, {}, { then: second })
        yield* Testing.advance("1 second")
        const [one] = runSpans(spans, "step-one")
        const [two] = runSpans(spans, "step-two")
        expect(Option.isNone(one!.parent)).toBe(true)
        expect(two!.traceId).toBe(one!.traceId)
        expect(parentId(two!)).toBe(one!.spanId)
      }).pipe(Effect.provide(Testing.layer([first, second])), Effect.withTracer(tracer))
    }))

  it.scoped("scheduled runs and the engine's loops make no other spans", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* capturing
      const tick = Job.make({ name: "tick", payload: Schema.Struct({}), run: () => Effect.void })
      yield* Effect.gen(function*() {
        yield* Scheduler.schedule("every-second", tick, { trigger: Trigger.every("1 second"), payload: {} })
        yield* Testing.advance("5 seconds")
      }).pipe(Effect.provide(Testing.layer([tick])), Effect.withTracer(tracer))
      expect(spans.length).toBeGreaterThanOrEqual(5)
      expect(spans.every((span) => span.name === Telemetry.runSpanName)).toBe(true)
    }))
})

describe("metrics", () => {
  it.scoped("attempts are counted by job and status, with their durations and lateness", () =>
    Effect.gen(function*() {
      let calls = 0
      const flaky = Job.make({
        name: "metrics-flaky",
        payload: Schema.Struct({}),
        retry: Schedule.recurs(1),
        run: () => Effect.zipRight(Effect.sleep("2 seconds"), ++calls === 1 ? Effect.fail("boom") : Effect.void)
      })
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(flaky, {}, { delay: "3 seconds" })
        yield* Testing.advance("1 minute")
      }).pipe(Effect.provide(Testing.layer([flaky])))
      expect(yield* counterOf("clockwork_runs_finished", { job: "metrics-flaky", status: "failed" })).toBe(1)
      expect(yield* counterOf("clockwork_runs_finished", { job: "metrics-flaky", status: "succeeded" })).toBe(1)
      const duration = yield* metricState("clockwork_run_duration_ms", { job: "metrics-flaky" })
      expect(duration !== undefined && MetricState.isHistogramState(duration) ? [duration.count, duration.sum] : [])
        .toEqual([2, 4_000])
      // due at 3 s, started at 3 s: no lag; only the first attempt counts
      const lag = yield* metricState("clockwork_schedule_lag_ms", { job: "metrics-flaky" })
      expect(lag !== undefined && MetricState.isHistogramState(lag) ? [lag.count, lag.sum] : []).toEqual([1, 0])
    }))

  it.scoped("the reaper keeps the queue depth gauges per job and state", () =>
    Effect.gen(function*() {
      const later = Job.make({ name: "metrics-later", payload: Schema.Struct({}), run: () => Effect.void })
      const gauge = (state: string) =>
        Effect.map(metricState("clockwork_queue_depth", { job: "metrics-later", state }), (s) =>
          s !== undefined && MetricState.isGaugeState(s) ? Number(s.value) : undefined)
      // a scheduler without a runner: the runs wait, and its reaper counts them every 10 seconds
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueueMany(later, [{}, {}, {}], { delay: "1 hour" })
        yield* Scheduler.enqueue(later, {})
        yield* Testing.advance("10 seconds")
        expect([yield* gauge("due"), yield* gauge("later"), yield* gauge("running")]).toEqual([1, 3, 0])
      }).pipe(
        Effect.provide(
          Clockwork.layerScheduler({ reaper: { interval: "10 seconds" }, retention: false }).pipe(
            Layer.provideMerge(JobStore.layerMemory)
          )
        )
      )
    }))
})
