/**
 * Workflows end to end on one store, with the live clock: the journal
 * survives a restart, a wide fan-out of children completes on few runner
 * slots, sleeps and signal waits hold no slot, and cancellation reaches the
 * children. Run against each store, like the JobStore conformance suite.
 *
 * @since 0.1.0
 */
import { describe, expect, it } from "@effect/vitest"
import { type Context, Effect, Layer, Schedule, Schema } from "effect"
import { Clockwork, Job, JobStore, Run, Scheduler, Workflow } from "../src/index.js"

/** Retries `check` (an Effect failing until its condition holds) every 50 ms, for at most `seconds`. */
const eventually = <A, E, R>(check: Effect.Effect<A, E, R>, seconds = 60) =>
  check.pipe(Effect.retry(Schedule.spaced("50 millis")), Effect.timeout(`${seconds} seconds`))

const Empty = Schema.Struct({})

/**
 * Declares the workflow suite for one store layer. Each build of `layer`
 * must be a fresh, empty store; within a test one build serves every app
 * started on it (a restart finds what the first one left).
 *
 * @example
 * ```ts
 * run("memory", JobStore.layerMemory)
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const run = (name: string, layer: Layer.Layer<JobStore.JobStore, unknown>): void => {
  const appOn = (
    jobs: ReadonlyArray<Job.Job<any, any, any, never>>,
    context: Context.Context<JobStore.JobStore>,
    concurrency = 10
  ) =>
    Clockwork.layer(jobs, { runner: { shutdownGrace: "5 seconds", concurrency } }).pipe(
      Layer.provideMerge(Layer.succeedContext(context))
    )

  /** Runs `body` with an app on the store, closing the app (as a process would stop) at its end. */
  const withApp = <A, E>(
    jobs: ReadonlyArray<Job.Job<any, any, any, never>>,
    context: Context.Context<JobStore.JobStore>,
    body: Effect.Effect<A, E, Scheduler.Scheduler>,
    concurrency?: number
  ) => Effect.scoped(Effect.provide(body, appOn(jobs, context, concurrency)))

  describe(`Workflows on a store: ${name}`, () => {
    it.scopedLive("the journal survives a restart: the run resumes in a new app and its steps ran once", () =>
      Effect.gen(function*() {
        let charged = 0
        const order = Workflow.make({
          name: "order",
          payload: Schema.Struct({ id: Schema.String }),
          success: Schema.String,
          run: ({ id }) =>
            Effect.gen(function*() {
              const receipt = yield* Workflow.step(
                "charge",
                Effect.sync(() => `receipt-${id}-${++charged}`),
                { success: Schema.String }
              )
              const shipment = yield* Workflow.signal("shipped", Schema.Struct({ carrier: Schema.String }))
              return `${receipt} via ${shipment.carrier}`
            })
        })
        const context = yield* Layer.build(layer)
        const handle = yield* withApp(
          [order],
          context,
          Effect.gen(function*() {
            const handle = yield* Scheduler.enqueue(order, { id: "o1" })
            yield* eventually(Effect.filterOrFail(
              Scheduler.steps(handle.id),
              (steps) => steps.some((s) => s.name === "signal:shipped" && s.status === "waiting"),
              () => "not waiting yet"
            ))
            return handle
          })
        )
        // the first app is gone; a second one on the same store takes the run up where it stopped
        const result = yield* withApp(
          [order],
          context,
          Effect.gen(function*() {
            expect(yield* Scheduler.signal(handle.id, "shipped", { carrier: "UPS" })).toBe("delivered")
            return yield* Scheduler.result(handle).pipe(Effect.timeout("60 seconds"))
          })
        )
        expect(result).toBe("receipt-o1-1 via UPS")
        expect(charged).toBe(1)
        const steps = yield* Effect.flatMap(JobStore.JobStore, (store) => store.journal(handle.id)).pipe(
          Effect.provide(context)
        )
        expect(steps.steps.map((s) => [s.name, s.status])).toEqual([
          ["charge", "succeeded"],
          ["signal:shipped", "succeeded"]
        ])
      }), 120_000)

    it.scopedLive("a fan-out of 1,000 children on 4 runner slots completes, and the parent gets every result", () =>
      Effect.gen(function*() {
        const square = Job.make({
          name: "square",
          payload: Schema.Number,
          success: Schema.Number,
          run: (n) => Effect.succeed(n * n)
        })
        const fanOut = Workflow.make({
          name: "fan-out",
          payload: Schema.Number,
          success: Schema.Array(Schema.Number),
          run: (n) => Workflow.forEach(Array.from({ length: n }, (_, i) => i), (i) => Workflow.child(square, i))
        })
        const context = yield* Layer.build(layer)
        const squares = yield* withApp(
          [fanOut, square],
          context,
          Effect.flatMap(Scheduler.enqueue(fanOut, 1000), (handle) =>
            Scheduler.result(handle).pipe(Effect.timeout("240 seconds"))),
          4
        )
        expect(squares).toEqual(Array.from({ length: 1000 }, (_, i) => i * i))
      }), 300_000)

    it.scopedLive("a sleeping workflow holds no slot; it wakes at its instant", () =>
      Effect.gen(function*() {
        const ranAt: Array<number> = []
        const nap = Workflow.make({
          name: "nap",
          payload: Empty,
          success: Schema.Number,
          run: () =>
            Effect.gen(function*() {
              const start = yield* Workflow.step("start", Effect.sync(() => Date.now()), { success: Schema.Number })
              yield* Workflow.sleep("2 seconds")
              return yield* Workflow.step("end", Effect.sync(() => Date.now() - start), { success: Schema.Number })
            })
        })
        const other = Job.make({ name: "other", payload: Empty, run: () => Effect.sync(() => ranAt.push(Date.now())) })
        const context = yield* Layer.build(layer)
        const slept = yield* withApp(
          [nap, other],
          context,
          Effect.gen(function*() {
            const handle = yield* Scheduler.enqueue(nap, {})
            yield* eventually(Effect.filterOrFail(Scheduler.getRun(handle.id), (r) => r.state === "queued" && r.attempt === 0))
            // one slot, and the sleeping workflow does not hold it
            yield* Scheduler.run(other, {}).pipe(Effect.timeout("30 seconds"))
            return yield* Scheduler.result(handle).pipe(Effect.timeout("60 seconds"))
          }),
          1
        )
        expect(ranAt).toHaveLength(1)
        expect(slept).toBeGreaterThanOrEqual(2000)
      }), 120_000)

    it.scopedLive("a signal wait times out with a typed SignalTimeout", () =>
      Effect.gen(function*() {
        const wait = Workflow.make({
          name: "wait",
          payload: Empty,
          success: Schema.String,
          retry: Job.noRetry,
          run: () =>
            Workflow.signal("approved", Schema.Boolean, { timeout: "1 second" }).pipe(
              Effect.as("approved"),
              Effect.catchTag("SignalTimeout", (error) => Effect.succeed(`${error._tag} ${error.signal}`))
            )
        })
        const context = yield* Layer.build(layer)
        const result = yield* withApp(
          [wait],
          context,
          Effect.flatMap(Scheduler.enqueue(wait, {}), (handle) =>
            Scheduler.result(handle).pipe(Effect.timeout("60 seconds")))
        )
        expect(result).toBe("SignalTimeout approved")
      }), 120_000)

    it.scopedLive("cancelling a parent cancels its children, queued and running", () =>
      Effect.gen(function*() {
        const forever = Job.make({ name: "forever", payload: Schema.Number, run: () => Effect.never })
        const parent = Workflow.make({
          name: "parent",
          payload: Empty,
          run: () => Workflow.forEach([1, 2, 3], (n) => Workflow.child(forever, n))
        })
        const context = yield* Layer.build(layer)
        const children = yield* withApp(
          [parent, forever],
          context,
          Effect.gen(function*() {
            const handle = yield* Scheduler.enqueue(parent, {})
            const steps = yield* eventually(Effect.filterOrFail(Scheduler.steps(handle.id), (s) => s.length === 3))
            const ids = steps.map((s) => s.childRunId!)
            // two run (two slots besides the parent's), one waits in the queue
            yield* eventually(Effect.filterOrFail(
              Effect.forEach(ids, (id) => Scheduler.getRun(id)),
              (runs: ReadonlyArray<Run.Run>) => runs.filter((r) => r.state === "running").length === 2
            ))
            expect(yield* Scheduler.cancel(handle.id)).toBe("cancelled")
            return yield* eventually(Effect.filterOrFail(
              Effect.forEach(ids, (id) => Scheduler.getRun(id)),
              (runs: ReadonlyArray<Run.Run>) => runs.every((r) => r.state === "cancelled")
            ))
          }),
          2
        )
        expect(children.map((r) => r.state)).toEqual(["cancelled", "cancelled", "cancelled"])
      }), 120_000)

    it.scopedLive("a step whose result does not fit its Schema fails with StepResultInvalid", () =>
      Effect.gen(function*() {
        const bad = Workflow.make({
          name: "bad",
          payload: Empty,
          retry: Job.noRetry,
          run: () => Workflow.step("count", Effect.succeed(-1), { success: Schema.NonNegative })
        })
        const context = yield* Layer.build(layer)
        const error = yield* withApp(
          [bad],
          context,
          Effect.flatMap(Scheduler.enqueue(bad, {}), (handle) =>
            Effect.flip(Scheduler.result(handle).pipe(Effect.timeout("60 seconds"))))
        )
        expect(error._tag === "RunFailed" ? error.error?.tag : error._tag).toBe("StepResultInvalid")
      }), 120_000)
  })
}
