/**
 * Worker jobs on real worker threads and the real clock. Threads boot in
 * about a second here (tsx compiles the TypeScript worker module and loads
 * effect in each), so every app preloads its worker module and the pools
 * stay small.
 */
import { Clockwork, Events, type Job, JobStore, Scheduler } from "@clockwork/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, HashMap, Layer, Logger, Queue } from "effect"
import { WorkerJob, WorkerPool } from "../src/index.js"
import * as jobs from "./fixtures/jobs.js"

const appOf = <const Jobs extends ReadonlyArray<Job.Any>>(registered: Jobs, options?: WorkerPool.Options) =>
  Clockwork.layer(registered, { runner: { shutdownGrace: 0 } }).pipe(
    Layer.provide(JobStore.layerMemory),
    Layer.provideMerge(WorkerPool.layer({ size: 2, preload: [jobs.double], ...options }))
  )

const subscribe = Effect.flatMap(Events.Events, (events) => events.subscribe)

const statsOf = Effect.flatMap(WorkerPool.WorkerPool, (pool) => pool.stats)

/** how a run's (only) attempt ended, once it has */
const outcomeOf = <A>(handle: Scheduler.Handle<A>) =>
  Effect.zipRight(
    Effect.ignore(Scheduler.result(handle)),
    Effect.map(Scheduler.history({ runId: handle.id }), ([record]) => ({
      status: record!.status,
      tag: record!.error?.tag,
      message: record!.error?.message
    }))
  )

describe("timeouts", () => {
  it.scopedLive("a synchronous loop is killed at the job's timeout and recorded timed_out", () =>
    Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(jobs.spin, {})
      const failure = yield* Effect.flip(Scheduler.result(handle))
      expect(failure._tag).toBe("RunFailed")
      expect((failure as Scheduler.RunFailed).state).toBe("timed_out")

      const [record] = yield* Scheduler.history({ runId: handle.id })
      expect(record!.status).toBe("timed_out")
      expect(record!.error?.tag).toBe("JobTimeout")
      expect(record!.error?.message).toBe("timed out after 500ms")
      expect(record!.durationMs).toBeGreaterThanOrEqual(500)
      expect(record!.durationMs).toBeLessThan(1500)
      // the handler was in its loop when the thread was killed
      const spinningOn = record!.metrics?.spinningOn
      expect(spinningOn).toBeTypeOf("number")

      // the thread is gone and another took its place
      const stats = yield* statsOf
      expect(stats.killed).toBe(1)
      expect(stats.started).toBe(3)
      expect(stats.threadIds).toHaveLength(2)
      expect(stats.threadIds).not.toContain(spinningOn)

      expect(yield* Scheduler.run(jobs.double, { n: 21 })).toEqual({ doubled: 42 })
    }).pipe(Effect.provide(appOf([jobs.spin, jobs.double], { preload: [jobs.spin] }))))

  it.scopedLive("Scheduler.cancel kills the thread of a spinning run and records it cancelled", () =>
    Effect.gen(function*() {
      const events = yield* subscribe
      const handle = yield* Scheduler.enqueue(jobs.spinUntilCancelled, {})
      // the handler reports progress just before its loop
      yield* Effect.repeat(Queue.take(events), { until: (e) => e._tag === "Progress" && e.runId === handle.id })
      expect(yield* Scheduler.cancel(handle.id)).toBe("cancelled")

      const failure = yield* Effect.flip(Scheduler.result(handle))
      expect((failure as Scheduler.RunFailed).state).toBe("cancelled")
      const [record] = yield* Scheduler.history({ runId: handle.id })
      expect(record!.status).toBe("cancelled")
      expect(record!.durationMs).toBeLessThan(5_000)

      const stats = yield* statsOf
      expect(stats.killed).toBe(1)
      expect(stats.threadIds).not.toContain(record!.metrics?.spinningOn)
    }).pipe(Effect.provide(appOf([jobs.spinUntilCancelled], { size: 1, preload: [jobs.spinUntilCancelled] }))))
})

describe("failures", () => {
  it.scopedLive("an exception and a crash of the thread become failed runs with the reason", () =>
    Effect.gen(function*() {
      const thrown = yield* Scheduler.enqueue(jobs.throws, { row: 42 })
      expect(yield* outcomeOf(thrown)).toEqual({
        status: "failed",
        tag: "WorkerError",
        message: "\"throws\" failed in its worker thread: RangeError: row 42 is malformed"
      })

      const exited = yield* Scheduler.enqueue(jobs.exits, {})
      expect(yield* outcomeOf(exited)).toEqual({
        status: "failed",
        tag: "WorkerCrashed",
        message: "the worker thread running \"exits\" died with exit code 3"
      })

      const uncaught = yield* Scheduler.enqueue(jobs.throwsUncaught, {})
      expect(yield* outcomeOf(uncaught)).toEqual({
        status: "failed",
        tag: "WorkerCrashed",
        message: "the worker thread running \"throws-uncaught\" died with exit code 1: Error: boom in a timer"
      })

      // both dead threads were replaced: the pool still serves runs
      expect(yield* Scheduler.run(jobs.double, { n: 4 })).toEqual({ doubled: 8 })
      const stats = yield* statsOf
      expect(stats).toMatchObject({ crashed: 2, killed: 0, started: 4 })
      expect(stats.threadIds).toHaveLength(2)
    }).pipe(Effect.provide(appOf([jobs.throws, jobs.exits, jobs.throwsUncaught, jobs.double]))))

  it.scopedLive("a typed failure with a Schema crosses as itself; an unserved job says so", () =>
    Effect.gen(function*() {
      const rejected = yield* Scheduler.enqueue(jobs.rejects, { row: 7 })
      expect(yield* outcomeOf(rejected)).toMatchObject({ status: "failed", tag: "RowRejected" })
      // the job's Effect fails with the typed error itself
      const context: Job.JobContext = {
        runId: "direct" as Job.JobContext["runId"],
        jobName: "rejects",
        attempt: 1,
        scheduledFor: new Date(),
        scheduleId: undefined,
        progress: () => Effect.void,
        metrics: () => Effect.void
      }
      const error = yield* Effect.flip(jobs.rejects.run({ row: 7 }, context))
      expect(error).toBeInstanceOf(jobs.RowRejected)
      expect(error).toMatchObject({ row: 7 })

      const unserved = yield* Scheduler.enqueue(jobs.unserved, {})
      const missing = yield* outcomeOf(unserved)
      expect(missing.tag).toBe("WorkerError")
      expect(missing.message).toMatch(/^"unserved" failed in its worker thread: HandlerNotFound: .* does not serve the job "unserved"/)
    }).pipe(Effect.provide(appOf([jobs.rejects, jobs.unserved], { size: 1 }))))
})

describe("reports", () => {
  it.scopedLive("logs, progress and metrics from the thread reach the run", () => {
    const lines: Array<{ readonly message: unknown; readonly annotations: Record<string, unknown> }> = []
    return Effect.gen(function*() {
      const events = yield* Effect.flatMap(Events.Events, (events) => events.subscribe)
      const handle = yield* Scheduler.enqueue(jobs.scrape, { lines: 10 })
      expect(yield* Scheduler.result(handle)).toEqual({ linesAdded: 9, linesProcessed: 10 })

      const [record] = yield* Scheduler.history({ runId: handle.id })
      expect(record!.metrics).toEqual({ linesProcessed: 10, linesAdded: 9 })
      expect(lines).toContainEqual({
        message: ["scraped the meetings page"],
        annotations: { job: "scrape", runId: handle.id, source: "europarl" }
      })
      const progress = (yield* Queue.takeAll(events)).pipe((all) => Array.from(all)).filter((e) => e._tag === "Progress")
      expect(progress).toMatchObject([{ runId: handle.id, value: 0.5 }])
    }).pipe(
      Effect.provide(appOf([jobs.scrape], { size: 1, preload: [jobs.scrape] })),
      Effect.provide(Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ annotations, message }) => {
          lines.push({ message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
        })
      ))
    )
  })

  it.scopedLive("a plain function exported by job name runs on the encoded payload", () =>
    Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(jobs.countWords, { text: "the committee met twice" })
      expect(yield* Scheduler.result(handle)).toEqual({ words: 4 })
      const [record] = yield* Scheduler.history({ runId: handle.id })
      expect(record!.metrics).toEqual({ words: 4 })
    }).pipe(Effect.provide(appOf([jobs.countWords], { size: 1, preload: [] }))))
})

describe("declaration", () => {
  it("a worker job is a core job that names its module", () => {
    expect(jobs.double.name).toBe("double")
    expect(jobs.double.module).toMatch(/^file:\/\/.*\/fixtures\/jobs\.worker\.ts$/)
    const byPath = WorkerJob.make({ name: "by-path", worker: "/srv/jobs/scrape.worker.js", payload: jobs.double.payload })
    expect(byPath.module).toBe("file:///srv/jobs/scrape.worker.js")
  })
})
