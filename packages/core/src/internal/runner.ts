import {
  Cause,
  Clock,
  Context,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberId,
  FiberRef,
  FiberRefs,
  HashMap,
  Option,
  Queue,
  Runtime,
  Schema
} from "effect"
import type { Event, Events } from "../Events.js"
import type { Any, JobContext, Registry } from "../Job.js"
import type { ParseError } from "effect/ParseResult"
import { UnknownJob } from "../Job.js"
import type { ClaimedRun, JobStore, NewRun, RunOutcome } from "../JobStore.js"
import { WorkerInfo } from "../JobStore.js"
import type { Metrics, RunId, RunStatus } from "../Run.js"
import { RunError } from "../Run.js"
import * as Deadlines from "./deadlines.js"
import * as Outage from "./outage.js"
import { nextAttemptAt } from "./retry.js"
import { sleepAtMost } from "./timer.js"

export interface RunnerConfig {
  readonly workerId: string
  readonly concurrency: number
  readonly batchSize: number
  readonly shutdownGrace: Duration.Duration
  readonly leaseMs: number
}

type StopReason = "timeout" | "cancel" | "shutdown"

/** At shutdown, how long runs interrupted after the grace period may take to stop. */
const interruptWait = Duration.seconds(2)

/** A run being executed; it is also the job's context (one object per attempt). */
class Active implements JobContext {
  fiber: Fiber.RuntimeFiber<void> | undefined = undefined
  reason: StopReason | undefined = undefined
  deadline: Deadlines.Deadline | undefined = undefined
  reported: Metrics | undefined = undefined
  constructor(
    readonly claim: ClaimedRun,
    readonly job: Any | undefined,
    readonly codec: Codec | undefined,
    readonly progress: (value: number) => Effect.Effect<void>
  ) {}
  get runId() {
    return this.claim.id
  }
  get jobName() {
    return this.claim.jobName
  }
  get attempt() {
    return this.claim.attempt
  }
  get scheduledFor() {
    return new Date(this.claim.scheduledFor)
  }
  get scheduleId() {
    return this.claim.scheduleId
  }
  readonly metrics = (values: Metrics): Effect.Effect<void> =>
    Effect.sync(() => {
      this.reported = { ...this.reported, ...values }
    })
}

/** A job's Schemas and log annotations, prepared once per runner. */
interface Codec {
  readonly decodePayload: (u: unknown) => Effect.Effect<unknown, ParseError>
  readonly encodePayload: (a: unknown) => Effect.Effect<unknown, ParseError>
  readonly encodeSuccess: (a: unknown) => Effect.Effect<unknown, ParseError>
  readonly annotations: HashMap.HashMap<string, unknown>
}

const compile = (job: Any, annotations: HashMap.HashMap<string, unknown>): Codec => ({
  decodePayload: Schema.decodeUnknown(job.payload),
  encodePayload: Schema.encodeUnknown(job.payload),
  encodeSuccess: Schema.encodeUnknown(job.success),
  annotations: HashMap.set(annotations, "job", job.name)
})

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
    const clock = yield* Effect.clock
    const appAnnotations = FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentLogAnnotations)
    const codecs = new Map(Array.from(jobs.values(), (job) => [job.name, compile(job, appAnnotations)] as const))
    const deadlines = yield* Deadlines.make
    const changes = yield* store.changes
    const outage = Outage.of(store)
    const wake = yield* Queue.sliding<void>(1)
    // runs whose fiber is running, and runs that ended but whose outcome is not written yet (their
    // slot is free for the next claim; their lease is still renewed, as the store still has them running)
    const active = new Map<RunId, Active>()
    const unrecorded = new Map<RunId, Active>()
    const perJob = new Map<string, number>()
    const limited = Array.from(jobs.values()).filter((job) => job.concurrency !== undefined)
    let pending: Array<{ readonly outcome: RunOutcome; readonly active: Active }> = []
    // one write of outcomes at a time, so shutdown can wait for the one under way
    const writing = yield* Effect.makeSemaphore(1)
    let writeFailedWhileStopping = false
    const flushWake = yield* Queue.sliding<void>(1)
    const started = yield* Queue.sliding<void>(1)
    let stopping = false
    // whether due runs may be waiting for a free slot: the claim loop last stopped for want of
    // slots (or of a capped job's capacity), not because the queue had nothing due
    let starved = false

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
      return writing.withPermits(1)(store.complete(batch.map((p) => p.outcome))).pipe(
        Effect.matchCauseEffect({
          onFailure: (cause) => {
            if (stopping) {
              // the last write at shutdown: the runs stay claimed, their leases expire and they are re-queued
              writeFailedWhileStopping = true
              return Effect.logDebug(`clockwork: could not record ${batch.length} run outcome(s) while shutting down`, cause)
            }
            // kept (their leases renewed) and written once the store answers
            pending = batch.concat(pending)
            return Effect.zipRight(outage.failed("complete", cause), Effect.sync(() => flushWake.unsafeOffer(undefined)))
          },
          onSuccess: () =>
            Effect.zipRight(
              outage.answered,
              Effect.suspend(() => {
                for (const p of batch) unrecorded.delete(p.active.claim.id)
                // a schedule's serial run (overlap "queue") lets the next one go once this outcome is written
                if (starved || batch.some((p) => p.outcome.scheduleId !== undefined)) wake.unsafeOffer(undefined)
                return events.hasSubscribers() ? Effect.forEach(batch, (p) => publishOutcome(p.outcome)) : Effect.void
              })
            )
        })
      )
    })
    const flushLoop = Effect.forever(
      Queue.take(flushWake).pipe(Effect.zipRight(Effect.yieldNow()), Effect.zipRight(flush))
    )

    const release = (a: Active) => {
      active.delete(a.claim.id)
      if (a.job?.concurrency !== undefined) perJob.set(a.job.name, (perJob.get(a.job.name) ?? 1) - 1)
    }

    // -------------------------------------------------------------------
    // one attempt
    // -------------------------------------------------------------------
    const baseOf = (a: Active, startedAt: number): Omit<RunOutcome, "status"> => ({
      runId: a.claim.id,
      jobName: a.claim.jobName,
      attempt: a.claim.attempt,
      scheduledFor: a.claim.scheduledFor,
      scheduleId: a.claim.scheduleId,
      startedAt,
      finishedAt: clock.unsafeCurrentTimeMillis(),
      workerId: config.workerId,
      metrics: a.reported
    })

    // the run's slot is free at once: the next claim overlaps the write of this outcome
    const record = (a: Active, outcome: RunOutcome) => {
      release(a)
      unrecorded.set(a.claim.id, a)
      pending.push({ outcome, active: a })
      flushWake.unsafeOffer(undefined)
      if (starved) wake.unsafeOffer(undefined)
    }

    const succeeded = (a: Active, startedAt: number, value: unknown): Effect.Effect<void> =>
      Effect.matchEffect(a.codec!.encodeSuccess(value), {
        onFailure: (error) => failed(a, startedAt, Cause.fail(error)),
        onSuccess: (result) =>
          a.claim.then.length === 0
            ? Effect.sync(() => {
              const outcome = baseOf(a, startedAt) as { -readonly [K in keyof RunOutcome]: RunOutcome[K] }
              outcome.status = "succeeded"
              outcome.result = result
              record(a, outcome)
            })
            : Effect.map(
              Effect.forEach(a.claim.then, (name) => {
                // the follow-up's payload is this run's result, encoded with the follow-up's own Schema
                const codec = codecs.get(name)
                const now = clock.unsafeCurrentTimeMillis()
                return Effect.map(
                  codec === undefined
                    ? Effect.succeed(result)
                    : Effect.orElseSucceed(codec.encodePayload(value), () => result),
                  (payload): NewRun => ({ jobName: name, payload, runAt: now, scheduledFor: now })
                )
              }),
              (followUps) => record(a, { ...baseOf(a, startedAt), status: "succeeded", result, followUps })
            )
      })

    const failed = (a: Active, startedAt: number, cause: Cause.Cause<unknown>): Effect.Effect<void> =>
      Effect.gen(function*() {
        const { claim, job } = a
        const base = baseOf(a, startedAt)
        if (a.reason === "cancel") return record(a, { ...base, status: "cancelled" })
        if (a.reason === "shutdown") {
          return record(a, { ...base, status: "interrupted", retryAt: base.finishedAt, error: toRunError(cause) })
        }
        const timedOut = a.reason === "timeout"
        // a defect is a bug in the handler (it threw, or died): its stack goes to the log, not only to the history
        if (Cause.isDie(cause)) {
          yield* Effect.logError(`clockwork: run ${claim.id} of ${claim.jobName} died with a defect`, cause)
        }
        const error = timedOut
          ? new RunError({
            tag: "JobTimeout",
            message: `timed out after ${Duration.format(job!.timeout)}`,
            cause: Cause.pretty(cause)
          }, true)
          : toRunError(cause)
        const retryable = job !== undefined && !(error.tag === "ParseError" || error.tag === "UnknownJob")
        const retryAt = retryable
          ? yield* nextAttemptAt(job.retry, claim.attempt, Cause.squash(cause), base.finishedAt)
          : undefined
        const status: RunStatus = retryAt === undefined && claim.attempt > 1
          ? "dead"
          : timedOut
          ? "timed_out"
          : "failed"
        record(a, { ...base, status, error, retryAt })
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

    const bodyOf = (a: Active): Effect.Effect<unknown, unknown> =>
      a.job === undefined
        ? Effect.fail(new UnknownJob({ name: a.claim.jobName }))
        : a.codec!.decodePayload(a.claim.payload).pipe(
          // the job's services come from the registry's context, merged into this runtime
          Effect.flatMap((payload) => a.job!.run(payload, a) as Effect.Effect<unknown, unknown>)
        )

    const attempt = (a: Active, startedAt: number): Effect.Effect<void> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.exit(restore(bodyOf(a))), (exit) => {
          if (a.deadline !== undefined) deadlines.disarm(a.deadline)
          return Exit.isSuccess(exit) ? succeeded(a, startedAt, exit.value) : failed(a, startedAt, exit.cause)
        })
      )

    const progressOf = (claim: ClaimedRun) => (value: number) =>
      publish(() => ({
        _tag: "Progress",
        runId: claim.id,
        jobName: claim.jobName,
        attempt: claim.attempt,
        at: clock.unsafeCurrentTimeMillis(),
        value
      }))

    const start = (claim: ClaimedRun, now: number) => {
      const job = jobs.get(claim.jobName)
      const a = new Active(claim, job, codecs.get(claim.jobName), progressOf(claim))
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
      // log lines of the run (and of fibers it forks) carry the job name and run id;
      // set when the fiber is made, which costs far less than Effect.annotateLogs
      const annotations = HashMap.set(a.codec?.annotations ?? appAnnotations, "runId", claim.id)
      // armed before the fork: runFork starts the fiber at once, and a quick run
      // ends (and disarms its deadline) before runFork returns
      if (job !== undefined && Duration.isFinite(job.timeout)) {
        a.deadline = deadlines.arm(now + Duration.toMillis(job.timeout), () => stop(a, "timeout"))
      }
      a.fiber = runFork(program, {
        updateRefs: (refs, fiberId) =>
          FiberRefs.updateAs(refs, { fiberId, fiberRef: FiberRef.currentLogAnnotations, value: annotations })
      })
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
        // at most `concurrency` outcomes waiting to be written: a slow store slows the claims
        const free = unrecorded.size >= config.concurrency ? 0 : config.concurrency - active.size
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
          yield* outage.answered
          for (const claim of claimed) start(claim, now)
          if (claimed.length > 0) started.unsafeOffer(undefined)
          if (claimed.length === limit) {
            yield* Effect.yieldNow()
            continue
          }
        }
        starved = free === 0 || limited.some((job) => (perJob.get(job.name) ?? 0) >= job.concurrency!)
        const next = free > 0 ? yield* store.nextRunAt(now) : undefined
        if (next !== undefined) {
          // the clock again: the claim and this query took time, and the run is due at `next` sharp
          const until = next - (yield* Clock.currentTimeMillis)
          yield* Effect.raceFirst(Queue.take(wake), sleepAtMost(until))
        } else {
          yield* Queue.take(wake)
        }
        // let more completions gather, so claims come in batches, not one by one
        yield* Effect.yieldNow()
      }
    }).pipe(
      Effect.catchAllCause((cause) => outage.failed("claim", cause)),
      Effect.forever
    )

    // leases: renewed every third of their length while this runner holds runs
    const heartbeatLoop = Effect.gen(function*() {
      for (;;) {
        if (active.size === 0 && unrecorded.size === 0) yield* Queue.take(started)
        yield* Effect.sleep(config.leaseMs / 3)
        if (active.size === 0 && unrecorded.size === 0) continue
        const now = yield* Clock.currentTimeMillis
        const held = [...active.keys(), ...unrecorded.keys()]
        yield* store.heartbeat(config.workerId, held, now + config.leaseMs).pipe(
          Effect.matchCauseEffect({ onFailure: (cause) => outage.failed("heartbeat", cause), onSuccess: () => outage.answered })
        )
      }
    })
    yield* Effect.forkScoped(heartbeatLoop)

    // the runner's own beat: it is listed as a live worker until a lease's length after its last one.
    // Paced by the live clock, as I/O is: a TestClock moved by years would otherwise step through
    // every beat in between (its instants still come from the app's Clock)
    const liveClock = Clock.make()
    const startedAt = yield* Clock.currentTimeMillis
    const jobNames = Array.from(jobs.keys()).sort()
    const beat = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      store.workerBeat({
        id: config.workerId,
        startedAt,
        now,
        expiresAt: now + config.leaseMs,
        info: new WorkerInfo({ concurrency: config.concurrency, jobs: jobNames, running: active.size })
      }))
    yield* Effect.forkScoped(
      beat.pipe(
        Effect.matchCauseEffect({ onFailure: (cause) => outage.failed("workerBeat", cause), onSuccess: () => outage.answered }),
        Effect.zipRight(Effect.withClock(Effect.sleep(config.leaseMs / 3), liveClock)),
        Effect.forever
      )
    )

    // one wake-up queue for the claim loop: freed slots, and new runs in the store
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.flatMap(Queue.take(changes), (change) => change === "runs" ? Queue.offer(wake, undefined) : Effect.void)
      )
    )
    yield* Effect.forkScoped(flushLoop)
    yield* Effect.forkScoped(claimLoop)

    // graceful shutdown: stop claiming, let runs finish within the grace
    // period, interrupt the rest (re-queued), write every outcome. Bounded when
    // the store is unreachable: runs that ignore their interruption, and
    // outcomes the store does not take, are left to a reaper, and said so
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        stopping = true
        const fibers = () => Array.from(active.values(), (a) => a.fiber!).filter((f) => f !== undefined)
        if (active.size > 0 && Duration.toMillis(config.shutdownGrace) > 0) {
          // finalizers run uninterruptibly; the wait must be cut by the grace period
          yield* Effect.timeoutOption(Effect.interruptible(Fiber.awaitAll(fibers())), config.shutdownGrace)
        }
        for (const a of active.values()) stop(a, "shutdown")
        yield* Effect.timeoutOption(Effect.interruptible(Fiber.awaitAll(fibers())), interruptWait)
        const stuck = active.size
        // the write under way first; when the store did not take it, it will not take the rest either
        yield* writing.withPermits(1)(Effect.void)
        if (!writeFailedWhileStopping) yield* flush
        const unwritten = stuck + unrecorded.size
        if (unwritten > 0) {
          yield* Effect.logWarning(
            `clockwork: shutting down with ${unwritten} run(s) whose outcome is not written` +
              (stuck > 0 ? ` (${stuck} did not stop within ${Duration.format(interruptWait)} of their interruption)` : "") +
              `; a reaper queues them again once their lease expires`
          )
        } else {
          yield* store.removeWorker(config.workerId).pipe(
            Effect.catchAll((error) => Effect.logDebug("clockwork: could not remove this worker's row", error))
          )
        }
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
      activeRuns: () => [...active.keys(), ...unrecorded.keys()]
    }
  })
