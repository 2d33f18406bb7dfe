/**
 * Workflows under TestClock on the memory store: journaled steps, durable
 * sleeps, children and signals, cancellation and code changes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schedule, Schema, TestClock } from "effect"
import { Job, JobStore, type Run, Scheduler, Testing, Trigger, Workflow } from "../src/index.js"

const Empty = Schema.Struct({})

const historyOf = (runId: Run.RunId) => Effect.map(Scheduler.history({ runId, limit: 1000 }), (rows) => [...rows].reverse())

describe("steps", () => {
  it.scoped("a retry resumes after the last completed step: completed steps never run again", () => {
    const calls = { reserve: 0, charge: 0, email: 0 }
    let failEmail = 2
    const order = Workflow.make({
      name: "order",
      payload: Schema.Struct({ id: Schema.String }),
      success: Schema.String,
      retry: Job.defaultRetry,
      run: ({ id }) =>
        Effect.gen(function*() {
          const stock = yield* Workflow.step("reserve", Effect.sync(() => ++calls.reserve), { success: Schema.Number })
          const receipt = yield* Workflow.step(
            "charge",
            Effect.sync(() => `receipt-${id}-${++calls.charge}`),
            { success: Schema.String }
          )
          yield* Workflow.step(
            "email",
            Effect.suspend(() => {
              calls.email++
              return failEmail-- > 0 ? Effect.fail("smtp down") : Effect.void
            })
          )
          return `${receipt} stock ${stock}`
        })
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(order, { id: "o1" })
      yield* Testing.advance("1 minute")
      expect(yield* Scheduler.result(handle)).toBe("receipt-o1-1 stock 1")
      expect(calls).toEqual({ reserve: 1, charge: 1, email: 3 })
      const attempts = yield* historyOf(handle.id)
      expect(attempts.map((r) => r.status)).toEqual(["failed", "failed", "succeeded"])
      const steps = yield* Scheduler.steps(handle.id)
      expect(steps.map((s) => [s.name, s.kind, s.status, s.attempt])).toEqual([
        ["reserve", "step", "succeeded", 1],
        ["charge", "step", "succeeded", 1],
        ["email", "step", "succeeded", 3]
      ])
    }).pipe(Effect.provide(Testing.layer([order])))
  })

  it.scoped("a result that does not fit its Schema is a typed failure", () => {
    const wf = Workflow.make({
      name: "bad-result",
      payload: Empty,
      retry: Job.noRetry,
      run: () =>
        Effect.catchTag(
          Workflow.step("compute", Effect.succeed(-1), { success: Schema.NonNegative }),
          "StepResultInvalid",
          (error) => Effect.fail(`caught ${error.step}`)
        )
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 second")
      const [attempt] = yield* historyOf(handle.id)
      expect(attempt?.status).toBe("failed")
      expect(attempt?.error?.message).toBe("caught compute")
    }).pipe(Effect.provide(Testing.layer([wf])))
  })

  it.scoped("a step's timeout and retry apply to each try within the attempt", () => {
    let tries = 0
    const wf = Workflow.make({
      name: "flaky",
      payload: Empty,
      success: Schema.Number,
      retry: Job.noRetry,
      run: () =>
        Workflow.step(
          "call",
          Effect.suspend(() => ++tries < 3 ? Effect.never : Effect.succeed(tries)),
          { success: Schema.Number, timeout: "10 seconds", retry: Schedule.recurs(5) }
        )
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 minute")
      expect(yield* Scheduler.result(handle)).toBe(3)
      const [attempt] = yield* historyOf(handle.id)
      expect(attempt!.finishedAt.epochMillis - attempt!.startedAt.epochMillis).toBe(20_000)
    }).pipe(Effect.provide(Testing.layer([wf])))
  })
})

describe("durable sleep", () => {
  /** a job that records the TestClock instant each of its runs starts at */
  const recordingStarts = () => {
    const started: Array<number> = []
    const other = Job.make({
      name: "other",
      payload: Empty,
      run: () => Effect.flatMap(TestClock.currentTimeMillis, (now) => Effect.sync(() => started.push(now)))
    })
    return { other, started }
  }

  it.scoped("a 3-day sleep holds no slot and wakes at its exact instant", () => {
    const { other, started } = recordingStarts()
    const wf = Workflow.make({
      name: "reminder",
      payload: Empty,
      run: () =>
        Effect.gen(function*() {
          yield* Workflow.step("first", Effect.void)
          yield* Workflow.sleep("3 days")
          yield* Workflow.step("after", Effect.void)
        })
    })
    return Effect.gen(function*() {
      const start = yield* TestClock.currentTimeMillis
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 hour")
      // one slot: the sleeping workflow does not hold it
      yield* Scheduler.enqueue(other, {})
      yield* Testing.advance("1 hour")
      expect(started).toHaveLength(1)
      const waiting = yield* Scheduler.getRun(handle.id)
      expect(waiting.state).toBe("queued")
      expect(waiting.runAt.epochMillis).toBe(start + 3 * 86_400_000)
      expect(waiting.attempt).toBe(0)
      yield* Testing.advance("3 days")
      const [attempt] = yield* historyOf(handle.id)
      expect(attempt?.status).toBe("succeeded")
      expect(attempt?.attempt).toBe(1)
      expect(attempt?.startedAt.epochMillis).toBe(start + 3 * 86_400_000)
      const steps = yield* Scheduler.steps(handle.id)
      expect(steps.map((s) => [s.name, s.status])).toEqual([
        ["first", "succeeded"],
        ["sleep@1", "succeeded"],
        ["after", "succeeded"]
      ])
    }).pipe(Effect.provide(Testing.layer([wf, other], { runner: { concurrency: 1 } })))
  })

  it.scoped("a run queued while the only slot is taken starts the moment a workflow there goes to sleep", () => {
    const { other, started } = recordingStarts()
    const wf = Workflow.make({
      name: "nap",
      payload: Empty,
      run: () => Effect.zipRight(Workflow.step("first", Effect.void), Workflow.sleep("3 days"))
    })
    return Effect.gen(function*() {
      const start = yield* TestClock.currentTimeMillis
      // both queued before the runner looks: it takes the workflow, and has no slot left for the other
      yield* Scheduler.enqueue(wf, {})
      yield* Scheduler.enqueue(other, {})
      yield* Testing.advance("1 second")
      expect(started).toEqual([start])
    }).pipe(Effect.provide(Testing.layer([wf, other], { runner: { concurrency: 1 } })))
  })
})

describe("signals", () => {
  const Shipment = Schema.Struct({ carrier: Schema.String })
  const wf = Workflow.make({
    name: "await-shipping",
    payload: Empty,
    success: Schema.String,
    retry: Job.noRetry,
    run: () =>
      Effect.gen(function*() {
        yield* Workflow.sleep("30 days")
        const shipment = yield* Workflow.signal("shipped", Shipment, { timeout: "2 days" })
        return shipment.carrier
      })
  })

  it.scoped("a signal sent from outside resumes the waiting run; 30 days take milliseconds", () =>
    Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("31 days")
      expect(yield* Scheduler.signal(handle.id, "shipped", { carrier: "UPS" })).toBe("delivered")
      expect(yield* Scheduler.signal(handle.id, "shipped", { carrier: "DHL" })).toBe("duplicate")
      yield* Testing.advance("1 second")
      expect(yield* Scheduler.result(handle)).toBe("UPS")
      expect(yield* Scheduler.signal(handle.id, "shipped", {})).toBe("finished")
    }).pipe(Effect.provide(Testing.layer([wf]))))

  it.scoped("a signal sent before the wait is kept for it", () =>
    Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 day")
      expect(yield* Scheduler.signal(handle.id, "shipped", { carrier: "UPS" })).toBe("delivered")
      yield* Testing.advance("30 days")
      expect(yield* Scheduler.result(handle)).toBe("UPS")
    }).pipe(Effect.provide(Testing.layer([wf]))))

  it.scoped("no signal within the timeout fails the wait with SignalTimeout, at its instant", () =>
    Effect.gen(function*() {
      const start = yield* TestClock.currentTimeMillis
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("33 days")
      const [attempt] = yield* historyOf(handle.id)
      expect(attempt?.status).toBe("failed")
      expect(attempt?.error?.tag).toBe("SignalTimeout")
      expect(attempt?.startedAt.epochMillis).toBe(start + 32 * 86_400_000)
      expect(yield* Scheduler.signal(handle.id, "shipped", { carrier: "UPS" })).toBe("finished")
    }).pipe(Effect.provide(Testing.layer([wf]))))

  it.scoped("a value that does not decode is SignalInvalid; an unstorable one is refused", () =>
    Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("31 days")
      const refused = yield* Effect.flip(Scheduler.signal(handle.id, "shipped", { carrier: "a\u0000b" }))
      expect(refused._tag).toBe("InvalidSignal")
      expect(refused.message).toContain("value.carrier")
      expect(yield* Scheduler.signal(handle.id, "shipped", { carrier: 42 })).toBe("delivered")
      yield* Testing.advance("1 second")
      const [attempt] = yield* historyOf(handle.id)
      expect(attempt?.error?.tag).toBe("SignalInvalid")
      const missing = yield* Effect.flip(Scheduler.signal("nope" as Run.RunId, "shipped", {}))
      expect(missing._tag).toBe("RunNotFound")
    }).pipe(Effect.provide(Testing.layer([wf]))))
})

describe("children", () => {
  const square = Job.make({
    name: "square",
    payload: Schema.Number,
    success: Schema.Number,
    run: (n) => Effect.succeed(n * n)
  })

  const echo = Job.make({
    name: "echo",
    payload: Schema.Struct({ text: Schema.String }),
    run: ({ text }) => Effect.succeed(text)
  })

  it.scoped("a fan-out of 200 children with runner concurrency 2 completes, in order", () => {
    const wf = Workflow.make({
      name: "fan-out",
      payload: Schema.Number,
      success: Schema.Number,
      run: (n) =>
        Effect.map(
          Workflow.forEach(Array.from({ length: n }, (_, i) => i), (i) => Workflow.child(square, i)),
          (squares) => squares.reduce((sum, x, i) => (x === i * i ? sum + x : Number.NaN), 0)
        )
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, 200)
      yield* Testing.advance("1 minute")
      expect(yield* Scheduler.result(handle)).toBe(Array.from({ length: 200 }, (_, i) => i * i).reduce((a, b) => a + b))
      const steps = yield* Scheduler.steps(handle.id)
      expect(steps).toHaveLength(200)
      expect(steps.every((s) => s.kind === "child" && s.status === "succeeded")).toBe(true)
    }).pipe(Effect.provide(Testing.layer([wf, square], { runner: { concurrency: 2 } })))
  })

  it.scoped("a child's failure is a typed ChildFailed of the step", () => {
    const fails = Job.make({ name: "fails", payload: Empty, retry: Job.noRetry, run: () => Effect.fail("no") })
    const wf = Workflow.make({
      name: "parent",
      payload: Empty,
      success: Schema.String,
      retry: Job.noRetry,
      run: () =>
        Workflow.child(fails, {}).pipe(
          Effect.as("ok"),
          Effect.catchTag("ChildFailed", (e) => Effect.succeed(`${e.state}: ${e.error?.message}`))
        )
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 second")
      expect(yield* Scheduler.result(handle)).toBe("failed: no")
    }).pipe(Effect.provide(Testing.layer([wf, fails])))
  })

  it.scoped("a child's payload that its Schema or no store can hold is InvalidPayload, and no child starts", () => {
    const wf = Workflow.make({
      name: "bad-children",
      payload: Empty,
      success: Schema.Array(Schema.String),
      retry: Job.noRetry,
      run: () =>
        Effect.all([
          // not a number: the child's Schema does not encode it
          Workflow.child(square, "two" as unknown as number).pipe(Effect.flip, Effect.map((e) => e.message)),
          // a lone surrogate: no store can hold it
          Workflow.child(echo, { text: "\ud800" }).pipe(Effect.flip, Effect.map((e) => e.message))
        ])
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 second")
      const [notEncoded, unstorable] = yield* Scheduler.result(handle)
      expect(notEncoded).toContain(`payload for job "square" does not match its schema: Expected number`)
      expect(unstorable).toContain(`payload.text of job "echo" cannot be stored`)
      const store = yield* JobStore.JobStore
      expect([...(yield* store.listRuns({ jobName: "square" })), ...(yield* store.listRuns({ jobName: "echo" }))])
        .toEqual([])
    }).pipe(Effect.provide(Testing.layer([wf, square, echo])))
  })

  it.scoped("cancelling a parent cancels its children", () => {
    const forever = Job.make({ name: "forever", payload: Empty, run: () => Effect.never })
    const wf = Workflow.make({
      name: "parent-of-two",
      payload: Empty,
      run: () => Workflow.all([Workflow.child(forever, {}), Workflow.child(forever, {})])
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 second")
      const steps = yield* Scheduler.steps(handle.id)
      expect(steps).toHaveLength(2)
      expect(yield* Scheduler.cancel(handle.id)).toBe("cancelled")
      yield* Testing.advance("1 second")
      for (const step of steps) expect((yield* Scheduler.getRun(step.childRunId!)).state).toBe("cancelled")
    }).pipe(Effect.provide(Testing.layer([wf, forever])))
  })
})

describe("cancellation", () => {
  it.scoped("cancelling a running workflow interrupts it: its compensation runs; ending an attempt to wait does not", () => {
    const log: Array<string> = []
    const wf = Workflow.make({
      name: "booking",
      payload: Empty,
      run: () =>
        Effect.gen(function*() {
          yield* Workflow.step("hold-seat", Effect.sync(() => log.push("held")))
          yield* Workflow.sleep("1 hour")
          yield* Workflow.step("pay", Effect.never)
        }).pipe(Effect.onInterrupt(() => Effect.sync(() => log.push("seat released"))))
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 minute")
      // waiting for its hour: no interruption, no compensation
      expect(log).toEqual(["held"])
      yield* Testing.advance("1 hour")
      expect((yield* Scheduler.getRun(handle.id)).state).toBe("running")
      expect(yield* Scheduler.cancel(handle.id)).toBe("cancelled")
      expect(log).toEqual(["held", "seat released"])
      yield* Testing.settle
      const [attempt] = yield* Scheduler.history({ runId: handle.id })
      expect(attempt?.status).toBe("cancelled")
    }).pipe(Effect.provide(Testing.layer([wf])))
  })

  it.scoped("a workflow cancelled while it waits ends cancelled, without running again", () => {
    let runs = 0
    const wf = Workflow.make({
      name: "waiter",
      payload: Empty,
      run: () =>
        Effect.gen(function*() {
          runs++
          yield* Workflow.signal("go", Schema.Boolean)
        })
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 minute")
      expect(yield* Scheduler.cancel(handle.id)).toBe("cancelled")
      yield* Testing.advance("1 minute")
      expect(runs).toBe(1)
      expect((yield* Scheduler.getRun(handle.id)).state).toBe("cancelled")
      expect(yield* Scheduler.signal(handle.id, "go", true)).toBe("finished")
    }).pipe(Effect.provide(Testing.layer([wf])))
  })
})

describe("schedules", () => {
  it.scoped("a scheduled workflow with overlap skip: ticks that come while a run waits are skipped", () => {
    const wf = Workflow.make({
      name: "slow-report",
      payload: Empty,
      overlap: "skip",
      run: () => Workflow.sleep("150 minutes")
    })
    return Effect.gen(function*() {
      const start = yield* TestClock.currentTimeMillis
      yield* Scheduler.schedule("hourly-report", wf, { trigger: Trigger.every("1 hour"), payload: {} })
      yield* Testing.advance("7 hours")
      const runs = yield* Scheduler.history({ scheduleId: "hourly-report" })
      // runs due at 1 h and 4 h each end 2.5 h later; the ticks at 2, 3, 5 and 6 h find one waiting
      const hour = 3_600_000
      expect(runs.map((r) => [r.status, (r.scheduledFor.epochMillis - start) / hour]).reverse()).toEqual([
        ["succeeded", 1],
        ["succeeded", 4]
      ])
    }).pipe(Effect.provide(Testing.layer([wf])))
  })
})

describe("code changes", () => {
  it.scoped("a step added before recorded ones is WorkflowChanged, and not retried", () => {
    let version = 1
    const wf = Workflow.make({
      name: "evolving",
      payload: Empty,
      run: () =>
        Effect.gen(function*() {
          yield* Workflow.step("a", Effect.void)
          if (version === 2) yield* Workflow.step("x", Effect.void)
          yield* Workflow.sleep("1 day")
          yield* Workflow.step("b", Effect.void)
        })
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 hour")
      version = 2
      yield* Testing.advance("1 day")
      const attempts = yield* historyOf(handle.id)
      expect(attempts.map((r) => [r.status, r.error?.tag])).toEqual([["failed", "WorkflowChanged"]])
      expect(attempts[0]?.error?.message).toContain(`step "x"`)
    }).pipe(Effect.provide(Testing.layer([wf])))
  })

  it.scoped("two steps with one name are DuplicateStep", () => {
    const wf = Workflow.make({
      name: "twice",
      payload: Empty,
      run: () => Effect.zipRight(Workflow.step("a", Effect.void), Workflow.step("a", Effect.void))
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(wf, {})
      yield* Testing.advance("1 second")
      const attempts = yield* historyOf(handle.id)
      expect(attempts.map((r) => r.error?.tag)).toEqual(["DuplicateStep"])
    }).pipe(Effect.provide(Testing.layer([wf])))
  })
})
