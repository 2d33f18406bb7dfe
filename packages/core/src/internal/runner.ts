import {
  Cause,
  Clock,
  Context,
  Duration,
  Effect,
  Either,
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
import { StoreError } from "../StoreError.js"
import { WorkerInfo } from "../Worker.js"
import type { Metrics, RunId, RunStatus } from "../Run.js"
import { ParentFailed, RunError } from "../Run.js"
import * as Deadlines from "./deadlines.js"
import { notRetried, toRunError } from "./runError.js"
import { type Suspended, suspensionOf } from "./suspension.js"
import * as Outage from "./outage.js"
import { nextAttemptAt } from "./retry.js"
import * as Storable from "./storable.js"
import * as Telemetry from "./telemetry.js"
import * as Signal from "./signal.js"
import { sleepAtMost } from "./timer.js"

export interface RunnerConfig {
  readonly workerId: string
  readonly concurrency: number
  readonly batchSize: number
  readonly shutdownGrace: Duration.Duration
  readonly leaseMs: number
}

/** why a run's fiber was interrupted; "lost": this worker no longer holds the run (its lease was reaped) */
type StopReason = "timeout" | "cancel" | "shutdown" | "lost"

/** The store's error when it refused a request for its data (trying the same again cannot help). */
const refusal = (cause: Cause.Cause<unknown>): StoreError | undefined => {
  const error = Option.getOrUndefined(Cause.failureOption(cause))
  return error instanceof StoreError && error.kind === "permanent" ? error : undefined
}

/** At shutdown, how long runs interrupted after the grace period may take to stop. */
const interruptWait = Duration.seconds(2)

/**
 * What the runs of one job share, made once per runner: its Schemas, its
 * timeout, and the fiber refs its runs' fibers start from (the runner's, with
 * the registry's services and the job's name in the log annotations). A run
 * of a job this runner does not have gets one with no job.
 */
interface Prepared {
  readonly job: Any | undefined
  readonly decodePayload: (u: unknown) => Effect.Effect<unknown, ParseError>
  readonly encodePayload: (a: unknown) => Effect.Effect<unknown, ParseError>
  readonly encodeSuccess: (a: unknown) => Effect.Effect<unknown, ParseError>
  readonly timeoutMs: number | undefined
  readonly refs: FiberRefs.FiberRefs
  readonly annotations: HashMap.HashMap<string, unknown>
  readonly progress: (a: Active, value: number) => Effect.Effect<void>
}

/**
 * A run being executed; it is also the job's context (one object per
 * attempt), its deadline, its pending outcome, and the options of its fork.
 */
class Active implements JobContext, Deadlines.Deadline {
  /** the attempt's fiber; once it ended, the fiber recording its outcome if that takes effects */
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  reason: StopReason | undefined = undefined
  reported: Metrics | undefined = undefined
  /** how the attempt ended, once its outcome is recorded ("waiting": a workflow's attempt that ends waiting) */
  status: RunStatus | "waiting" | undefined = undefined
  /** the outcome to write, once recorded; `refused`: the store refused it and it was stripped of its data */
  outcome: RunOutcome | undefined = undefined
  refused = false
  /** its earlier attempts' lease expiries used up the retry policy: it ends dead without running */
  exhausted = false
  deadlineAt = Infinity
  armed = false
  /** the fiber refs of the run's fibers, made at its fork */
  refs: FiberRefs.FiberRefs | undefined = undefined
  private progressOf: ((value: number) => Effect.Effect<void>) | undefined = undefined
  private metricsOf: ((values: Metrics) => Effect.Effect<void>) | undefined = undefined
  constructor(
    readonly claim: ClaimedRun,
    /** until when this worker holds the run, as far as it knows (the lease it last set) */
    public leaseUntil: number,
    readonly prepared: Prepared,
    readonly startedAt: number
  ) {}
  get job() {
    return this.prepared.job
  }
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
  // made on first use: most jobs report neither
  get progress() {
    return this.progressOf ??= (value: number) => this.prepared.progress(this, value)
  }
  get metrics() {
    return this.metricsOf ??= (values: Metrics) =>
      Effect.sync(() => {
        this.reported = { ...this.reported, ...values }
      })
  }
  /**
   * As the options of its fork (`Runtime.runFork(effect, active)`): the fiber
   * starts from its job's fiber refs with the run id added to the log
   * annotations, so its log lines (and its child fibers') carry the job and
   * the run. One copy of a shared base, where a fork would copy the runner's
   * refs and then copy them again to update them.
   */
  updateRefs(_: FiberRefs.FiberRefs, fiberId: FiberId.Runtime): FiberRefs.FiberRefs {
    if (this.refs !== undefined) return this.refs
    const base = this.prepared.refs.locals
    // what FiberRefs.updateAs does, without iterating the base map (an array per entry)
    const locals: typeof base = new Map()
    base.forEach((stack, fiberRef) => locals.set(fiberRef, stack))
    const annotations = HashMap.set(this.prepared.annotations, "runId", this.claim.id)
    const inherited = base.get(FiberRef.currentLogAnnotations)!
    const stack: [readonly [FiberId.Single, unknown], ...Array<readonly [FiberId.Single, unknown]>] = [[fiberId, annotations]]
    for (let i = 0; i < inherited.length; i++) stack.push(inherited[i]!)
    locals.set(FiberRef.currentLogAnnotations, stack)
    return this.refs = FiberRefs.unsafeMake(locals)
  }
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
    // a runner claims only runs of the jobs it has: in a rolling deploy, an old worker leaves a new job's runs alone
    const jobNames = Array.from(jobs.keys()).sort()
    const runtime = yield* Effect.runtime<never>()
    const context = Context.merge(runtime.context, registry.context)
    // forks start from no fiber refs, and each run's fiber is given its job's (Active.updateRefs),
    // made here once: a fork copies nothing for the runner's refs
    const runFork = Runtime.runFork(
      Runtime.make({ context, runtimeFlags: runtime.runtimeFlags, fiberRefs: FiberRefs.empty() })
    )
    const clock = yield* Effect.clock
    const tracing = yield* Telemetry.tracing
    const appAnnotations = FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentLogAnnotations)
    // the runner's refs as a fork would pass them on (a fork resets some), with the registry's services
    const forkId = FiberId.unsafeMake()
    const baseRefs = FiberRefs.updateAs(FiberRefs.forkAs(runtime.fiberRefs, forkId), {
      fiberId: forkId,
      fiberRef: FiberRef.currentContext,
      value: context
    })
    const progress = (a: Active, value: number) =>
      publish(() => ({
        _tag: "Progress",
        runId: a.claim.id,
        jobName: a.claim.jobName,
        attempt: a.claim.attempt,
        at: clock.unsafeCurrentTimeMillis(),
        value
      }))
    const prepare = (job: Any): Prepared => {
      const annotations = HashMap.set(appAnnotations, "job", job.name)
      return {
        job,
        decodePayload: Schema.decodeUnknown(job.payload),
        encodePayload: Schema.encodeUnknown(job.payload),
        encodeSuccess: Schema.encodeUnknown(job.success),
        timeoutMs: Duration.isFinite(job.timeout) ? Duration.toMillis(job.timeout) : undefined,
        refs: FiberRefs.updateAs(baseRefs, { fiberId: forkId, fiberRef: FiberRef.currentLogAnnotations, value: annotations }),
        annotations,
        progress
      }
    }
    const prepared = new Map(Array.from(jobs.values(), (job) => [job.name, prepare(job)] as const))
    const unknownJob: Prepared = {
      job: undefined,
      decodePayload: Effect.succeed,
      encodePayload: Effect.succeed,
      encodeSuccess: Effect.succeed,
      timeoutMs: undefined,
      refs: baseRefs,
      annotations: appAnnotations,
      progress
    }
    const deadlines = yield* Deadlines.make<Active>((a) => stop(a, "timeout"))
    const changes = yield* store.changes
    const outage = Outage.of(store)
    const wake = yield* Signal.make
    // runs whose fiber is running (by id), and runs that ended but whose outcome is not written yet (their
    // slot is free for the next claim; their lease is still renewed, as the store still has them running)
    const active = new Map<RunId, Active>()
    const unrecorded = new Set<Active>()
    const perJob = new Map<string, number>()
    const limited = Array.from(jobs.values()).filter((job) => job.concurrency !== undefined)
    let pending: Array<Active> = []
    // one write of outcomes at a time, so shutdown can wait for the one under way
    const writing = yield* Effect.makeSemaphore(1)
    let writeFailedWhileStopping = false
    const flushWake = yield* Signal.make
    const started = yield* Queue.sliding<void>(1)
    let stopping = false
    // whether due runs may be waiting for a free slot: the claim loop last stopped for want of
    // slots (or of a capped job's capacity), not because the queue had nothing due
    let starved = false

    const publish = (make: () => Event): Effect.Effect<void> => events.hasSubscribers() ? events.publish(make()) : Effect.void

    // -------------------------------------------------------------------
    // completion: outcomes are written in batches by one fiber
    // -------------------------------------------------------------------
    // Writes a batch. A batch the store refuses for its data (a permanent error: one outcome it cannot
    // hold) is split in halves until the refused outcome is alone, which is then written stripped of its
    // data (UnstorableOutcome): one run's data never stops the others' outcomes. Any other failure stops
    // the write, and what is left is returned with it.
    const write = (batch: ReadonlyArray<Active>) =>
      Effect.gen(function*() {
        const written: Array<Active> = []
        // outcomes of attempts that no longer hold their run (fencing): nothing of them was recorded
        const stale: Array<Active> = []
        const parts: Array<ReadonlyArray<Active>> = [batch]
        for (let part = parts.shift(); part !== undefined; part = parts.shift()) {
          const exit = yield* Effect.exit(store.complete(part.map((a) => a.outcome!)))
          if (Exit.isSuccess(exit)) {
            const fenced = exit.value.refused
            for (const a of part) (fenced.length > 0 && fenced.includes(a.claim.id) ? stale : written).push(a)
            continue
          }
          const refused = refusal(exit.cause)
          if (refused === undefined) return { written, stale, left: [part, ...parts].flat(), cause: exit.cause }
          if (part.length > 1) {
            const half = Math.ceil(part.length / 2)
            parts.unshift(part.slice(0, half), part.slice(half))
            continue
          }
          const a = part[0]!
          const outcome = a.outcome!
          if (a.refused) {
            // not even the bare outcome: its lease runs out and the reaper takes the run back
            unrecorded.delete(a)
            yield* Effect.logError(`clockwork: the store refused the outcome of run ${outcome.runId}`, exit.cause)
            continue
          }
          yield* Effect.logWarning(
            `clockwork: the store refused the outcome of run ${outcome.runId} (${outcome.jobName}): ` +
              `${refused.message}; recording it without its data, as UnstorableOutcome`
          )
          a.outcome = Storable.refused(outcome, refused.message)
          a.refused = true
          parts.unshift([a])
        }
        return { written, stale, left: [], cause: undefined }
      })

    // events go out after the outcome is stored, so whoever reacts to one
    // (an awaiting caller, a notifier) finds the store already up to date
    const flush: Effect.Effect<void> = Effect.suspend(() => {
      if (pending.length === 0) return Effect.void
      const batch = pending
      pending = []
      return Effect.flatMap(writing.withPermits(1)(write(batch)), ({ cause, left, stale, written }) =>
        Effect.gen(function*() {
          for (const a of stale) unrecorded.delete(a)
          if (stale.length > 0) {
            yield* Effect.logWarning(
              `clockwork: the store refused the outcome of ${stale.length} run(s) that this worker no longer ` +
                `held at that attempt (their lease expired and another attempt may hold them; or, after a lost ` +
                `connection, the write that seemed to fail had recorded them): ${stale.map((a) => a.claim.id).join(", ")}`
            )
          }
          if (written.length > 0 || stale.length > 0) yield* outage.answered
          if (written.length > 0) {
            for (const a of written) unrecorded.delete(a)
            // a schedule's serial run (overlap "queue") lets the next one go once this outcome is written
            if (starved || written.some((a) => a.claim.scheduleId !== undefined)) wake.give()
            if (events.hasSubscribers()) yield* Effect.forEach(written, publishWritten, { discard: true })
          }
          if (cause === undefined) return
          if (stopping) {
            // the last write at shutdown: the runs stay claimed, their leases expire and they are re-queued
            // (the shutdown counts them in its one warning)
            writeFailedWhileStopping = true
            return yield* Effect.logDebug(`clockwork: could not record ${left.length} run outcome(s) while shutting down`, cause)
          }
          // kept (their leases renewed) and written once the store answers
          pending = left.concat(pending)
          yield* outage.failed("complete", cause)
          flushWake.give()
        }))
    })
    // this loop and the change loop below wake for every job: plain generator loops, as `Effect.forever`
    // yields to the scheduler after every iteration (one more run of the fiber per wake-up)
    const flushLoop = Effect.gen(function*() {
      for (;;) {
        yield* flushWake.wait
        // let the outcomes of runs ending at the same moment join this write
        yield* Effect.yieldNow()
        yield* flush
      }
    })

    const release = (a: Active) => {
      // a run id may be held twice for a moment: this worker lost its lease and claimed the run again
      // before its heartbeat said so; each entry belongs to one attempt
      if (active.get(a.claim.id) === a) active.delete(a.claim.id)
      if (a.job?.concurrency !== undefined) perJob.set(a.job.name, (perJob.get(a.job.name) ?? 1) - 1)
      if (a === alone) alone = undefined
      // a freed slot may take a due run the last claim had no room for (that run's NOTIFY may have come
      // while every slot was taken); an idle runner may take a suspect (below), if its last claim saw one
      if (starved || (active.size === 0 && suspectWaiting)) wake.give()
    }

    // -------------------------------------------------------------------
    // suspects: runs that lost their lease twice or more may be what crashed or blocked their
    // workers. A runner's claims leave them out; only a runner that is idle, with no ordinary run
    // due, takes one (a claim of one run), and claims nothing more until it ends, so a suspect
    // cannot take innocent runs down with it a third time
    // -------------------------------------------------------------------
    const suspectAfter = 2
    let alone: Active | undefined = undefined
    let suspectWaiting = false

    // -------------------------------------------------------------------
    // one attempt
    // -------------------------------------------------------------------
    const baseOf = (a: Active): Omit<RunOutcome, "status"> => ({
      runId: a.claim.id,
      jobName: a.claim.jobName,
      attempt: a.claim.attempt,
      scheduledFor: a.claim.scheduledFor,
      scheduleId: a.claim.scheduleId,
      startedAt: a.startedAt,
      finishedAt: clock.unsafeCurrentTimeMillis(),
      workerId: config.workerId,
      metrics: a.reported
    })

    // the run's slot is free at once: the next claim overlaps the write of this outcome
    const record = (a: Active, outcome: RunOutcome) => {
      a.status = outcome.status
      Telemetry.attemptEnded(outcome.jobName, outcome.status, outcome.finishedAt - outcome.startedAt)
      release(a)
      unrecorded.add(a)
      // what no store can hold is never sent: such an outcome is recorded as UnstorableOutcome
      a.outcome = Storable.outcome(outcome)
      pending.push(a)
      flushWake.give()
    }

    // How an attempt ended, from its exit: recorded at once when that takes no effect (a success whose
    // result encodes synchronously, a cancellation, a shutdown); otherwise the effect that records it
    // is returned (a retry policy's step, a log line, the store's answer to a workflow's wait)
    const settle = (a: Active, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> | undefined => {
      deadlines.disarm(a)
      // another attempt holds the run now: the store would refuse this one's outcome
      if (a.reason === "lost") release(a)
      else if (a.exhausted) {
        record(a, { ...baseOf(a), status: "dead", error: leaseExpiredError(a.claim, "") })
      } else return Exit.isSuccess(exit) ? succeeded(a, exit.value) : failed(a, exit.cause)
      return undefined
    }

    const succeeded = (a: Active, value: unknown): Effect.Effect<void> | undefined => {
      const encoded = a.prepared.encodeSuccess(value)
      // a Schema without asynchronous parts answers with an Either (an Effect too), read here at once
      if (Either.isEither(encoded)) {
        return Either.isLeft(encoded) ? failed(a, Cause.fail(encoded.left)) : withResult(a, value, encoded.right)
      }
      return Effect.matchEffect(encoded, {
        onFailure: (error) => failed(a, Cause.fail(error)) ?? Effect.void,
        onSuccess: (result) => withResult(a, value, result) ?? Effect.void
      })
    }

    const withResult = (a: Active, value: unknown, result: unknown): Effect.Effect<void> | undefined => {
      if (a.claim.then.length === 0) {
        // one literal, not a spread: it becomes the history row, kept as long as the run
        record(a, {
          runId: a.claim.id,
          jobName: a.claim.jobName,
          attempt: a.claim.attempt,
          scheduledFor: a.claim.scheduledFor,
          scheduleId: a.claim.scheduleId,
          startedAt: a.startedAt,
          finishedAt: clock.unsafeCurrentTimeMillis(),
          workerId: config.workerId,
          metrics: a.reported,
          status: "succeeded",
          result
        })
        return undefined
      }
      return Effect.flatMap(Telemetry.currentTraceparent, (traceparent) =>
        Effect.map(
          Effect.forEach(a.claim.then, (name) => {
            // the follow-up's payload is this run's result, encoded with the follow-up's own Schema
            const next = prepared.get(name)
            const now = clock.unsafeCurrentTimeMillis()
            return Effect.map(
              next === undefined ? Effect.succeed(result) : Effect.orElseSucceed(next.encodePayload(value), () => result),
              // the next step's span is a child of this attempt's
              (payload): NewRun => ({ jobName: name, payload, runAt: now, scheduledFor: now, traceparent })
            )
          }),
          (followUps) => record(a, { ...baseOf(a), status: "succeeded", result, followUps })
        ))
    }

    const failed = (a: Active, cause: Cause.Cause<unknown>): Effect.Effect<void> | undefined => {
      if (a.reason === "cancel") {
        record(a, { ...baseOf(a), status: "cancelled" })
        return undefined
      }
      if (a.reason === "shutdown") {
        const base = baseOf(a)
        record(a, { ...base, status: "interrupted", retryAt: base.finishedAt, error: toRunError(cause) })
        return undefined
      }
      return Effect.gen(function*() {
        const { claim, job } = a
        const base = baseOf(a)
        const timedOut = a.reason === "timeout"
        const suspension = timedOut ? undefined : suspensionOf(cause)
        if (suspension !== undefined) return yield* suspend(a, suspension)
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
        const retryable = job !== undefined && !notRetried.has(error.tag)
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
    }

    // a workflow's attempt that ends waiting: the run is queued again for its wake-up, and this
    // attempt is not recorded (not an outcome, and not counted against retries)
    const suspend = (a: Active, suspension: Suspended): Effect.Effect<void> =>
      Effect.flatMap(
        Effect.either(store.suspend({
          runId: a.claim.id,
          attempt: a.claim.attempt,
          wakeAt: suspension.wakeAt,
          wakes: suspension.wakes,
          now: clock.unsafeCurrentTimeMillis()
        })),
        (suspended) => {
          if (Either.isRight(suspended)) {
            a.status = "waiting"
            release(a)
            return Effect.void
          }
          // the store did not answer: the run is queued again at once, as after a shutdown, and waits anew then
          const base = baseOf(a)
          record(a, {
            ...base,
            status: "interrupted",
            retryAt: base.finishedAt,
            error: new RunError({
              tag: "WorkflowWaitNotRecorded",
              message: `the store did not take this attempt's wait: ${suspended.left.message}`,
              cause: ""
            }, true)
          })
          return Effect.void
        }
      )

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

    // a run that ended without success: the store recorded its dependents as cancelled
    const publishWritten = (a: Active) => {
      const o = a.outcome!
      if (o.status === "succeeded" || o.retryAt !== undefined || a.claim.then.length === 0) {
        return publishOutcome(o)
      }
      const error = new ParentFailed({
        parentRunId: o.runId,
        parentJobName: o.jobName,
        parentState: o.status === "interrupted" ? "failed" : o.status
      })
      const stored = new RunError({ tag: error._tag, message: error.message, cause: "" }, true)
      return Effect.zipRight(
        publishOutcome(o),
        Effect.forEach(a.claim.then, (jobName) =>
          events.publish({
            _tag: "DependentCancelled",
            jobName,
            parentRunId: o.runId,
            parentJobName: o.jobName,
            error: stored,
            at: o.finishedAt
          }), { discard: true })
      )
    }

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
          return { _tag: "Failed", ...common, durationMs, error: o.error!, final: o.retryAt === undefined }
        case "timed_out":
          return { _tag: "TimedOut", ...common, durationMs, error: o.error!, final: o.retryAt === undefined }
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
        : Effect.flatMap(
          a.prepared.decodePayload(a.claim.payload),
          // the job's services come from the registry's context, merged into this runtime
          (payload) => a.job!.run(payload, a) as Effect.Effect<unknown, unknown>
        )

    /**
     * A run whose earlier attempts lost their lease (the worker crashed, or
     * blocked its thread) counts those attempts against its job's retry
     * policy: when the policy allows no further attempt, it ends `dead` here
     * without running again.
     */
    const exhaustedByLeaseExpiries = (claim: ClaimedRun, job: Any, now: number) =>
      Effect.map(
        nextAttemptAt(job.retry, claim.attempt - 1, leaseExpiredError(claim, ""), now),
        (retryAt) => retryAt === undefined
      )

    const leaseExpiredError = (claim: ClaimedRun, cause: string) =>
      new RunError({
        tag: "LeaseExpired",
        message: `the worker stopped renewing its lease ${claim.leaseExpiries} time${
          claim.leaseExpiries === 1 ? "" : "s"
        } while running this run; it may crash or block its process, and the retry policy allows no more attempts`,
        cause
      }, true)

    // An attempt's fiber runs its body alone, and an observer settles it when the fiber ends, as
    // plain calls: the success of a quick job costs no fiber steps beyond its own. When the outcome
    // takes effects, they run on a fiber of their own that nothing interrupts; it stands for the
    // attempt (cancel and shutdown wait for it) until the outcome is recorded
    const ended = (a: Active, exit: Exit.Exit<unknown, unknown>) => {
      const rest = settle(a, exit)
      if (rest !== undefined) a.fiber = runFork(Effect.uninterruptible(rest), a)
      else {
        // settled: until its outcome is written it holds neither its fiber nor its refs, which
        // would otherwise outlive a young-generation collection or two with it
        a.fiber = undefined
        a.refs = undefined
      }
    }

    // traced, an attempt is settled inside its span (whose status says how it ended), on its own fiber
    const traced = (a: Active, body: Effect.Effect<unknown, unknown>): Effect.Effect<void> => {
      const claim = a.claim
      const attempt = Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.exit(restore(body)), (exit) => settle(a, exit) ?? Effect.void)
      )
      return Effect.withSpan(
        Effect.zipLeft(attempt, Effect.suspend(() => Effect.annotateCurrentSpan("clockwork.status", a.status ?? "lost"))),
        Telemetry.runSpanName,
        {
          kind: "consumer",
          parent: Telemetry.parentOf(claim.traceparent),
          attributes: {
            "clockwork.job": claim.jobName,
            "clockwork.run_id": claim.id,
            "clockwork.attempt": claim.attempt,
            "clockwork.worker_id": config.workerId,
            ...(claim.scheduleId === undefined ? {} : { "clockwork.schedule_id": claim.scheduleId })
          }
        }
      )
    }

    // an attempt ends with its fiber, or with the fiber recording its outcome that may follow it
    const attemptEnded = (a: Active): Effect.Effect<void> =>
      Effect.suspend(() => {
        const fiber = a.fiber
        if (fiber === undefined) return Effect.void
        return Effect.flatMap(Fiber.await(fiber), () => (a.fiber === fiber ? Effect.void : attemptEnded(a)))
      })

    const start = (claim: ClaimedRun, now: number) => {
      const shared = prepared.get(claim.jobName) ?? unknownJob
      const stale = active.get(claim.id)
      if (stale !== undefined) stop(stale, "lost")
      const a = new Active(claim, now + config.leaseMs, shared, now)
      active.set(claim.id, a)
      // before the fork: a run can end (and be released) before runFork returns, and a suspect whose
      // lease expiries exhaust its retries always does
      if (claim.leaseExpiries >= suspectAfter) alone = a
      if (shared.job?.concurrency !== undefined) perJob.set(claim.jobName, (perJob.get(claim.jobName) ?? 0) + 1)
      let body = bodyOf(a)
      if (shared.job !== undefined && claim.leaseExpiries > 0) {
        body = Effect.flatMap(
          exhaustedByLeaseExpiries(claim, shared.job, now),
          (exhausted) => exhausted ? Effect.sync(() => void (a.exhausted = true)) : bodyOf(a)
        )
      }
      if (tracing) body = traced(a, body)
      if (claim.attempt === 1) Telemetry.firstAttemptStarted(claim.jobName, now - claim.scheduledFor)
      if (events.hasSubscribers()) {
        body = Effect.zipRight(
          events.publish({
            _tag: "Started",
            runId: claim.id,
            jobName: claim.jobName,
            attempt: claim.attempt,
            at: now,
            ...(claim.scheduleId === undefined ? {} : { scheduleId: claim.scheduleId })
          }),
          body
        )
      }
      // armed before the fork: runFork starts the fiber at once, and a quick run
      // ends (and disarms its deadline) before runFork returns
      if (shared.timeoutMs !== undefined) deadlines.arm(a, now + shared.timeoutMs)
      const fiber = runFork(body, a)
      a.fiber = fiber
      // called at once when the fiber has already ended
      if (!tracing) fiber.addObserver((exit) => ended(a, exit))
      return a
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
        const free = unrecorded.size >= config.concurrency || alone !== undefined ? 0 : config.concurrency - active.size
        const now = yield* Clock.currentTimeMillis
        // when the next queued run becomes due, as the claim saw it
        let next: number | undefined = undefined
        if (free > 0 && !stopping) {
          const limit = Math.min(free, config.batchSize)
          const claimed = yield* store.claim({
            now,
            limit,
            workerId: config.workerId,
            jobNames,
            jobCapacity: limited.length === 0 ? undefined : jobCapacity(),
            leaseMs: config.leaseMs,
            maxLeaseExpiries: suspectAfter - 1,
            // idle, and no ordinary run is due: a suspect waits for an idle runner, and runs alone
            suspectIfNoneDue: active.size === 0
          })
          yield* outage.answered
          suspectWaiting = claimed.suspectWaiting
          for (const claim of claimed.runs) start(claim, now)
          if (claimed.runs.length > 0) started.unsafeOffer(undefined)
          if (claimed.runs.length === limit || alone !== undefined) {
            yield* Effect.yieldNow()
            continue
          }
          next = claimed.nextRunAt
        }
        starved = free === 0 || limited.some((job) => (perJob.get(job.name) ?? 0) >= job.concurrency!)
        if (next !== undefined) {
          // the clock again: the claim and this query took time, and the run is due at `next` sharp
          const until = next - (yield* Clock.currentTimeMillis)
          yield* Effect.raceFirst(wake.wait, sleepAtMost(until))
        } else {
          yield* wake.wait
        }
        // let more completions gather, so claims come in batches, not one by one
        yield* Effect.yieldNow()
      }
    }).pipe(
      Effect.catchAllCause((cause) => outage.failed("claim", cause)),
      Effect.forever
    )

    // leases: renewed every third of their length while this runner holds runs, and at once when a
    // cancellation is requested somewhere. The store answers which runs this worker lost (another
    // attempt holds them: they are stopped here at once) and which are to be cancelled
    const beatNow = yield* Queue.sliding<void>(1)
    const renew = Effect.gen(function*() {
      const held = [...active.values(), ...unrecorded]
      if (held.length === 0) return
      const leaseUntil = (yield* Clock.currentTimeMillis) + config.leaseMs
      const { cancelRequested, lost } = yield* store.heartbeat(
        config.workerId,
        held.map((a) => ({ runId: a.claim.id, attempt: a.claim.attempt })),
        leaseUntil
      )
      yield* outage.answered
      const gone = new Set(lost)
      for (const a of held) if (!gone.has(a.claim.id)) a.leaseUntil = Math.max(a.leaseUntil, leaseUntil)
      const stopped = held.filter((a) => gone.has(a.claim.id) && active.get(a.claim.id) === a)
      for (const a of stopped) stop(a, "lost")
      for (const a of held) if (gone.has(a.claim.id)) unrecorded.delete(a)
      if (stopped.length > 0) {
        yield* Effect.logWarning(
          `clockwork: this worker lost the lease of ${stopped.length} run(s) (reaped after it stopped renewing ` +
            `them in time); interrupted them here: ${stopped.map((a) => a.claim.id).join(", ")}`
        )
      }
      for (const id of cancelRequested) {
        const a = active.get(id)
        if (a !== undefined) stop(a, "cancel")
      }
    }).pipe(Effect.catchAllCause((cause) => outage.failed("heartbeat", cause)))
    // a run whose lease ran out without a renewal (the store did not answer in time) may be reaped
    // and claimed by another worker: it is stopped here rather than run twice at once
    const expireLocally = Effect.suspend(() => {
      const now = clock.unsafeCurrentTimeMillis()
      const expired = Array.from(active.values()).filter((a) => a.leaseUntil <= now && a.reason === undefined)
      if (expired.length === 0) return Effect.void
      for (const a of expired) stop(a, "lost")
      return Effect.logWarning(
        `clockwork: could not renew the lease of ${expired.length} run(s) before it expired (the store did not ` +
          `answer); interrupted them here, another worker may run them: ${expired.map((a) => a.claim.id).join(", ")}`
      )
    })
    // how long until the first lease of a run still going runs out, at most `longest`
    const untilFirstExpiry = (longest: number) => {
      const now = clock.unsafeCurrentTimeMillis()
      let wait = longest
      for (const a of active.values()) if (a.reason === undefined) wait = Math.min(wait, a.leaseUntil - now)
      return Math.max(0, wait)
    }
    const heartbeatLoop = Effect.gen(function*() {
      for (;;) {
        if (active.size === 0 && unrecorded.size === 0) yield* Queue.take(started)
        // a beat every third of a lease, or sooner when a lease runs out first (the last renewals failed)
        yield* Effect.raceFirst(Effect.sleep(untilFirstExpiry(config.leaseMs / 3)), Queue.take(beatNow))
        // the runs held at the last beat have all been recorded since: no lease to renew or watch,
        // and no fiber and timer to set up for it
        if (active.size === 0 && unrecorded.size === 0) continue
        // a heartbeat that hangs (a silent network) must not keep the leases from being watched: a run is
        // stopped here when its lease runs out, before a reaper can give it to another worker
        yield* Effect.timeoutOption(Effect.disconnect(renew), untilFirstExpiry(config.leaseMs / 3))
        yield* expireLocally
      }
    })
    // the runner's own store calls are not traced (each would be a root span): a run's span is its trace
    yield* Effect.forkScoped(Effect.withTracerEnabled(heartbeatLoop, false))

    // the runner's own beat: it is listed as a live worker until a lease's length after its last one.
    // Paced by the live clock, as I/O is: a TestClock moved by years would otherwise step through
    // every beat in between (its instants still come from the app's Clock)
    const liveClock = Clock.make()
    const startedAt = yield* Clock.currentTimeMillis
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
        Effect.forever,
        Effect.withTracerEnabled(false)
      )
    )

    // one wake-up queue for the claim loop: freed slots, and new runs in the store
    yield* Effect.forkScoped(Effect.gen(function*() {
      for (;;) {
        const change = yield* Queue.take(changes)
        if (change === "runs") wake.give()
        else if (change === "cancels" && active.size > 0) beatNow.unsafeOffer(undefined)
      }
    }))
    yield* Effect.forkScoped(Effect.withTracerEnabled(flushLoop, false))
    yield* Effect.forkScoped(Effect.withTracerEnabled(claimLoop, false))

    // graceful shutdown: stop claiming, let runs finish within the grace
    // period, interrupt the rest (re-queued), write every outcome. Bounded when
    // the store is unreachable: runs that ignore their interruption, and
    // outcomes the store does not take, are left to a reaper, and said so
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        stopping = true
        const attemptsEnded = Effect.suspend(() => Effect.forEach(Array.from(active.values()), attemptEnded, { discard: true }))
        if (active.size > 0 && Duration.toMillis(config.shutdownGrace) > 0) {
          // finalizers run uninterruptibly; the wait must be cut by the grace period
          yield* Effect.timeoutOption(Effect.interruptible(attemptsEnded), config.shutdownGrace)
        }
        for (const a of active.values()) stop(a, "shutdown")
        yield* Effect.timeoutOption(Effect.interruptible(attemptsEnded), interruptWait)
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
          return Effect.as(attemptEnded(a), true)
        }),
      activeRuns: () => [...active.keys(), ...Array.from(unrecorded, (a) => a.claim.id)]
    }
  })
