/**
 * The scheduling API: schedule a job under a stable id, enqueue it now, at an
 * instant or after a delay, await its typed result, cancel, pause, resume and
 * list. Everything goes through the store, so a scheduler in one process and
 * runners in others work together.
 *
 * @since 0.1.0
 */
import {
  Clock,
  Context,
  type Config,
  type ConfigError,
  DateTime,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  Queue,
  type Schedule,
  Schema,
  type Scope,
  Stream
} from "effect"
import { Events } from "./Events.js"
import type { ConsumerOptions, FeedEntry, FeedOptions, InvalidConsumer, InvalidFeedCursor } from "./Feed.js"
import type { Job } from "./Job.js"
import type { SignalResult, StepRecord } from "./Journal.js"
import { InvalidPayload } from "./Job.js"
import {
  type CancelResult,
  type JobQueue,
  jobQueues,
  JobStore,
  type NewRun,
  RunNotFound,
  type ScheduleInput,
  type ScheduleNotFound,
  type ScheduleRecord,
  type UpsertResult,
  type WorkerRecord,
  type StoreError
} from "./JobStore.js"
import * as FeedInternal from "./internal/feed.js"
import { encode as encodePayload, storable } from "./internal/payload.js"
import * as Storable from "./internal/storable.js"
import * as Telemetry from "./internal/telemetry.js"
import { takeMatching } from "./internal/takeMatching.js"
import { dueTicks } from "./internal/ticker.js"
import type { Misfire, Overlap } from "./Policy.js"
import * as Policy from "./Policy.js"
import type { HistoryQuery, Run, RunId, RunRecord } from "./Run.js"
import { RunError } from "./Run.js"
import { Runner } from "./Runner.js"
import * as Trigger from "./Trigger.js"

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * Only a run that ended without success (dead, failed, timed out, cancelled)
 * can be retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotRetryable extends Schema.TaggedError<NotRetryable>()("NotRetryable", {
  runId: Schema.String,
  state: Schema.String
}) {
  override get message() {
    return `run ${this.runId} is ${this.state}: only a run that ended dead, failed, timed_out or cancelled can be retried`
  }
}

/**
 * A signal's value cannot be stored as it is (`field` names the part, and
 * `reason` says why), or its name is empty.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidSignal extends Schema.TaggedError<InvalidSignal>()("InvalidSignal", {
  runId: Schema.String,
  name: Schema.String,
  reason: Schema.String,
  field: Schema.optional(Schema.String)
}) {
  override get message() {
    const what = this.field === undefined ? "" : `${this.field} of `
    return `${what}signal ${JSON.stringify(this.name)} for run ${this.runId} cannot be stored: ${this.reason}`
  }
}

/**
 * A schedule that skips overlapping runs (`overlap: "skip"`) has an
 * unfinished run, so running it now was refused.
 *
 * @since 0.1.0
 * @category errors
 */
export class ScheduleBusy extends Schema.TaggedError<ScheduleBusy>()("ScheduleBusy", {
  scheduleId: Schema.String,
  runId: Schema.String,
  state: Schema.String
}) {
  override get message() {
    return `schedule "${this.scheduleId}" skips overlapping runs and its run ${this.runId} is ${this.state}`
  }
}

/**
 * A schedule id that is empty, too long, or holds a character no store can
 * keep (a NUL character, a lone surrogate).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidScheduleId extends Schema.TaggedError<InvalidScheduleId>()("InvalidScheduleId", {
  id: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    // escaped: the id may hold what cannot be stored
    return `invalid schedule id ${JSON.stringify(this.id)}: ${this.reason}`
  }
}

/**
 * An awaited run ended without a result.
 *
 * @since 0.1.0
 * @category errors
 */
export class RunFailed extends Schema.TaggedError<RunFailed>()("RunFailed", {
  runId: Schema.String,
  jobName: Schema.String,
  state: Schema.String,
  error: Schema.optional(RunError)
}) {
  override get message() {
    return `run ${this.runId} of "${this.jobName}" ended ${this.state}${
      this.error === undefined ? "" : `: ${this.error.message}`
    }`
  }
}

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

/**
 * A trigger, or the result of a trigger constructor (so `Trigger.cron(...)`
 * can be passed without unwrapping it first).
 *
 * @since 0.1.0
 * @category models
 */
export type TriggerInput = Trigger.Trigger | Either.Either<Trigger.Trigger, Trigger.TriggerError>

/**
 * How to schedule a job.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScheduleOptions<P> {
  readonly trigger: TriggerInput
  readonly payload: P
  /** default: coalesce (fire once for all missed ticks) */
  readonly misfire?: Misfire
  /** default: the job's overlap policy */
  readonly overlap?: Overlap
  /** how late a tick may fire before the `skip` misfire policy drops it (default 1 minute) */
  readonly misfireGrace?: Duration.DurationInput
}

/**
 * One schedule of `scheduleMany`: its stable id and how to schedule it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScheduleEntry<P> extends ScheduleOptions<P> {
  readonly id: string
}

/**
 * How to enqueue a run.
 *
 * @since 0.1.0
 * @category models
 */
export interface EnqueueOptions<A> {
  /** run at this instant (UTC; a zoned DateTime is converted) */
  readonly at?: DateTime.DateTime.Input
  /** run after this delay */
  readonly delay?: Duration.DurationInput
  /** higher runs first (default 0) */
  readonly priority?: number
  /** while a run with this key is queued or running, enqueuing again returns it */
  readonly key?: string
  /** a job to run when this one succeeds, with its result as payload */
  readonly then?: Job<A, any, any, any>
}

/**
 * A run of a job, whose result can be awaited.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle<A> {
  readonly id: RunId
  readonly job: Job<any, A, any, any>
}

/**
 * The scheduler service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Scheduler {
  readonly schedule: <P>(
    id: string,
    job: Job<P, any, any, any>,
    options: ScheduleOptions<P>
  ) => Effect.Effect<ScheduleRecord, Trigger.TriggerError | InvalidPayload | InvalidScheduleId | StoreError>
  /**
   * schedules many of one job, as `schedule` does each, in one atomic store
   * step: a record per entry, in entry order. A bad entry fails the whole call
   * with its error naming its id, and nothing is stored; so does an id given
   * twice.
   */
  readonly scheduleMany: <P>(
    job: Job<P, any, any, any>,
    entries: Iterable<ScheduleEntry<P>>
  ) => Effect.Effect<
    ReadonlyArray<ScheduleRecord>,
    Trigger.TriggerError | InvalidPayload | InvalidScheduleId | StoreError
  >
  readonly enqueue: <P, A>(
    job: Job<P, A, any, any>,
    payload: P,
    options?: EnqueueOptions<A>
  ) => Effect.Effect<Handle<A>, InvalidPayload | Trigger.InvalidDate | Trigger.InvalidInterval | StoreError>
  readonly enqueueMany: <P, A>(
    job: Job<P, A, any, any>,
    payloads: Iterable<P>,
    options?: EnqueueOptions<A>
  ) => Effect.Effect<
    ReadonlyArray<Handle<A>>,
    InvalidPayload | Trigger.InvalidDate | Trigger.InvalidInterval | StoreError
  >
  readonly result: <A>(handle: Handle<A>) => Effect.Effect<A, RunFailed | RunNotFound | StoreError>
  /**
   * cancels a run: a queued one at once; a running one is interrupted (its
   * finalizers run) by the runner that holds it, in this process or another,
   * and the answer waits up to 10 seconds for it to end ("running" if it has
   * not by then: the request stands)
   */
  readonly cancel: (runId: RunId) => Effect.Effect<CancelResult, RunNotFound | StoreError>
  readonly unschedule: (id: string) => Effect.Effect<void, ScheduleNotFound | StoreError>
  readonly pause: (id: string) => Effect.Effect<ScheduleRecord, ScheduleNotFound | StoreError>
  readonly resume: (id: string) => Effect.Effect<ScheduleRecord, ScheduleNotFound | StoreError>
  readonly schedules: Effect.Effect<ReadonlyArray<ScheduleRecord>, StoreError>
  readonly getRun: (runId: RunId) => Effect.Effect<Run, RunNotFound | StoreError>
  readonly history: (query?: HistoryQuery) => Effect.Effect<ReadonlyArray<RunRecord>, StoreError>
  /** the runners alive now, on any machine sharing the store */
  readonly workers: Effect.Effect<ReadonlyArray<WorkerRecord>, StoreError>
  /**
   * per job with queued or running runs: how many are due, due later and
   * running, and which live workers register it (none: its due runs wait for a
   * worker that has the job)
   */
  readonly queue: Effect.Effect<ReadonlyArray<JobQueue>, StoreError>
  /**
   * queues a run that ended without success again, as a new run with its job,
   * payload (as stored), schedule, priority, key and chained jobs, due now
   */
  readonly retry: (runId: RunId) => Effect.Effect<Run, RunNotFound | NotRetryable | StoreError>
  /**
   * queues a run of the schedule's job and payload now, without moving its
   * next fire time; a schedule that skips overlapping runs and has one
   * unfinished is refused unless `force`
   */
  readonly trigger: (
    scheduleId: string,
    options?: { readonly force?: boolean | undefined }
  ) => Effect.Effect<Run, ScheduleNotFound | ScheduleBusy | StoreError>
  /**
   * delivers the signal `name` with `value` (plain JSON) to a workflow run,
   * from any process: the run wakes if it waits for it, or finds it when it
   * reaches its wait (see `Workflow.signal`)
   */
  readonly signal: (
    runId: RunId,
    name: string,
    value?: unknown
  ) => Effect.Effect<SignalResult, RunNotFound | InvalidSignal | StoreError>
  /** a workflow run's journal: each step, sleep, child and signal it recorded */
  readonly steps: (runId: RunId) => Effect.Effect<ReadonlyArray<StepRecord>, StoreError>
  /** the run feed from a cursor, in commit order, following new entries (see `Feed`) */
  readonly feed: (options?: FeedOptions) => Stream.Stream<FeedEntry, StoreError | InvalidFeedCursor>
  /** runs a named consumer of the run feed until interrupted or its handler fails (see `Feed`) */
  readonly consume: <E, R>(
    options: ConsumerOptions,
    handle: (entries: ReadonlyArray<FeedEntry>) => Effect.Effect<void, E, R>
  ) => Effect.Effect<never, E | StoreError | InvalidConsumer, R>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Scheduler: Context.Tag<Scheduler, Scheduler> = Context.GenericTag<Scheduler>(
  "@clockwork/core/Scheduler"
)

const terminal = new Set(["succeeded", "failed", "timed_out", "cancelled", "dead"])
const retryable = new Set(["dead", "failed", "timed_out", "cancelled"])

/** How long `cancel` waits for a run held in another process to end before it answers "running". */
const cancelWait = Duration.seconds(10)

const resolveTrigger = (input: TriggerInput): Either.Either<Trigger.Trigger, Trigger.TriggerError> =>
  Either.isEither(input) ? Either.flatMap(input, Trigger.validate) : Trigger.validate(input)

/** A bad entry's error, naming the schedule it was given for. */
const naming = (scheduleId: string) => (error: Trigger.TriggerError | InvalidPayload) => {
  switch (error._tag) {
    case "InvalidPayload":
      return new InvalidPayload({
        jobName: error.jobName,
        reason: error.reason,
        ...(error.field === undefined ? {} : { field: error.field }),
        scheduleId
      })
    case "InvalidInterval":
      return new Trigger.InvalidInterval({ field: error.field, value: error.value, reason: error.reason, scheduleId })
    case "InvalidCron":
      return new Trigger.InvalidCron({ expression: error.expression, reason: error.reason, scheduleId })
    case "UnknownTimeZone":
      return new Trigger.UnknownTimeZone({ timeZone: error.timeZone, scheduleId })
    case "InvalidDate":
      return new Trigger.InvalidDate({ field: error.field, value: error.value, reason: error.reason, scheduleId })
  }
}

/** An id every store can keep, or why not. */
const checkScheduleId = (id: string): Either.Either<string, InvalidScheduleId> => {
  if (id.trim().length === 0) return Either.left(new InvalidScheduleId({ id, reason: "must not be empty" }))
  if (id.length > 200) return Either.left(new InvalidScheduleId({ id, reason: "longer than 200 characters" }))
  const problem = Storable.textProblem(id)
  return problem === undefined ? Either.right(id) : Either.left(new InvalidScheduleId({ id, reason: problem }))
}

/**
 * What the store is given for one schedule of `job` (the job's name already
 * checked): the id, trigger and grace checked, the payload encoded. No first
 * fire time: the store works it out from `now` for the schedules that need one
 * (new, or with a changed trigger). Errors name the schedule.
 */
const scheduleInput = <P>(
  id: string,
  job: Job<P, any, any, any>,
  options: ScheduleOptions<P>,
  now: number
): Effect.Effect<ScheduleInput, Trigger.TriggerError | InvalidPayload | InvalidScheduleId> =>
  Effect.gen(function*() {
    yield* checkScheduleId(id)
    const trigger = yield* Effect.mapError(resolveTrigger(options.trigger), naming(id))
    const misfireGraceMs = options.misfireGrace === undefined ? 60_000 : Duration.toMillis(
      yield* Effect.mapError(Trigger.validateInterval(options.misfireGrace, "misfireGrace"), naming(id))
    )
    return {
      id,
      jobName: job.name,
      payload: yield* Effect.mapError(encodePayload(job, options.payload), naming(id)),
      trigger,
      misfire: options.misfire ?? Policy.coalesce,
      overlap: options.overlap ?? job.overlap,
      misfireGraceMs,
      now
    }
  })

/**
 * Builds the scheduler on the store and the events service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Scheduler, never, JobStore | Events> = Effect.gen(function*() {
  const store = yield* JobStore
  const events = yield* Events

  const runAtFor = (options: EnqueueOptions<any> | undefined, now: number) => {
    if (options?.at !== undefined) {
      return Either.map(Trigger.at(options.at), (t) => DateTime.toEpochMillis(t.at))
    }
    if (options?.delay !== undefined) {
      return Either.map(Trigger.validateInterval(options.delay, "delay"), (d) => now + Duration.toMillis(d))
    }
    return Either.right(now)
  }

  const enqueueMany: Scheduler["enqueueMany"] = (job, payloads, options) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const runAt = yield* runAtFor(options, now)
      yield* storable(job.name, Storable.text(job.name, "jobName"))
      if (options?.key !== undefined) yield* storable(job.name, Storable.text(options.key, "key"))
      if (options?.then !== undefined) yield* storable(job.name, Storable.text(options.then.name, "then"))
      // the runs continue the caller's trace: each attempt's span is a child of the span enqueuing it
      const traceparent = yield* Telemetry.currentTraceparent
      const runs: Array<NewRun> = []
      for (const payload of payloads) {
        runs.push({
          jobName: job.name,
          payload: yield* encodePayload(job, payload),
          runAt,
          scheduledFor: runAt,
          priority: options?.priority,
          key: options?.key,
          then: options?.then === undefined ? undefined : [options.then.name],
          traceparent
        })
      }
      const ids = yield* store.enqueue(runs, now)
      if (events.hasSubscribers()) {
        for (const id of ids) {
          yield* events.publish({ _tag: "Enqueued", runId: id, jobName: job.name, attempt: 0, runAt, at: now })
        }
      }
      return ids.map((id) => ({ id, job }))
    })

  /** The run once it is final (in whichever process it ran), reading the store at least every `poll`. */
  const finalRun = (runId: RunId, poll: Duration.DurationInput) =>
    Effect.scoped(Effect.gen(function*() {
      // subscribe before reading the store, so no completion slips between
      const subscription = yield* events.subscribe
      const changes = yield* store.changes
      const aboutThisRun = takeMatching(subscription, (event) => "runId" in event && event.runId === runId)
      for (;;) {
        const run = yield* store.getRun(runId)
        if (terminal.has(run.state)) return run
        // runs finished in another process wake us through the store's change
        // feed; the poll covers a feed that missed something
        yield* Effect.raceAll([aboutThisRun, Queue.take(changes), Effect.sleep(poll)])
      }
    }))

  const result: Scheduler["result"] = <A>(handle: Handle<A>) =>
    Effect.gen(function*() {
      const run = yield* finalRun(handle.id, "30 seconds")
      if (run.state !== "succeeded") {
        return yield* new RunFailed({
          runId: run.id,
          jobName: run.jobName,
          state: run.state,
          ...(run.error === undefined ? {} : { error: run.error })
        })
      }
      return yield* Schema.decodeUnknown(handle.job.success)(run.result).pipe(
        Effect.mapError((error) =>
          new RunFailed({
            runId: run.id,
            jobName: run.jobName,
            state: "succeeded",
            error: new RunError({ tag: "ParseError", message: error.message, cause: String(error) })
          })
        )
      )
    })

  const resumeAt = (schedule: ScheduleRecord, now: number): number | undefined => {
    const trigger = schedule.trigger
    const stored = schedule.nextFireAt === undefined ? undefined : DateTime.toEpochMillis(schedule.nextFireAt)
    switch (trigger._tag) {
      case "Now":
      case "At":
        return stored
      case "Cron":
        return Trigger.firstFireAt(trigger, now)
      case "Every":
        // stay on the schedule's grid; ticks that passed while paused are not owed
        return stored === undefined || stored > now ? stored ?? Trigger.firstFireAt(trigger, now) : (
          dueTicks(trigger, stored, now, 0).next
        )
    }
  }

  const scheduled = (job: Job<any, any, any, any>, outcome: UpsertResult["outcome"], schedule: ScheduleRecord, at: number) =>
    events.publish({
      _tag: "Scheduled",
      scheduleId: schedule.id,
      jobName: job.name,
      outcome,
      ...(schedule.nextFireAt === undefined ? {} : { nextFireAt: DateTime.toEpochMillis(schedule.nextFireAt) }),
      at
    })

  return Scheduler.of({
    schedule: (id, job, options) =>
      Effect.gen(function*() {
        yield* storable(job.name, Storable.text(job.name, "jobName"))
        const now = yield* Clock.currentTimeMillis
        const { outcome, schedule } = yield* store.upsertSchedule(yield* scheduleInput(id, job, options, now))
        yield* scheduled(job, outcome, schedule, now)
        return schedule
      }),

    scheduleMany: (job, entries) =>
      Effect.gen(function*() {
        yield* storable(job.name, Storable.text(job.name, "jobName"))
        const now = yield* Clock.currentTimeMillis
        const inputs: Array<ScheduleInput> = []
        const ids = new Set<string>()
        for (const entry of entries) {
          if (ids.has(entry.id)) {
            return yield* new InvalidScheduleId({ id: entry.id, reason: "given more than once in one scheduleMany" })
          }
          ids.add(entry.id)
          inputs.push(yield* scheduleInput(entry.id, job, entry, now))
        }
        if (inputs.length === 0) return []
        const results = yield* store.upsertSchedules(inputs)
        if (events.hasSubscribers()) {
          for (const { outcome, schedule } of results) yield* scheduled(job, outcome, schedule, now)
        }
        return results.map((result) => result.schedule)
      }),

    enqueue: (job, payload, options) => Effect.map(enqueueMany(job, [payload], options), (handles) => handles[0]!),
    enqueueMany,
    result,

    cancel: (runId) =>
      Effect.gen(function*() {
        const outcome = yield* store.cancel(runId, yield* Clock.currentTimeMillis)
        if (outcome === "not_found") return yield* new RunNotFound({ runId })
        if (outcome !== "running") return outcome
        const runner = yield* Effect.serviceOption(Runner)
        if (Option.isSome(runner) && (yield* runner.value.cancel(runId))) return "cancelled"
        // a runner in another process holds it: the request reaches it through the store, and it
        // interrupts the run; the answer waits (a while) for the run to end there
        const ended = yield* Effect.timeoutOption(finalRun(runId, "250 millis"), cancelWait)
        if (Option.isNone(ended)) return outcome
        return ended.value.state === "cancelled" ? "cancelled" : "finished"
      }),

    unschedule: (id) => Effect.flatMap(Clock.currentTimeMillis, (now) => store.removeSchedule(id, now)),

    pause: (id) => Effect.flatMap(Clock.currentTimeMillis, (now) => store.setPaused(id, true, undefined, now)),

    resume: (id) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const schedule = yield* store.getSchedule(id)
        return yield* store.setPaused(id, false, resumeAt(schedule, now), now)
      }),

    schedules: store.listSchedules,
    getRun: store.getRun,
    history: (query) => store.history(query ?? {}),
    workers: Effect.flatMap(Clock.currentTimeMillis, store.listWorkers),
    queue: Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.zipWith(store.queueDepth(now), store.listWorkers(now), jobQueues)),
    retry: (runId) =>
      Effect.gen(function*() {
        const run = yield* store.getRun(runId)
        if (!retryable.has(run.state)) return yield* new NotRetryable({ runId: run.id, state: run.state })
        const now = yield* Clock.currentTimeMillis
        // the payload as the store keeps it, already encoded: no job definition is needed
        const [again] = yield* store.enqueue([{
          jobName: run.jobName,
          payload: run.payload,
          runAt: now,
          scheduledFor: now,
          scheduleId: run.scheduleId,
          priority: run.priority,
          key: run.key,
          then: run.then,
          traceparent: yield* Telemetry.currentTraceparent
        }], now)
        return yield* Effect.catchTag(store.getRun(again!), "RunNotFound", Effect.die)
      }),

    signal: (runId, name, value) =>
      Effect.gen(function*() {
        const invalid = (reason: string, field?: string) =>
          new InvalidSignal({ runId, name, reason, ...(field === undefined ? {} : { field }) })
        if (name.length === 0) return yield* invalid("a signal needs a name")
        const nameProblem = Storable.textProblem(name)
        if (nameProblem !== undefined) return yield* invalid(nameProblem, "name")
        const checked = Storable.json(value, "value")
        if (Either.isLeft(checked)) return yield* invalid(checked.left.reason, checked.left.path)
        const now = yield* Clock.currentTimeMillis
        const result = yield* store.signal({ runId, name, value: checked.right, now })
        if (result === "not_found") return yield* new RunNotFound({ runId })
        return result
      }),

    steps: (runId) => Effect.map(store.journal(runId), (journal) => journal.steps),

    trigger: (scheduleId, options) =>
      Effect.gen(function*() {
        const schedule = yield* store.getSchedule(scheduleId)
        if (schedule.overlap === "skip" && options?.force !== true) {
          const [unfinished] = yield* store.listRuns({ scheduleId, state: ["queued", "running"], limit: 1 })
          if (unfinished !== undefined) {
            return yield* new ScheduleBusy({ scheduleId, runId: unfinished.id, state: unfinished.state })
          }
        }
        const now = yield* Clock.currentTimeMillis
        const [runId] = yield* store.enqueue([{
          jobName: schedule.jobName,
          payload: schedule.payload,
          runAt: now,
          scheduledFor: now,
          scheduleId: schedule.id,
          serial: schedule.overlap === "queue",
          traceparent: yield* Telemetry.currentTraceparent
        }], now)
        return yield* Effect.catchTag(store.getRun(runId!), "RunNotFound", Effect.die)
      }),

    feed: (options) => FeedInternal.follow(store, options),
    consume: (options, handle) => FeedInternal.consume(store, options, handle)
  })
})

/**
 * The scheduler as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Scheduler, never, JobStore | Events> = Layer.effect(Scheduler, make)

// ---------------------------------------------------------------------------
// accessors
// ---------------------------------------------------------------------------

/**
 * Schedules a job under a stable id. Scheduling the same id again (after a
 * restart, say) updates it and never duplicates it; when the trigger is
 * unchanged, its next fire time is kept.
 *
 * @example
 * ```ts
 * yield* Scheduler.schedule("weekly-newsletter", sendNewsletter, {
 *   trigger: Trigger.weekly("monday", "08:00", { timeZone: "Europe/Berlin" }),
 *   payload: { edition: "weekly" }
 * })
 * ```
 * @since 0.1.0
 * @category scheduling
 */
export const schedule = <P>(
  id: string,
  job: Job<P, any, any, any>,
  options: ScheduleOptions<P>
): Effect.Effect<ScheduleRecord, Trigger.TriggerError | InvalidPayload | InvalidScheduleId | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.schedule(id, job, options))

/**
 * Schedules many schedules of one job at once, each under its stable id, as
 * `schedule` does one by one (created, updated or unchanged, the next fire
 * time kept when the trigger is), in one atomic store step: what an app with
 * many tenants registers at every start. Returns the records in entry order.
 * Every entry is checked first: a bad one fails the call with its error
 * (`scheduleId` names it), and nothing is stored; an id given twice fails with
 * `InvalidScheduleId`.
 *
 * @example
 * ```ts
 * yield* Scheduler.scheduleMany(sendReport, tenants.map((tenant) => ({
 *   id: `report:${tenant.id}`,
 *   trigger: Trigger.daily("06:00", { timeZone: tenant.timeZone }),
 *   payload: { tenantId: tenant.id }
 * })))
 * ```
 * @since 0.1.0
 * @category scheduling
 */
export const scheduleMany = <P>(
  job: Job<P, any, any, any>,
  entries: Iterable<ScheduleEntry<P>>
): Effect.Effect<
  ReadonlyArray<ScheduleRecord>,
  Trigger.TriggerError | InvalidPayload | InvalidScheduleId | StoreError,
  Scheduler
> => Effect.flatMap(Scheduler, (s) => s.scheduleMany(job, entries))

/**
 * Schedules a job every interval read from Config (a number, in seconds by
 * default). A negative value means "disabled": the schedule is removed if it
 * was stored before, a warning is logged, and `None` is returned. Zero, NaN or
 * a malformed value is an error.
 *
 * @example
 * ```ts
 * // BREAKING_NEWS_INTERVAL_SECONDS=10
 * yield* Scheduler.scheduleFromConfig("cc1dface-9213-4eed-8cb2-0edba6b2159c", breakingNews, {
 *   interval: "BREAKING_NEWS_INTERVAL_SECONDS",
 *   payload: {}
 * })
 * ```
 * @since 0.1.0
 * @category scheduling
 */
export const scheduleFromConfig = <P>(
  id: string,
  job: Job<P, any, any, any>,
  options: Omit<ScheduleOptions<P>, "trigger"> & {
    /** a variable name, or a `Config<number>` (e.g. with `Config.withDefault`) */
    readonly interval: string | Config.Config<number>
    readonly unit?: "millis" | "seconds" | "minutes"
  }
): Effect.Effect<
  Option.Option<ScheduleRecord>,
  ConfigError.ConfigError | Trigger.TriggerError | InvalidPayload | InvalidScheduleId | StoreError,
  Scheduler
> =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler
    const every = yield* Trigger.everyFromConfig(
      options.interval,
      options.unit === undefined ? undefined : { unit: options.unit }
    )
    if (Option.isNone(every)) {
      yield* Effect.logWarning(
        `clockwork: schedule "${id}" (${job.name}) is disabled: its interval${
          typeof options.interval === "string" ? ` ${options.interval}` : ""
        } is negative`
      )
      yield* Effect.ignore(scheduler.unschedule(id))
      return Option.none()
    }
    return Option.some(yield* scheduler.schedule(id, job, { ...options, trigger: every.value }))
  })

/**
 * Enqueues a run: now, at an instant (`at`) or after a delay (`delay`).
 *
 * @since 0.1.0
 * @category enqueueing
 */
export const enqueue = <P, A>(
  job: Job<P, A, any, any>,
  payload: P,
  options?: EnqueueOptions<A>
): Effect.Effect<Handle<A>, InvalidPayload | Trigger.InvalidDate | Trigger.InvalidInterval | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.enqueue(job, payload, options))

/**
 * Enqueues many runs of one job in one store round trip.
 *
 * @since 0.1.0
 * @category enqueueing
 */
export const enqueueMany = <P, A>(
  job: Job<P, A, any, any>,
  payloads: Iterable<P>,
  options?: EnqueueOptions<A>
): Effect.Effect<
  ReadonlyArray<Handle<A>>,
  InvalidPayload | Trigger.InvalidDate | Trigger.InvalidInterval | StoreError,
  Scheduler
> => Effect.flatMap(Scheduler, (s) => s.enqueueMany(job, payloads, options))

/**
 * Waits for a run to finish and returns its typed result.
 *
 * @since 0.1.0
 * @category results
 */
export const result = <A>(handle: Handle<A>): Effect.Effect<A, RunFailed | RunNotFound | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.result(handle))

/**
 * Enqueues a run and waits for its typed result: how a job calls another
 * job. A handler that awaits holds its own runner slot meanwhile, so keep the
 * runner's concurrency above the depth of such calls, or make the caller a
 * workflow: `Workflow.child` waits without holding a slot.
 *
 * @example
 * ```ts
 * const total = yield* Effect.forEach(pages, (page) => Scheduler.run(countWords, { page }), {
 *   concurrency: "unbounded"
 * })
 * ```
 * @since 0.1.0
 * @category results
 */
export const run = <P, A>(
  job: Job<P, A, any, any>,
  payload: P,
  options?: EnqueueOptions<A>
): Effect.Effect<
  A,
  RunFailed | RunNotFound | InvalidPayload | Trigger.InvalidDate | Trigger.InvalidInterval | StoreError,
  Scheduler
> => Effect.flatMap(Scheduler, (s) => Effect.flatMap(s.enqueue(job, payload, options), s.result))

/**
 * A run as the queue knows it: state, attempt, result or error.
 *
 * @since 0.1.0
 * @category queries
 */
export const getRun = (runId: RunId): Effect.Effect<Run, RunNotFound | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.getRun(runId))

/**
 * Cancels a run: a queued run never starts; a running one is interrupted.
 *
 * @since 0.1.0
 * @category control
 */
export const cancel = (runId: RunId): Effect.Effect<CancelResult, RunNotFound | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.cancel(runId))

/**
 * Removes a schedule.
 *
 * @since 0.1.0
 * @category control
 */
export const unschedule = (id: string): Effect.Effect<void, ScheduleNotFound | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.unschedule(id))

/**
 * Pauses a schedule: no ticks fire until it is resumed.
 *
 * @since 0.1.0
 * @category control
 */
export const pause = (id: string): Effect.Effect<ScheduleRecord, ScheduleNotFound | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.pause(id))

/**
 * Resumes a schedule from the next tick after now (ticks missed while paused
 * are not owed).
 *
 * @since 0.1.0
 * @category control
 */
export const resume = (id: string): Effect.Effect<ScheduleRecord, ScheduleNotFound | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.resume(id))

/**
 * All schedules, with their next fire times.
 *
 * @since 0.1.0
 * @category queries
 */
export const schedules: Effect.Effect<ReadonlyArray<ScheduleRecord>, StoreError, Scheduler> = Effect.flatMap(
  Scheduler,
  (s) => s.schedules
)

/**
 * The recorded attempts, newest first.
 *
 * @since 0.1.0
 * @category queries
 */
export const history = (query?: HistoryQuery): Effect.Effect<ReadonlyArray<RunRecord>, StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.history(query))

/**
 * The runners alive now (each beats every third of its lease), on any machine
 * sharing the store: id, when it started and last beat, its concurrency, jobs
 * and how many runs it was executing.
 *
 * @since 0.1.0
 * @category queries
 */
export const workers: Effect.Effect<ReadonlyArray<WorkerRecord>, StoreError, Scheduler> = Effect.flatMap(
  Scheduler,
  (s) => s.workers
)

/**
 * The queue per job: due, later and running runs, and the live workers that
 * register the job. A job with due runs and no worker is waiting for a worker
 * that has it (runners claim only the jobs they register).
 *
 * @since 0.1.0
 * @category queries
 */
export const queue: Effect.Effect<ReadonlyArray<JobQueue>, StoreError, Scheduler> = Effect.flatMap(
  Scheduler,
  (s) => s.queue
)

/**
 * Queues a run that ended without success (dead, failed, timed out,
 * cancelled) again: a new run with its job, stored payload, schedule,
 * priority, dedup key and chained jobs, due now. The old run keeps its
 * history.
 *
 * @since 0.1.0
 * @category scheduling
 */
export const retry = (runId: RunId): Effect.Effect<Run, RunNotFound | NotRetryable | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.retry(runId))

/**
 * Runs a schedule now: queues a run of its job with its payload, due now,
 * without moving its next fire time. A schedule with `overlap: "skip"` and an
 * unfinished run fails with `ScheduleBusy` unless `force`.
 *
 * @since 0.1.0
 * @category scheduling
 */
export const trigger = (
  scheduleId: string,
  options?: { readonly force?: boolean | undefined }
): Effect.Effect<Run, ScheduleNotFound | ScheduleBusy | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.trigger(scheduleId, options))

/**
 * Delivers the signal `name` with `value` (plain JSON) to a workflow run, from
 * any process sharing the store: the run wakes if it waits for it, or finds
 * the value when it reaches `Workflow.signal(name, …)`. Answers `delivered`,
 * `duplicate` (this name already has a value, which is kept), `expired` (the
 * run's wait for it timed out) or `finished` (the run ended).
 *
 * @example
 * ```ts
 * yield* Scheduler.signal(orderRunId, "shipped", { carrier: "UPS", tracking: "1Z999" })
 * ```
 * @since 0.1.0
 * @category workflows
 */
export const signal = (
  runId: RunId,
  name: string,
  value?: unknown
): Effect.Effect<SignalResult, RunNotFound | InvalidSignal | StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.signal(runId, name, value))

/**
 * A workflow run's journal: each step, sleep, child and signal it recorded,
 * with its status, attempt and times (an ordinary job's run has none).
 *
 * @since 0.1.0
 * @category workflows
 */
export const steps = (runId: RunId): Effect.Effect<ReadonlyArray<StepRecord>, StoreError, Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.steps(runId))

/**
 * The run feed: every attempt's outcome (as `history` records it) and every
 * schedule change, in the order the store committed them, from any process
 * sharing the store. Starts after `options.after` (a cursor an entry carried,
 * `"start"`, or by default `"now"`) and follows new entries, woken by the
 * store's notifications (on PostgreSQL, from every process) and polling.
 *
 * @example
 * ```ts
 * yield* Scheduler.feed({ after: "start" }).pipe(
 *   Stream.filter((entry) => entry._tag === "Attempt" && Feed.isFinalFailure(entry.record)),
 *   Stream.runForEach((entry) => Effect.log(entry)),
 *   Effect.forkScoped
 * )
 * ```
 * @since 0.1.0
 * @category queries
 */
export const feed = (options?: FeedOptions): Stream.Stream<FeedEntry, StoreError | InvalidFeedCursor, Scheduler> =>
  Stream.unwrap(Effect.map(Scheduler, (s) => s.feed(options)))

/**
 * Runs a named consumer of the run feed, forever: one instance at a time, in
 * any process sharing the store, holds the name (a lease renewed every third
 * of `lease`); it hands each batch after the stored cursor to `handle`, then
 * stores the cursor after the batch. Each entry is handled at least once: a
 * batch whose handler did not finish (its process died) is handed to the
 * next holder. A new consumer starts at `startAt` (default `"now"`). Fails with
 * the handler's error (the batch's cursor is not stored); waits out store
 * outages.
 *
 * @example
 * ```ts
 * yield* Scheduler.consume({ name: "alerts" }, (entries) =>
 *   Effect.forEach(entries, (entry) =>
 *     entry._tag === "Attempt" && Feed.isFinalFailure(entry.record) ? page(entry.record) : Effect.void
 *   )
 * ).pipe(Effect.forkScoped)
 * ```
 * @since 0.1.0
 * @category queries
 */
export const consume = <E, R>(
  options: ConsumerOptions,
  handle: (entries: ReadonlyArray<FeedEntry>) => Effect.Effect<void, E, R>
): Effect.Effect<never, E | StoreError | InvalidConsumer, R | Scheduler> =>
  Effect.flatMap(Scheduler, (s) => s.consume(options, handle))

/**
 * Drives a job from any Effect `Schedule`, in this process only (nothing is
 * stored): a run is enqueued at once and again at each recurrence (as
 * `Effect.repeat` would). The loop lives as long as the scope.
 *
 * @example
 * ```ts
 * yield* Scheduler.scheduleInProcess(refreshCache, {}, Schedule.spaced("5 minutes"))
 * ```
 * @since 0.1.0
 * @category scheduling
 */
export const scheduleInProcess = <P, Out>(
  job: Job<P, any, any, any>,
  payload: P,
  schedule: Schedule.Schedule<Out, unknown>
): Effect.Effect<void, never, Scheduler | Scope.Scope> =>
  Effect.flatMap(Scheduler, (s) =>
    Effect.forkScoped(
      Effect.repeat(
        Effect.catchAll(s.enqueue(job, payload), (error) => Effect.logError("clockwork: in-process schedule", error)),
        schedule
      )
    )).pipe(Effect.asVoid)
