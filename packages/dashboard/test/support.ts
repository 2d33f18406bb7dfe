import { Clockwork, Job, type JobStore, Scheduler, Trigger, Workflow } from "@clockwork/core"
import { Dashboard } from "@clockwork/dashboard"
import { Config, Data, Effect, Layer, ManagedRuntime, Option, Redacted, Schedule, Schema } from "effect"

export const token = "s3cret-token"

/** A job that succeeds at once. */
export const hello = Job.make({
  name: "hello",
  payload: Schema.Struct({ n: Schema.Number }),
  success: Schema.Number,
  run: ({ n }) => Effect.succeed(n * 2)
})

class Boom extends Data.TaggedError("Boom")<{ readonly message: string }> {}

/** A job whose name and error would run script if a page rendered them as HTML. */
export const hostile = Job.make({
  name: "<img src=x onerror=alert(1)>",
  payload: Schema.Struct({}),
  retry: Schedule.stop,
  run: () => Effect.fail(new Boom({ message: "</script><script>alert(1)</script>" }))
})

/** A job that runs until it is cancelled. */
export const slow = Job.make({
  name: "slow",
  payload: Schema.Struct({}),
  run: () => Effect.never
})

/** A workflow: a step, a child run of `hello`, then a wait for the signal "go". */
export const approval = Workflow.make({
  name: "approval",
  payload: Schema.Struct({}),
  success: Schema.Number,
  run: () =>
    Effect.gen(function*() {
      const base = yield* Workflow.step("base", Effect.succeed(20), { success: Schema.Number })
      const doubled = yield* Workflow.child(hello, { n: base }, { name: "double" })
      const extra = yield* Workflow.signal("go", Schema.Number)
      return doubled + extra
    })
})

export const jobs = [hello, hostile, slow, approval] as const

/** An app with the runner and the dashboard on a free port, on the given store. */
export const start = (store: Layer.Layer<JobStore.JobStore, unknown>, options?: { readonly token?: boolean }) => {
  const app = Dashboard.layer({
    port: 0,
    token: Config.succeed(options?.token === false ? Option.none() : Option.some(Redacted.make(token)))
  }).pipe(
    Layer.provideMerge(Clockwork.layer(jobs, { runner: { workerId: "worker-1" } })),
    Layer.provideMerge(store)
  )
  const runtime = ManagedRuntime.make(app)
  return runtime
}

export type App = ReturnType<typeof start>

export const urlOf = (runtime: App) => runtime.runPromise(Effect.map(Dashboard.Dashboard, (d) => d.url))

/** Polls until `check` returns a value (generous bound: other tests share the machine). */
export const eventually = async <A>(check: () => Promise<A | undefined>, timeoutMs = 60_000): Promise<A> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (performance.now() > deadline) throw new Error("condition not met in time")
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export const scheduleHello = Scheduler.schedule("hello-every-hour", hello, {
  trigger: Trigger.every("1 hour"),
  payload: { n: 21 }
})
