import { assert, describe, expect, it } from "@effect/vitest"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import {
  Cause,
  Clock,
  Config,
  ConfigProvider,
  Context,
  DateTime,
  Duration,
  Effect,
  Exit,
  Fiber,
  HashMap,
  Layer,
  Logger,
  Option,
  Queue,
  Ref,
  Schedule,
  Schema,
  Scope,
  TestClock
} from "effect"
import { Clockwork, Events, Job, JobStore, Run, Runner, Scheduler, Testing, Trigger } from "../src/index.js"
import { captureLogs } from "./support/logs.js"

const noop = Job.make({ name: "noop", payload: Schema.Struct({}), run: () => Effect.void })

/** A logger that keeps each message's text, and the lines it kept. */
const sleeper = (name: string, options?: { concurrency?: number }) =>
  Job.make({
    name,
    payload: Schema.Struct({ seconds: Schema.Number }),
    ...options,
    run: ({ seconds }) => Effect.sleep(`${seconds} seconds`)
  })

describe("concurrency", () => {
  it.scoped("the runner's global limit caps runs at once", () => {
    const job = sleeper("nap")
    return Effect.gen(function*() {
      yield* Scheduler.enqueueMany(job, Array.from({ length: 5 }, () => ({ seconds: 10 })))
      yield* Testing.advance("35 seconds")
      const starts = (yield* Scheduler.history({ jobName: "nap" })).map((r) => r.startedAt.epochMillis / 1000).sort()
      expect(starts).toEqual([0, 0, 10, 10, 20])
    }).pipe(Effect.provide(Testing.layer([job], { runner: { concurrency: 2 } })))
  })

  it.scoped("a job's own limit leaves room for other jobs", () => {
    const limited = sleeper("one-at-a-time", { concurrency: 1 })
    const other = sleeper("other")
    return Effect.gen(function*() {
      yield* Scheduler.enqueueMany(limited, [{ seconds: 10 }, { seconds: 10 }, { seconds: 10 }])
      yield* Scheduler.enqueueMany(other, [{ seconds: 10 }, { seconds: 10 }])
      yield* Testing.advance("31 seconds")
      const history = yield* Scheduler.history()
      const startsOf = (name: string) =>
        history.filter((r) => r.jobName === name).map((r) => r.startedAt.epochMillis / 1000).sort()
      expect(startsOf("one-at-a-time")).toEqual([0, 10, 20])
      expect(startsOf("other")).toEqual([0, 0])
    }).pipe(Effect.provide(Testing.layer([limited, other], { runner: { concurrency: 3 } })))
  })
})

describe("failures never kill the runner", () => {
  it.scoped("a defect is recorded as a failure and the next run still runs", () => {
    const crash = Job.make({
      name: "crash",
      payload: Schema.Struct({}),
      retry: Job.noRetry,
      run: () => Effect.die(new Error("kaboom"))
    })
    return Effect.gen(function*() {
      const bad = yield* Scheduler.enqueue(crash, {})
      yield* Testing.settle
      const good = yield* Scheduler.enqueue(noop, {})
      yield* Testing.settle
      const [failed] = yield* Scheduler.history({ runId: bad.id })
      expect(failed!.status).toBe("failed")
      expect(failed!.error?.tag).toBe("Defect")
      expect(failed!.error?.message).toBe("kaboom")
      expect(failed!.error?.cause).toContain("kaboom")
      const [ok] = yield* Scheduler.history({ runId: good.id })
      expect(ok!.status).toBe("succeeded")
    }).pipe(Effect.provide(Testing.layer([crash, noop])))
  })

  it.scoped("a handler that throws is logged as an error with its stack, annotated with the run", () => {
    const logged: Array<{ level: string; message: string; cause: string; runId: unknown }> = []
    const throws = Job.make({
      name: "throws",
      payload: Schema.Struct({}),
      retry: Job.noRetry,
      run: (): Effect.Effect<void> => {
        throw new Error("thrown synchronously")
      }
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(throws, {})
      yield* Testing.settle
      const [record] = yield* Scheduler.history({ runId: handle.id })
      expect(record!.error?.tag).toBe("Defect")
      const errors = logged.filter((line) => line.level === "ERROR")
      expect(errors).toHaveLength(1)
      expect(errors[0]!.message).toBe(`clockwork: run ${handle.id} of throws died with a defect`)
      expect(errors[0]!.runId).toBe(handle.id)
      expect(errors[0]!.cause).toContain("Error: thrown synchronously")
      // the stack, down to the handler that threw
      expect(errors[0]!.cause).toMatch(/at .*Runner\.test\.ts/)
    }).pipe(
      Effect.provide(Testing.layer([throws])),
      Effect.provide(Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ annotations, cause, logLevel, message }) => {
          logged.push({
            level: logLevel.label,
            message: Array.isArray(message) ? message.join(" ") : String(message),
            cause: Cause.pretty(cause),
            runId: Option.getOrUndefined(HashMap.get(annotations, "runId"))
          })
        })
      ))
    )
  })

  it.scoped("a payload that fails its Schema makes a failed run with the parse error, not retried", () => {
    const typed = Job.make({
      name: "typed",
      payload: Schema.Struct({ count: Schema.Number }),
      run: () => Effect.void
    })
    return Effect.gen(function*() {
      const store = yield* JobStore.JobStore
      // a row written by an older version of the app, say
      const [id] = yield* store.enqueue([{ jobName: "typed", payload: { count: "three" }, runAt: 0, scheduledFor: 0 }], 0)
      yield* Testing.advance("1 minute")
      const attempts = yield* Scheduler.history({ runId: id! })
      expect(attempts).toHaveLength(1)
      expect(attempts[0]!.status).toBe("failed")
      expect(attempts[0]!.error?.tag).toBe("ParseError")
      expect(attempts[0]!.error?.message).toContain("count")
    }).pipe(Effect.provide(Testing.layer([typed])))
  })

  it.scoped("a job whose Schemas have an asynchronous part decodes its payload and encodes its result", () => {
    // a transformation that answers from a promise: the runner cannot read it at once
    const Shouted = Schema.transformOrFail(Schema.String, Schema.String, {
      strict: true,
      decode: (text) => Effect.promise(() => Promise.resolve(text.toUpperCase())),
      encode: (text) => Effect.promise(() => Promise.resolve(text.toLowerCase()))
    })
    const shout = Job.make({
      name: "shout",
      payload: Schema.Struct({ text: Shouted }),
      success: Shouted,
      run: ({ text }) => Effect.succeed(`${text}!`)
    })
    return Effect.gen(function*() {
      expect(yield* Scheduler.run(shout, { text: "HEY" })).toBe("HEY!")
      const [record] = yield* Scheduler.history({ jobName: "shout" })
      expect(record!.status).toBe("succeeded")
      expect(record!.result).toBe("hey!")
    }).pipe(Effect.provide(Testing.layer([shout])))
  })

  it.scoped("a run of a job this runner does not register is left queued for a worker that has it", () =>
    Effect.gen(function*() {
      const store = yield* JobStore.JobStore
      const [id] = yield* store.enqueue([{ jobName: "ghost", payload: {}, runAt: 0, scheduledFor: 0 }], 0)
      yield* Scheduler.enqueue(noop, {})
      yield* Testing.advance("1 minute")
      expect((yield* Scheduler.getRun(id!)).state).toBe("queued")
      expect(yield* Scheduler.history({ runId: id! })).toEqual([])
      const queue = yield* Scheduler.queue
      expect(queue.map((q) => [q.jobName, q.due, q.running, q.workers.length])).toEqual([["ghost", 1, 0, 0]])
    }).pipe(Effect.provide(Testing.layer([noop]))))

  it.scoped("the reaper says once that a job's due runs wait for a worker that registers it", () =>
    Effect.gen(function*() {
      const { lines, logger } = captureLogs()
      const store = yield* JobStore.makeMemory
      yield* store.enqueue([{ jobName: "ghost", payload: {}, runAt: 0, scheduledFor: 0 }], 0)
      const app = Clockwork.layer([noop], { reaper: { interval: "10 seconds" }, retention: false }).pipe(
        Layer.provide(Layer.succeed(JobStore.JobStore, store))
      )
      yield* Testing.advance("1 minute").pipe(
        Effect.provide(app),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      const waits = lines.filter((line) => line.includes("no live worker registers"))
      expect(waits).toEqual([`clockwork: 1 due run(s) of job "ghost" wait: no live worker registers that job`])
    }))

  it.scoped("the reaper does not say it again when a wall clock steps back for a round, only once the runs left", () =>
    Effect.gen(function*() {
      const { lines, logger } = captureLogs()
      const memory = yield* JobStore.makeMemory
      // the store as a process whose clock stepped back a minute sees it, for the rounds asked for
      let steppedBack = false
      const store: JobStore.JobStore = {
        ...memory,
        queueDepth: (now) => memory.queueDepth(steppedBack ? now - 60_000 : now)
      }
      const [ghost] = yield* store.enqueue([{ jobName: "ghost", payload: {}, runAt: 30_000, scheduledFor: 30_000 }], 0)
      const app = Clockwork.layer([noop], { reaper: { interval: "10 seconds" }, retention: false }).pipe(
        Layer.provide(Layer.succeed(JobStore.JobStore, store))
      )
      const said = () => lines.filter((line) => line.includes("no live worker registers")).length
      yield* Effect.gen(function*() {
        yield* Testing.advance("40 seconds")
        expect(said()).toBe(1)
        // the ghost run is not due as this round sees it: still queued, nobody has been told anything new
        steppedBack = true
        yield* Testing.advance("10 seconds")
        steppedBack = false
        yield* Testing.advance("20 seconds")
        expect(said()).toBe(1)
        // once the job has no queued run, a new due run is said again
        expect(yield* store.cancel(ghost!, 70_000)).toBe("cancelled")
        yield* Testing.advance("10 seconds")
        yield* store.enqueue([{ jobName: "ghost", payload: {}, runAt: 80_000, scheduledFor: 80_000 }], 80_000)
        yield* Testing.advance("20 seconds")
        expect(said()).toBe(2)
      }).pipe(Effect.provide(app), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    }))

  it.scoped("typed errors keep their tag and message", () => {
    class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", { limit: Schema.Number }) {
      override get message() {
        return `quota of ${this.limit} exceeded`
      }
    }
    const job = Job.make({
      name: "quota",
      payload: Schema.Struct({}),
      retry: Job.noRetry,
      run: () => new QuotaExceeded({ limit: 3 })
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(job, {})
      const error = yield* Effect.flip(Scheduler.result(handle))
      assert(error._tag === "RunFailed")
      expect(error.state).toBe("failed")
      expect(error.error?.tag).toBe("QuotaExceeded")
      expect(error.error?.message).toBe("quota of 3 exceeded")
    }).pipe(Effect.provide(Testing.layer([job])))
  })
})

describe("cancellation", () => {
  it.scoped("cancelling a running job interrupts it and runs its finalizers", () =>
    Effect.gen(function*() {
      const cleaned = yield* Ref.make(false)
      const job = Job.make({
        name: "long",
        payload: Schema.Struct({}),
        run: () => Effect.never.pipe(Effect.ensuring(Ref.set(cleaned, true)))
      })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(job, {})
        yield* Testing.advance("5 seconds")
        expect(yield* Scheduler.cancel(handle.id)).toBe("cancelled")
        yield* Testing.settle
        expect(yield* Ref.get(cleaned)).toBe(true)
        const [attempt] = yield* Scheduler.history({ runId: handle.id })
        expect(attempt!.status).toBe("cancelled")
        expect(attempt!.finishedAt.epochMillis).toBe(5000)
        const run = yield* Effect.flatMap(Scheduler.Scheduler, (s) => s.getRun(handle.id))
        expect(run.state).toBe("cancelled")
        expect((yield* Runner.Runner).activeRuns()).toEqual([])
      }).pipe(Effect.provide(Testing.layer([job])))
    }))

  it.scoped("a queued run that is cancelled never starts", () =>
    Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(noop, {}, { delay: "1 minute" })
      expect(yield* Scheduler.cancel(handle.id)).toBe("cancelled")
      yield* Testing.advance("2 minutes")
      const attempts = yield* Scheduler.history({ runId: handle.id })
      expect(attempts.map((r) => r.status)).toEqual(["cancelled"])
      expect(yield* Scheduler.cancel(handle.id)).toBe("finished")
      const error = yield* Effect.flip(Scheduler.result(handle))
      assert(error._tag === "RunFailed")
      expect(error.state).toBe("cancelled")
    }).pipe(Effect.provide(Testing.layer([noop]))))

  it.scoped("cancelling an unknown run fails with RunNotFound", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Scheduler.cancel("nope" as never))
      expect(error._tag).toBe("RunNotFound")
    }).pipe(Effect.provide(Testing.layer([noop]))))
})

describe("graceful shutdown", () => {
  it.scoped("in-flight runs may finish within the grace period; the rest are interrupted and re-queued", () => {
    const job = sleeper("work")
    return Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const storeLayer = Layer.succeed(JobStore.JobStore, store)
      const app = Clockwork.layer([job], { runner: { shutdownGrace: "10 seconds" } }).pipe(Layer.provide(storeLayer))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(app, scope)
      const [quick, slow] = yield* Effect.gen(function*() {
        const quick = yield* Scheduler.enqueue(job, { seconds: 5 })
        const slow = yield* Scheduler.enqueue(job, { seconds: 60 })
        return [quick.id, slow.id] as const
      }).pipe(Effect.provide(context))
      yield* Testing.advance("1 second")
      // shutdown starts at 1 s: the quick run ends at 5 s, the grace period at 11 s
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* Testing.advance("10 seconds")
      yield* Fiber.join(closing)
      expect((yield* store.getRun(quick)).state).toBe("succeeded")
      expect((yield* store.getRun(slow)).state).toBe("queued")
      const [interrupted] = yield* store.history({ runId: slow })
      expect(interrupted!.status).toBe("interrupted")
      expect(interrupted!.finishedAt.epochMillis).toBe(11_000)
      // a new runner picks the re-queued run up
      yield* Testing.advance("61 seconds").pipe(Effect.provide(app))
      expect((yield* store.getRun(slow)).state).toBe("succeeded")
      expect((yield* store.history({ runId: slow })).map((r) => r.status)).toEqual(["succeeded", "interrupted"])
    })
  })
})

describe("events", () => {
  it.scoped("a run's lifecycle is published in order", () => {
    const flaky = Job.make({
      name: "flaky",
      payload: Schema.Struct({}),
      retry: Job.defaultRetry,
      run: (_, ctx) => ctx.attempt < 2 ? Effect.fail("first time fails") : ctx.progress(1)
    })
    return Effect.gen(function*() {
      const events = yield* Events.Events
      const subscription = yield* events.subscribe
      const handle = yield* Scheduler.enqueue(flaky, {})
      yield* Testing.advance("5 seconds")
      const seen = (yield* Queue.takeAll(subscription)).pipe((chunk) => Array.from(chunk))
      expect(seen.filter((e) => "runId" in e && e.runId === handle.id).map((e) => e._tag)).toEqual([
        "Enqueued",
        "Started",
        "Failed",
        "Retrying",
        "Started",
        "Progress",
        "Succeeded"
      ])
    }).pipe(Effect.provide(Testing.layer([flaky])))
  })
})

describe("job context", () => {
  it.scoped("gives the run id, attempt, scheduled time, and records metrics", () => {
    const seen: Array<unknown> = []
    const job = Job.make({
      name: "scrape",
      payload: Schema.Struct({}),
      success: Schema.Struct({ linesAdded: Schema.Number }),
      run: (_, ctx) =>
        Effect.gen(function*() {
          seen.push([ctx.runId, ctx.attempt, ctx.scheduledFor.getTime(), ctx.jobName])
          yield* ctx.metrics({ linesAdded: 3 })
          yield* ctx.metrics({ linesProcessed: 10 })
          return { linesAdded: 3 }
        })
    })
    return Effect.gen(function*() {
      yield* TestClock.setTime(1_000_000)
      const handle = yield* Scheduler.enqueue(job, {}, { delay: "30 seconds" })
      yield* Testing.advance("1 minute")
      expect(seen).toEqual([[handle.id, 1, 1_030_000, "scrape"]])
      const [record] = yield* Scheduler.history({ runId: handle.id })
      expect(record!.metrics).toEqual({ linesAdded: 3, linesProcessed: 10 })
      expect(record!.result).toEqual({ linesAdded: 3 })
      expect(yield* Scheduler.result(handle)).toEqual({ linesAdded: 3 })
    }).pipe(Effect.provide(Testing.layer([job])))
  })

  it.scoped("a job's log lines are annotated with the job name and run id", () => {
    const lines: Array<Record<string, unknown>> = []
    const job = Job.make({ name: "chatty", payload: Schema.Struct({}), run: () => Effect.log("hello") })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(job, {})
      yield* Testing.settle
      expect(lines).toContainEqual({ job: "chatty", runId: handle.id })
    }).pipe(
      Effect.provide(Testing.layer([job])),
      Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ annotations }) => {
        lines.push(Object.fromEntries(HashMap.toEntries(annotations)))
      })))
    )
  })
})

describe("services", () => {
  class Mailer extends Context.Tag("Mailer")<Mailer, { readonly send: (to: string) => Effect.Effect<void> }>() {}

  it.scoped("a job's requirements come from the app's layers", () =>
    Effect.gen(function*() {
      const sent = yield* Ref.make<Array<string>>([])
      const notify = Job.make({
        name: "notify",
        payload: Schema.Struct({ to: Schema.String }),
        run: ({ to }) => Effect.flatMap(Mailer, (mailer) => mailer.send(to))
      })
      const mailer = Layer.succeed(Mailer, { send: (to) => Ref.update(sent, (all) => [...all, to]) })
      yield* Effect.gen(function*() {
        yield* Scheduler.run(notify, { to: "ada@example.com" })
      }).pipe(Effect.provide(Testing.layer([notify]).pipe(Layer.provide(mailer))))
      expect(yield* Ref.get(sent)).toEqual(["ada@example.com"])
    }))

  it.effect("two jobs under one name fail the app layer with DuplicateJobName", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(Testing.layer([noop, noop])).pipe(Effect.scoped))
      expect(error._tag).toBe("DuplicateJobName")
      expect(error.name).toBe("noop")
    }))
})

describe("composing jobs", () => {
  const count = Job.make({
    name: "count-words",
    payload: Schema.Struct({ text: Schema.String }),
    success: Schema.Number,
    run: ({ text }) => Effect.succeed(text.split(/\s+/).filter(Boolean).length)
  })

  it.scoped("a handler enqueues other jobs and awaits their typed results (fan-out, fan-in)", () => {
    const total = Job.make({
      name: "total-words",
      payload: Schema.Struct({ pages: Schema.Array(Schema.String) }),
      success: Schema.Number,
      run: ({ pages }) =>
        Effect.forEach(pages, (text) => Scheduler.run(count, { text }), { concurrency: "unbounded" }).pipe(
          Effect.map((counts) => counts.reduce((a, b) => a + b, 0))
        )
    })
    return Effect.gen(function*() {
      const sum = yield* Scheduler.run(total, { pages: ["a b c", "d e", "f"] })
      expect(sum).toBe(6)
      const children = yield* Scheduler.history({ jobName: "count-words" })
      expect(children).toHaveLength(3)
    }).pipe(Effect.provide(Testing.layer([count, total])))
  })

  it.scoped("`then` runs a job after another succeeds, with its typed result as payload", () => {
    const report = Job.make({
      name: "report",
      payload: Schema.Number,
      success: Schema.String,
      run: (words) => Effect.succeed(`${words} words`)
    })
    return Effect.gen(function*() {
      yield* Scheduler.enqueue(count, { text: "one two three" }, { then: report })
      yield* Testing.settle
      const [record] = yield* Scheduler.history({ jobName: "report" })
      expect(record!.status).toBe("succeeded")
      expect(record!.result).toBe("3 words")
    }).pipe(Effect.provide(Testing.layer([count, report])))
  })
})

describe("schedules", () => {
  it.scoped("pause stops ticks; resume continues on the grid without owing missed ticks", () =>
    Effect.gen(function*() {
      yield* Scheduler.schedule("tick", noop, { trigger: Trigger.every("10 seconds"), payload: {} })
      yield* Testing.advance("25 seconds")
      const paused = yield* Scheduler.pause("tick")
      expect(paused.paused).toBe(true)
      yield* Testing.advance("30 seconds")
      const resumed = yield* Scheduler.resume("tick")
      expect(resumed.nextFireAt?.epochMillis).toBe(60_000)
      yield* Testing.advance("10 seconds")
      const starts = (yield* Scheduler.history({ scheduleId: "tick" })).map((r) => r.startedAt.epochMillis / 1000)
      expect(starts.reverse()).toEqual([10, 20, 60])
    }).pipe(Effect.provide(Testing.layer([noop]))))

  it.scoped("unschedule removes it; pausing an unknown id is ScheduleNotFound", () =>
    Effect.gen(function*() {
      yield* Scheduler.schedule("gone", noop, { trigger: Trigger.every("10 seconds"), payload: {} })
      yield* Scheduler.unschedule("gone")
      yield* Testing.advance("30 seconds")
      expect(yield* Scheduler.history()).toHaveLength(0)
      const error = yield* Effect.flip(Scheduler.pause("gone"))
      assert(error._tag === "ScheduleNotFound")
      expect(error.id).toBe("gone")
    }).pipe(Effect.provide(Testing.layer([noop]))))

  it.scoped("list schedules with their next fire time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 10, 22, 12))
      yield* Scheduler.schedule("b-nightly", noop, {
        trigger: Trigger.daily("03:00", { timeZone: "Europe/Berlin" }),
        payload: {}
      })
      yield* Scheduler.schedule("a-every", noop, { trigger: Trigger.every("5 minutes"), payload: {} })
      const list = yield* Scheduler.schedules
      expect(list.map((s) => [s.id, DateTime.formatIso(s.nextFireAt!)])).toEqual([
        ["a-every", "2026-11-22T12:05:00.000Z"],
        ["b-nightly", "2026-11-23T02:00:00.000Z"]
      ])
    }).pipe(Effect.provide(Testing.layer([noop]))))

  it.scoped("enqueue at an instant and after a delay", () =>
    Effect.gen(function*() {
      const later = yield* Scheduler.enqueue(noop, {}, { at: new Date(90_000) })
      const soon = yield* Scheduler.enqueue(noop, {}, { delay: "45 seconds" })
      yield* Testing.advance("2 minutes")
      expect((yield* Scheduler.history({ runId: later.id }))[0]!.startedAt.epochMillis).toBe(90_000)
      expect((yield* Scheduler.history({ runId: soon.id }))[0]!.startedAt.epochMillis).toBe(45_000)
    }).pipe(Effect.provide(Testing.layer([noop]))))

  it.scoped("an interval from config: negative disables (and removes an earlier schedule), zero is an error", () =>
    Effect.gen(function*() {
      const withInterval = (value: string) =>
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["INTERVAL_SECONDS", value]])))
      const enabled = yield* Scheduler.scheduleFromConfig("news", noop, { interval: "INTERVAL_SECONDS", payload: {} })
        .pipe(withInterval("10"))
      expect(Option.isSome(enabled)).toBe(true)
      const disabled = yield* Scheduler.scheduleFromConfig("news", noop, { interval: "INTERVAL_SECONDS", payload: {} })
        .pipe(withInterval("-1"))
      expect(Option.isNone(disabled)).toBe(true)
      expect(yield* Scheduler.schedules).toHaveLength(0)
      const zero = yield* Effect.flip(
        Scheduler.scheduleFromConfig("news", noop, { interval: "INTERVAL_SECONDS", payload: {} }).pipe(withInterval("0"))
      )
      expect(zero._tag).toBe("InvalidInterval")
      const malformed = yield* Effect.flip(
        Scheduler.scheduleFromConfig("news", noop, { interval: "INTERVAL_SECONDS", payload: {} }).pipe(
          withInterval("ten")
        )
      )
      expect(malformed._tag).toBe("ConfigError")
    }).pipe(Effect.provide(Testing.layer([noop]))))

  it.scoped("an arbitrary Effect Schedule drives an in-process schedule", () =>
    Effect.gen(function*() {
      yield* Scheduler.scheduleInProcess(noop, {}, Schedule.spaced("20 seconds"))
      yield* Testing.advance("61 seconds")
      const starts = (yield* Scheduler.history()).map((r) => r.startedAt.epochMillis / 1000)
      expect(starts.reverse()).toEqual([0, 20, 40, 60])
      expect(yield* Scheduler.schedules).toHaveLength(0)
    }).pipe(Effect.provide(Testing.layer([noop]))))
})

describe("validation", () => {
  const typed = Job.make({ name: "typed", payload: Schema.Struct({ n: Schema.Number }), run: () => Effect.void })

  it.scoped("bad triggers, ids, payloads and dates are typed errors naming the problem; nothing is stored", () =>
    Effect.gen(function*() {
      const interval = yield* Effect.flip(
        Scheduler.schedule("x", typed, { trigger: Trigger.every(-5), payload: { n: 1 } })
      )
      expect(interval).toMatchObject({ _tag: "InvalidInterval", field: "interval", value: "-5" })
      const cron = yield* Effect.flip(
        Scheduler.schedule("x", typed, { trigger: Trigger.cron("61 * * * *"), payload: { n: 1 } })
      )
      expect(cron).toMatchObject({ _tag: "InvalidCron", expression: "61 * * * *" })
      const zone = yield* Effect.flip(
        Scheduler.schedule("x", typed, { trigger: Trigger.cron("0 3 * * *", { timeZone: "Mars/Olympus" }), payload: { n: 1 } })
      )
      expect(zone).toMatchObject({ _tag: "UnknownTimeZone", timeZone: "Mars/Olympus" })
      const id = yield* Effect.flip(Scheduler.schedule(" ", typed, { trigger: Trigger.now, payload: { n: 1 } }))
      expect(id).toMatchObject({ _tag: "InvalidScheduleId" })
      const payload = yield* Effect.flip(
        Scheduler.schedule("x", typed, { trigger: Trigger.now, payload: { n: "1" } as never })
      )
      expect(payload).toMatchObject({ _tag: "InvalidPayload", jobName: "typed" })
      const date = yield* Effect.flip(Scheduler.enqueue(typed, { n: 1 }, { at: new Date(Number.NaN) }))
      expect(date).toMatchObject({ _tag: "InvalidDate", field: "at" })
      const delay = yield* Effect.flip(Scheduler.enqueue(typed, { n: 1 }, { delay: Number.POSITIVE_INFINITY }))
      expect(delay).toMatchObject({ _tag: "InvalidInterval", field: "delay" })
      expect(yield* Scheduler.schedules).toHaveLength(0)
      const runs = yield* Effect.flatMap(JobStore.JobStore, (s) => s.listRuns({}))
      expect(runs).toHaveLength(0)
    }).pipe(Effect.provide(Testing.layer([typed]))))

  it.scoped("a bad update of a stored schedule leaves the stored one intact", () =>
    Effect.gen(function*() {
      const stored = yield* Scheduler.schedule("keep", typed, { trigger: Trigger.every("1 minute"), payload: { n: 1 } })
      yield* Effect.flip(Scheduler.schedule("keep", typed, { trigger: Trigger.cron("bad"), payload: { n: 2 } }))
      const [after] = yield* Scheduler.schedules
      expect(after).toEqual(stored)
    }).pipe(Effect.provide(Testing.layer([typed]))))
})

describe("awaiting results", () => {
  it.scoped("result waits for a delayed run", () =>
    Effect.gen(function*() {
      const job = Job.make({
        name: "answer",
        payload: Schema.Struct({}),
        success: Schema.Number,
        run: () => Effect.succeed(42)
      })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(job, {}, { delay: "1 hour" })
        const waiting = yield* Effect.fork(Scheduler.result(handle))
        yield* Testing.advance("1 hour")
        expect(yield* Fiber.join(waiting)).toBe(42)
      }).pipe(Effect.provide(Testing.layer([job])))
    }), 60_000)

  it.scoped("enqueueing with a key while one is pending returns the pending run", () =>
    Effect.gen(function*() {
      const a = yield* Scheduler.enqueue(noop, {}, { key: "sync-user-7", delay: "1 minute" })
      const b = yield* Scheduler.enqueue(noop, {}, { key: "sync-user-7", delay: "1 minute" })
      expect(b.id).toBe(a.id)
      yield* Testing.advance("2 minutes")
      const c = yield* Scheduler.enqueue(noop, {}, { key: "sync-user-7" })
      expect(c.id).not.toBe(a.id)
    }).pipe(Effect.provide(Testing.layer([noop]))))
})

describe("leases", () => {
  it.scoped("a run whose worker died is re-queued after its lease and run again; history shows both attempts", () =>
    Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const storeLayer = Layer.succeed(JobStore.JobStore, store)
      const [id] = yield* store.enqueue([{ jobName: "noop", payload: {}, runAt: 0, scheduledFor: 0 }], 0)
      // a worker claims it and dies without a word
      const [claimed] = (yield* store.claim({ now: 0, limit: 1, workerId: "crashed-worker", leaseMs: 60_000 })).runs
      expect(claimed!.id).toBe(id)
      const app = Clockwork.layer([noop], { reaper: { interval: "10 seconds" } }).pipe(Layer.provide(storeLayer))
      yield* Testing.advance("2 minutes").pipe(Effect.provide(app))
      const attempts = (yield* store.history({ runId: id! })).slice().reverse()
      expect(attempts.map((r) => [r.attempt, r.status, r.workerId])).toEqual([
        [1, "interrupted", "crashed-worker"],
        [2, "succeeded", expect.stringMatching(/^runner-/)]
      ])
      expect(attempts[0]!.error?.tag).toBe("LeaseExpired")
      // the lease ran out at 60 s; the reaper runs every 10 s and queues it again after 0.5 to 1.5 s
      expect(attempts[1]!.startedAt.epochMillis).toBeGreaterThanOrEqual(70_500)
      expect(attempts[1]!.startedAt.epochMillis).toBeLessThan(71_500)
    }))

  it.scoped("a live runner renews the leases of long runs, so they are never reaped", () => {
    const long = sleeper("long")
    return Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const app = Clockwork.layer([long], { runner: { lease: "1 minute" }, reaper: { interval: "10 seconds" } }).pipe(
        Layer.provide(Layer.succeed(JobStore.JobStore, store))
      )
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(long, { seconds: 600 })
        yield* Testing.advance("11 minutes")
        const attempts = yield* Scheduler.history({ runId: handle.id })
        expect(attempts.map((r) => [r.attempt, r.status])).toEqual([[1, "succeeded"]])
      }).pipe(Effect.provide(app))
    })
  })
})

describe("fencing", () => {
  const counting = (name: string, counters: { started: number; finalized: number; finished: number }) =>
    Job.make({
      name,
      payload: Schema.Struct({ seconds: Schema.Number }),
      retry: Schedule.recurs(1),
      run: ({ seconds }) =>
        Effect.sync(() => void counters.started++).pipe(
          Effect.zipRight(Effect.sleep(`${seconds} seconds`)),
          Effect.zipRight(Effect.sync(() => void counters.finished++)),
          Effect.ensuring(Effect.sync(() => void counters.finalized++))
        )
    })

  /**
   * Two workers claim the run in turn and die (as a run that kills its process makes them): its lease
   * expires twice. The instant it is queued again at.
   */
  const lostTwice = (store: JobStore.JobStore, id: Run.RunId) =>
    Effect.gen(function*() {
      let now = 0
      for (const worker of ["crashed-1", "crashed-2"]) {
        const [claimed] = (yield* store.claim({ now, limit: 1, workerId: worker, leaseMs: 1_000 })).runs
        expect(claimed!.id).toBe(id)
        now += 2_000
        expect(yield* store.reapExpired(now)).toBe(1)
        now = (yield* store.getRun(id)).runAt.epochMillis
      }
      return now
    })

  it.scoped("a run whose lease this runner lost is interrupted here at once; its outcome is never recorded", () => {
    const counters = { started: 0, finalized: 0, finished: 0 }
    const job = counting("long", counters)
    return Effect.gen(function*() {
      const { lines, logger } = captureLogs()
      const store = yield* JobStore.makeMemory
      const app = Clockwork.layer([job], { runner: { lease: "1 minute", shutdownGrace: 0 }, reaper: false, retention: false }).pipe(
        Layer.provide(Layer.succeed(JobStore.JobStore, store))
      )
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(job, { seconds: 300 })
        yield* Testing.advance("1 second")
        expect(counters.started).toBe(1)
        // another process's reaper decides this worker is gone (as after a silent network)
        expect(yield* store.reapExpired((yield* Clock.currentTimeMillis) + 120_000)).toBe(1)
        yield* Testing.advance("20 seconds")
        expect(counters.finalized).toBe(1)
        expect(lines.some((line) => line.includes("lost the lease of 1 run(s)"))).toBe(true)
        // queued again after its backoff, and run by this worker as a second attempt
        yield* Testing.advance("10 minutes")
        const attempts = (yield* Scheduler.history({ runId: handle.id })).map((r) => [r.attempt, r.status])
        expect(attempts).toEqual([[2, "succeeded"], [1, "interrupted"]])
        expect(counters.finished).toBe(1)
      }).pipe(Effect.provide(app), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    })
  }, 30_000)

  it.scoped("a run whose lease the store does not renew is stopped here when the lease runs out, not a beat later", () => {
    const counters = { started: 0, finalized: 0, finished: 0 }
    const job = counting("long", counters)
    return Effect.gen(function*() {
      const { lines, logger } = captureLogs()
      const store = yield* JobStore.makeMemory
      // the path to the store went silent for heartbeats: they never answer
      const silent: JobStore.JobStore = { ...store, heartbeat: () => Effect.never }
      const app = Clockwork.layer([job], { runner: { lease: "30 seconds", shutdownGrace: 0 }, reaper: false, retention: false })
        .pipe(Layer.provide(Layer.succeed(JobStore.JobStore, silent)))
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(job, { seconds: 300 })
        yield* Testing.advance("29 seconds")
        expect(counters.finalized).toBe(0)
        // the lease (claimed at 0 s) runs out at 30 s: a reaper may requeue the run from then on
        yield* Testing.advance("1 second")
        expect(counters.finalized).toBe(1)
        expect(lines.filter((line) => line.includes("could not renew the lease of 1 run(s)"))).toHaveLength(1)
      }).pipe(Effect.provide(app), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    })
  })

  it.scoped("lease expiries count against the retry policy: when it is exhausted the run ends dead without running, and its runner claims again", () => {
    const counters = { started: 0, finalized: 0, finished: 0 }
    const job = counting("poison", counters)
    return Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const [id] = yield* store.enqueue([{ jobName: "poison", payload: { seconds: 1 }, runAt: 0, scheduledFor: 0 }], 0)
      const now = yield* lostTwice(store, id!)
      yield* TestClock.setTime(now)
      const app = Clockwork.layer([job], { reaper: false, retention: false }).pipe(
        Layer.provide(Layer.succeed(JobStore.JobStore, store))
      )
      yield* Effect.gen(function*() {
        yield* Testing.advance("1 minute")
        const attempts = (yield* store.history({ runId: id! })).slice().reverse()
        expect(attempts.map((r) => [r.attempt, r.status, r.error?.tag])).toEqual([
          [1, "interrupted", "LeaseExpired"],
          [2, "interrupted", "LeaseExpired"],
          [3, "dead", "LeaseExpired"]
        ])
        expect(attempts[2]!.error!.message).toContain("stopped renewing its lease 2 times")
        expect((yield* store.getRun(id!)).state).toBe("dead")
        expect(counters.started).toBe(0)
        // that suspect's attempt ended before its fork returned; the runner it ran alone on takes runs again
        const next = yield* Scheduler.enqueue(job, { seconds: 1 })
        yield* Testing.advance("1 minute")
        expect((yield* Scheduler.getRun(next.id)).state).toBe("succeeded")
        expect(counters.started).toBe(1)
      }).pipe(Effect.provide(app))
    })
  })

  it.scoped("a run that lost its lease twice runs alone: only an idle runner takes it, and claims nothing more until it ends", () => {
    const nap = sleeper("nap")
    return Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const [suspect] = yield* store.enqueue([{ jobName: "nap", payload: { seconds: 5 }, runAt: 0, scheduledFor: 0 }], 0)
      const now = yield* lostTwice(store, suspect!)
      yield* TestClock.setTime(now)
      // two innocent runs, ahead of the suspect in claim order: one claim takes all three
      const before = yield* store.enqueue(
        [10, 20].map((seconds) => ({ jobName: "nap", payload: { seconds }, runAt: now - 1, scheduledFor: now - 1 })),
        now
      )
      const app = Clockwork.layer([nap], { runner: { shutdownGrace: 0 }, reaper: false, retention: false }).pipe(
        Layer.provide(Layer.succeed(JobStore.JobStore, store))
      )
      yield* Effect.gen(function*() {
        yield* Testing.settle
        // a run enqueued while the runner is busy (not idle) is taken beside the innocent ones
        const beside = yield* Scheduler.enqueue(nap, { seconds: 1 })
        yield* Testing.advance("21 seconds")
        // the suspect started alone at 20 s, once the runner was idle; nothing starts beside it
        const during = yield* Scheduler.enqueue(nap, { seconds: 1 })
        yield* Testing.advance("1 minute")
        const startOf = (id: string) =>
          Effect.map(Scheduler.history({ runId: id as never }), (rows) => rows[0]!.startedAt.epochMillis - now)
        expect(yield* startOf(before[0]!)).toBe(0)
        expect(yield* startOf(before[1]!)).toBe(0)
        expect(yield* startOf(beside.id)).toBe(0)
        expect(yield* startOf(suspect!)).toBe(20_000)
        expect(yield* startOf(during.id)).toBe(25_000)
        expect((yield* Scheduler.getRun(suspect!)).state).toBe("succeeded")
      }).pipe(Effect.provide(app))
    })
  })

  it.scoped("cancelling a run that a runner of another app holds interrupts it there", () => {
    const counters = { started: 0, finalized: 0, finished: 0 }
    const job = counting("long", counters)
    return Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const storeLayer = Layer.succeed(JobStore.JobStore, store)
      const worker = yield* Layer.build(Clockwork.layerWorker([job]).pipe(Layer.provide(storeLayer)))
      const elsewhere = yield* Layer.build(Clockwork.layerScheduler({ reaper: false, retention: false }).pipe(
        Layer.provide(storeLayer)
      ))
      const handle = yield* Scheduler.enqueue(job, { seconds: 3600 }).pipe(Effect.provide(worker))
      yield* Testing.advance("1 second")
      expect(counters.started).toBe(1)
      const answer = yield* Effect.fork(Scheduler.cancel(handle.id).pipe(Effect.provide(elsewhere)))
      yield* Testing.advance("1 second")
      expect(counters.finalized).toBe(1)
      // the other app hears of the outcome by its poll of the store
      yield* Testing.advance("1 second")
      expect(yield* Fiber.join(answer)).toBe("cancelled")
      expect((yield* store.getRun(handle.id)).state).toBe("cancelled")
      expect(counters.finished).toBe(0)
    })
  })
})

describe("intervals from a Config value", () => {
  it.scoped("scheduleFromConfig takes a Config<number>, so a default can be given", () =>
    Effect.gen(function*() {
      const interval = Config.number("POLL_SECONDS").pipe(Config.withDefault(30))
      const stored = yield* Scheduler.scheduleFromConfig("poll", noop, { interval, payload: {} }).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
      )
      assert(Option.isSome(stored))
      assert(stored.value.trigger._tag === "Every")
      expect(Duration.toSeconds(stored.value.trigger.interval)).toBe(30)
      const malformed = yield* Effect.flip(
        Scheduler.scheduleFromConfig("poll", noop, { interval, payload: {} }).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["POLL_SECONDS", "abc"]])))
        )
      )
      // a malformed value is an error, never silently the default
      expect(malformed._tag).toBe("ConfigError")
    }).pipe(Effect.provide(Testing.layer([noop]))))
})

describe("memory", () => {
  // a quick run ends inside runFork; its timeout was once armed after that and
  // kept every finished run (and its fiber) reachable until the timeout
  it.live("a finished run is not kept reachable by its timeout", () =>
    Effect.gen(function*() {
      const contexts: Array<WeakRef<object>> = []
      const quick = Job.make({
        name: "quick",
        payload: Schema.Number,
        timeout: "15 minutes",
        run: (_, ctx) => Effect.sync(() => void contexts.push(new WeakRef(ctx)))
      })
      yield* Effect.gen(function*() {
        yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => Scheduler.run(quick, i), {
          concurrency: 10
        })
        expect(contexts).toHaveLength(50)
        v8.setFlagsFromString("--expose-gc")
        const gc = vm.runInNewContext("gc") as () => void
        // WeakRefs hold their target until the current job ends: let it end first
        yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
        gc()
        expect(contexts.filter((ref) => ref.deref() !== undefined)).toHaveLength(0)
      }).pipe(Effect.provide(Clockwork.layer([quick]).pipe(Layer.provide(JobStore.layerMemory))))
    }))
})
