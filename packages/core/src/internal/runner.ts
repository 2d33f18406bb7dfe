import { Cause, Clock, Context, Duration, Effect, Exit, Fiber, FiberId, Option, Queue, Runtime, Schema } from "effect"
import type { Event, Events } from "../Events.js"
import type { Any, JobContext, Registry } from "../Job.js"
import { UnknownJob } from "../Job.js"
import type { ClaimedRun, JobStore, NewRun, RunOutcome } from "../JobStore.js"
import type { Metrics, RunId, RunStatus } from "../Run.js"
import { RunError } from "../Run.js"
import * as Deadlines from "./deadlines.js"
import { nextAttemptAt } from "./retry.js"

export interface RunnerConfig {
  readonly workerId: string
  readonly concurrency: number
  readonly batchSize: number
  readonly shutdownGrace: Duration.Duration
  readonly leaseMs: number
}

type StopReason = "timeout" | "cancel" | "shutdown"

interface Active {
  readonly claim: ClaimedRun
  readonly job: Any | undefined
  fiber: Fiber.RuntimeFiber<void> | undefined
  reason: StopReason | undefined
  deadline: Deadlines.Deadline | undefined
}

export const toRunError = (cause: Cause.Cause<unknown>): RunError => {
  const failure = Cause.failureOption(cause)
  const error: unknown = Option.isSome(failure)
    ? failure.value
    : Option.getOrUndefined(Cause.dieOption(cause))
  const tag = Option.isSome(failure)
    ? typeof error === "object" && error !== null && "_tag" in error
      ? String((error as { _tag: unknown })._tag)
      : error instanceof Error
      ? error.name
      : "Error"
    : Cause.isDie(cause)
    ? "Defect"
    : "Interrupted"
  const message = error instanceof Error
    ? error.message
    : typeof error === "object" && error !== null && "message" in error
    ? String((error as { message: unknown }).message)
    : error === undefined
    ? tag
    : String(error)
  return new RunError({ tag, message, cause: Cause.pretty(cause) }, true)
}

/**
 * The runner: claims due runs, runs each as a fiber under a global and a
 * per-job concurrency limit, arms its timeout on a shared deadline heap,
 * records its outcome (batched), and publishes lifecycle events.
 */
export const make = (
  registry: Registry,
  store: JobStore,
  events: Events,
  config: RunnerConfig
) =>
  Effect.gen(function*() {
    const jobs = registry.jobs
    const runtime = yield* Effect.runtime<never>()
    const runFork = Runtime.runFork(
      Runtime.make({
        context: Context.merge(runtime.context, registry.context),
        runtimeFlags: runtime.runtimeFlags,
        fiberRefs: runtime.fiberRefs
      })
    )
    const deadlines = yield* Deadlines.make
    const changes = yield* store.changes
    const wake = yield* Queue.sliding<void>(1)
    const active = new Map<RunId, Active>()
    const perJob = new Map<string, number>()
    const limited = Array.from(jobs.values()).filter((job) => job.concurrency !== undefined)
    let pending: Array<{ readonly outcome: RunOutcome; readonly active: Active }> = []
    const flushWake = yield* Queue.sliding<void>(1)
    let stopping = false

    const publish = (make: () => Event): Effect.Effect<void> => events.hasSubscribers() ? events.publish(make()) : Effect.void

    // -------------------------------------------------------------------
    // completion: outcomes are written in batches by one fiber
    // -------------------------------------------------------------------
    // events go out after the outcome is stored, so whoever reacts to one
    // (an awaiting caller, a notifier) finds the store already up to date
    const flush: Effect.Effect<void> = Effect.suspend(() => {
      if (pending.length === 0) return Effect.void
      const batch = pending
      pending = []
      return store.complete(batch.map((p) => p.outcome)).pipe(
        Effect.catchAll((error) =>
          // the runs stay claimed; their leases expire and they are re-queued
          Effect.logError("clockwork: could not record run outcomes", error)
        ),
        Effect.zipRight(Effect.suspend(() => {
          for (const p of batch) release(p.active)
          wake.unsafeOffer(undefined)
          return events.hasSubscribers() ? Effect.forEach(batch, (p) => publishOutcome(p.outcome)) : Effect.void
        }))
      )
    })
    const flushLoop = Effect.forever(Effect.zipRight(Queue.take(flushWake), flush))

    const release = (a: Active) => {
      active.delete(a.claim.id)
      if (a.job?.concurrency !== undefined) perJob.set(a.job.name, (perJob.get(a.job.name) ?? 1) - 1)
      if (a.deadline !== undefined) deadlines.disarm(a.deadline)
    }

    // -------------------------------------------------------------------
    // one attempt
    // -------------------------------------------------------------------
    const outcomeOf = (
      a: Active,
      startedAt: number,
      exit: Exit.Exit<unknown, unknown>,
      metrics: Metrics | undefined
    ) =>
      Effect.gen(function*() {
        const { claim, job } = a
        const finishedAt = yield* Clock.currentTimeMillis
        const base = {
          runId: claim.id,
          jobName: claim.jobName,
          attempt: claim.attempt,
          scheduledFor: claim.scheduledFor,
          scheduleId: claim.scheduleId,
          startedAt,
          finishedAt,
          workerId: config.workerId,
          metrics
        }
        if (Exit.isSuccess(exit)) {
          const result = job === undefined
            ? Exit.succeed(undefined)
            : yield* Effect.exit(Schema.encode(job.success)(exit.value))
          if (Exit.isSuccess(result)) {
            const followUps: Array<NewRun> = []
            for (const name of claim.then) {
              const next = jobs.get(name)
              const payload = next === undefined
                ? result.value
                : yield* Effect.orElseSucceed(Schema.encode(next.payload)(exit.value), () => result.value)
              followUps.push({ jobName: name, payload, runAt: finishedAt, scheduledFor: finishedAt })
            }
            return { ...base, status: "succeeded", result: result.value, followUps } satisfies RunOutcome
          }
          return { ...base, status: "failed", error: toRunError(result.cause) } satisfies RunOutcome
        }
        const cause = exit.cause
        if (a.reason === "cancel") return { ...base, status: "cancelled" } satisfies RunOutcome
        if (a.reason === "shutdown") {
          return { ...base, status: "interrupted", retryAt: finishedAt, error: toRunError(cause) } satisfies RunOutcome
        }
        const timedOut = a.reason === "timeout"
        const error = timedOut
          ? new RunError({
            tag: "JobTimeout",
            message: `timed out after ${Duration.format(job!.timeout)}`,
            cause: Cause.pretty(cause)
          }, true)
          : toRunError(cause)
        const retryable = job !== undefined && !(error.tag === "ParseError" || error.tag === "UnknownJob")
        const retryAt = retryable
          ? yield* nextAttemptAt(job.retry, claim.attempt, Cause.squash(cause), finishedAt)
          : undefined
        const status: RunStatus = retryAt === undefined && claim.attempt > 1
          ? "dead"
          : timedOut
          ? "timed_out"
          : "failed"
        return { ...base, status, error, retryAt } satisfies RunOutcome
      })

    const publishOutcome = (o: RunOutcome) =>
      Effect.zipRight(
        events.publish(eventOf(o)),
        o.retryAt !== undefined && o.status !== "interrupted"
          ? events.publish({
            _tag: "Retrying",
            runId: o.runId,
            jobName: o.jobName,
            attempt: o.attempt,
            at: o.finishedAt,
            retryAt: o.retryAt,
            ...(o.scheduleId === undefined ? {} : { scheduleId: o.scheduleId })
          })
          : Effect.void
      )

    const eventOf = (o: RunOutcome): Event => {
      const common = {
        runId: o.runId,
        jobName: o.jobName,
        attempt: o.attempt,
        at: o.finishedAt,
        ...(o.scheduleId === undefined ? {} : { scheduleId: o.scheduleId })
      }
      const durationMs = o.finishedAt - o.startedAt
      switch (o.status) {
        case "succeeded":
          return { _tag: "Succeeded", ...common, durationMs }
        case "failed":
          return { _tag: "Failed", ...common, durationMs, error: o.error! }
        case "timed_out":
          return { _tag: "TimedOut", ...common, durationMs, error: o.error! }
        case "dead":
          return { _tag: "DeadLettered", ...common, error: o.error! }
        case "cancelled":
          return { _tag: "Cancelled", ...common }
        case "interrupted":
          return { _tag: "Interrupted", ...common }
      }
    }

    const attempt = (a: Active, startedAt: number): Effect.Effect<void> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const { claim, job } = a
          let metrics: Metrics | undefined
          let exit: Exit.Exit<unknown, unknown>
          if (job === undefined) {
            exit = Exit.fail(new UnknownJob({ name: claim.jobName }))
          } else {
            const ctx: JobContext = {
              runId: claim.id,
              jobName: claim.jobName,
              attempt: claim.attempt,
              scheduledFor: new Date(claim.scheduledFor),
              scheduleId: claim.scheduleId,
              progress: (value) =>
                Effect.flatMap(Clock.currentTimeMillis, (at) =>
                  publish(() => ({
                    _tag: "Progress",
                    runId: claim.id,
                    jobName: claim.jobName,
                    attempt: claim.attempt,
                    at,
                    value
                  }))),
              metrics: (values) =>
                Effect.sync(() => {
                  metrics = { ...metrics, ...values }
                })
            }
            exit = yield* Effect.exit(restore(
              Schema.decodeUnknown(job.payload)(claim.payload).pipe(
                // the job's services come from the registry's context, merged into this runtime
                Effect.flatMap((payload) => job.run(payload, ctx) as Effect.Effect<unknown, unknown>),
                Effect.annotateLogs({ job: claim.jobName, runId: claim.id })
              )
            ))
          }
          if (a.deadline !== undefined) deadlines.disarm(a.deadline)
          const outcome = yield* outcomeOf(a, startedAt, exit, metrics)
          pending.push({ outcome, active: a })
          flushWake.unsafeOffer(undefined)
        })
      )

    const start = (claim: ClaimedRun, now: number) => {
      const job = jobs.get(claim.jobName)
      const a: Active = { claim, job, fiber: undefined, reason: undefined, deadline: undefined }
      active.set(claim.id, a)
      if (job?.concurrency !== undefined) perJob.set(job.name, (perJob.get(job.name) ?? 0) + 1)
      const program = events.hasSubscribers()
        ? Effect.zipRight(
          events.publish({
            _tag: "Started",
            runId: claim.id,
            jobName: claim.jobName,
            attempt: claim.attempt,
            at: now,
            ...(claim.scheduleId === undefined ? {} : { scheduleId: claim.scheduleId })
          }),
          attempt(a, now)
        )
        : attempt(a, now)
      const fiber = runFork(program)
      a.fiber = fiber
      if (job !== undefined && Duration.isFinite(job.timeout)) {
        a.deadline = deadlines.arm(now + Duration.toMillis(job.timeout), () => stop(a, "timeout"))
      }
    }

    const stop = (a: Active, reason: StopReason) => {
      if (a.reason !== undefined || a.fiber === undefined) return
      a.reason = reason
      a.fiber.unsafeInterruptAsFork(FiberId.none)
    }

    // -------------------------------------------------------------------
    // the claim loop
    // -------------------------------------------------------------------
    const jobCapacity = () => {
      const capacity = new Map<string, number>()
      for (const job of limited) capacity.set(job.name, Math.max(0, job.concurrency! - (perJob.get(job.name) ?? 0)))
      return capacity
    }

    const claimLoop = Effect.gen(function*() {
      for (;;) {
        const free = config.concurrency - active.size
        const now = yield* Clock.currentTimeMillis
        if (free > 0 && !stopping) {
          const limit = Math.min(free, config.batchSize)
          const claimed = yield* store.claim({
            now,
            limit,
            workerId: config.workerId,
            jobCapacity: limited.length === 0 ? undefined : jobCapacity(),
            leaseMs: config.leaseMs
          })
          for (const claim of claimed) start(claim, now)
          if (claimed.length === limit) {
            yield* Effect.yieldNow()
            continue
          }
        }
        const next = free > 0 ? yield* store.nextRunAt(now) : undefined
        const take = Effect.raceFirst(Queue.take(wake), Queue.take(changes))
        if (next !== undefined && next > now) {
          yield* Effect.raceFirst(take, Effect.sleep(next - now))
        } else {
          yield* take
        }
      }
    }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.zipRight(
          Effect.logError("clockwork: the runner's claim loop failed; retrying in 1 second", cause),
          Effect.sleep("1 second")
        )
      ),
      Effect.forever
    )

    yield* Effect.forkScoped(flushLoop)
    yield* Effect.forkScoped(claimLoop)

    // graceful shutdown: stop claiming, let runs finish within the grace
    // period, interrupt the rest (re-queued), write every outcome
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        stopping = true
        const fibers = () => Array.from(active.values(), (a) => a.fiber!).filter((f) => f !== undefined)
        if (active.size > 0 && Duration.toMillis(config.shutdownGrace) > 0) {
          // finalizers run uninterruptibly; the wait must be cut by the grace period
          yield* Effect.timeoutOption(Effect.interruptible(Fiber.awaitAll(fibers())), config.shutdownGrace)
        }
        for (const a of active.values()) stop(a, "shutdown")
        yield* Fiber.awaitAll(fibers())
        yield* flush
      })
    )

    return {
      workerId: config.workerId,
      cancel: (runId: RunId): Effect.Effect<boolean> =>
        Effect.suspend(() => {
          const a = active.get(runId)
          if (a === undefined || a.fiber === undefined) return Effect.succeed(false)
          stop(a, "cancel")
          return Effect.as(Fiber.await(a.fiber), true)
        }),
      activeRuns: () => Array.from(active.keys())
    }
  })
