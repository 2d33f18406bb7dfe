import { type Job, type Run, Scheduler, Trigger } from "@clockwork/core"
import {
  Clock,
  Duration,
  Effect,
  Either,
  Option,
  ParseResult,
  Predicate,
  Schedule,
  ScheduleDecision,
  ScheduleInterval,
  Schema,
  Stream
} from "effect"
import type { Batch, Every, Listener, Tick } from "../Listener.js"
import { ListenerStore, type ListenerState, type TickRecord } from "../ListenerStore.js"

export const randomOwner = () => `listener-${crypto.randomUUID().slice(0, 8)}`

// ---------------------------------------------------------------------------
// the tick schedule
// ---------------------------------------------------------------------------

const isTrigger = Schema.is(Trigger.Trigger)

const polls = (trigger: Trigger.Trigger) =>
  Effect.fail(
    new Trigger.InvalidInterval({
      field: "every",
      value: Trigger.describe(trigger),
      reason: "a listener polls: give an interval, an Every or Cron trigger, or a Schedule"
    })
  )

/**
 * A cron expression's instants, skipping those that passed while a tick ran:
 * the next tick is the first instant after the previous one that is not in
 * the past.
 */
const cronSchedule = (trigger: Trigger.Cron): Schedule.Schedule<number> =>
  Schedule.makeWithState<number | undefined, unknown, number>(undefined, (now, _, previous) => {
    // the first tick is the first instant after the start; later ones may be due at once
    let next = previous === undefined ? Trigger.nextFireAfter(trigger, now)! : Trigger.firstFireAt(trigger, now)
    if (previous !== undefined && next <= previous) next = Trigger.nextFireAfter(trigger, previous)!
    return Effect.succeed([next, next, ScheduleDecision.continueWith(ScheduleInterval.after(next))] as const)
  })

const fromTrigger = (trigger: Trigger.Trigger): Effect.Effect<Schedule.Schedule<unknown>, Trigger.TriggerError> =>
  Effect.flatMap(Trigger.validate(trigger), (valid) => {
    switch (valid._tag) {
      case "Every":
        return Effect.succeed(Schedule.fixed(valid.interval))
      case "Cron":
        return Effect.succeed(cronSchedule(valid))
      default:
        return polls(valid)
    }
  })

/**
 * An interval or an Every trigger ticks at a fixed rate from the start (a
 * tick that overruns is followed by the next at once, never by several); a
 * cron trigger on its instants; a Schedule as it says.
 */
export const toSchedule = (every: Every): Effect.Effect<Schedule.Schedule<unknown>, Trigger.TriggerError> => {
  if (Schedule.isSchedule(every)) return Effect.succeed(every as Schedule.Schedule<unknown>)
  if (Either.isEither(every)) return Effect.flatMap(every, fromTrigger)
  if (!Duration.isDuration(every) && isTrigger(every)) return fromTrigger(every)
  return Effect.map(Trigger.validateInterval(every as Duration.DurationInput, "every"), Schedule.fixed)
}

// ---------------------------------------------------------------------------
// the stream
// ---------------------------------------------------------------------------

export interface LoopConfig<EP> {
  readonly owner: string
  readonly lease: Duration.DurationInput
  /** whether an interruption is a stop (cancel the run in flight) rather than a shutdown (leave it to the runner) */
  readonly stopping: () => boolean
  readonly errors: { readonly invalidParams: (reason: string) => EP }
}

/** What the holder knows about the listener between ticks. */
interface Held<P> {
  readonly version: number
  readonly params: P
}

/** A tick's outcome, as `recordTick` takes it without the lease. */
type TickInput =
  | { readonly outcome: "skipped" }
  | { readonly outcome: "succeeded"; readonly params: unknown; readonly runId: string }
  | { readonly outcome: "failed"; readonly runId: string | undefined; readonly error: string }

interface Failure {
  readonly tag: string
  readonly message: string
}

/** What a failure is called and says: a failed run's recorded error, or the error itself. */
const failureOf = (error: unknown): Failure => {
  if (error instanceof Scheduler.RunFailed && error.error !== undefined) {
    return { tag: error.error.tag, message: error.error.message }
  }
  return {
    tag: Predicate.hasProperty(error, "_tag") ? String(error._tag) : error instanceof Error ? error.name : "Error",
    message: Predicate.hasProperty(error, "message") ? String(error.message) : String(error)
  }
}

/** A store that cannot be reached: the tick is skipped, and the loop goes on. */
const isStoreError = (error: unknown) =>
  Predicate.isTagged(error, "StoreError") || Predicate.isTagged(error, "ListenerStoreError")

export const stream = <P, Rec, Q, E, R, RS, EP>(
  listener: Listener<P, Rec, Q, E, R, RS>,
  config: LoopConfig<EP>
): Stream.Stream<Tick<P>, EP | Trigger.TriggerError, Scheduler.Scheduler | ListenerStore | RS> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const schedule = yield* toSchedule(listener.every)
    const store = yield* ListenerStore
    const scheduler = yield* Scheduler.Scheduler
    const { name, source } = listener
    const job = listener.job as Job.Job<Batch<P, Rec>, P, unknown, unknown>
    const owner = config.owner
    const leaseMs = Duration.toMillis(Duration.decode(config.lease))
    const invalid = (error: ParseResult.ParseError) =>
      config.errors.invalidParams(ParseResult.TreeFormatter.formatErrorSync(error))
    const decodeParams = Schema.decodeUnknown(listener.params)
    const encodeParams = Schema.encode(listener.params)
    const initial = yield* Effect.mapError(encodeParams(listener.initialParams), invalid)

    let held: Held<P> | undefined
    // failed ticks in a row here, and store errors in a row: each streak is logged once
    let failures = 0
    let outage = 0

    const lease = (now: number) => ({ name, owner, now, until: now + leaseMs })

    const hold = (state: ListenerState) =>
      Effect.map(Effect.mapError(decodeParams(state.params), invalid), (params) => {
        held = { version: state.version, params }
        return held
      })

    const lost = Effect.suspend(() => {
      if (held === undefined) return Effect.void
      held = undefined
      return Effect.logWarning(`clockwork: listener "${name}" lost its lease in ${owner}; it runs elsewhere now`)
    })

    /** Writes a tick's outcome; none when the lease was lost meanwhile (or the listener was stopped elsewhere). */
    const record = (tick: TickInput) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const state = yield* store.recordTick({ ...lease(now), ...tick } as TickRecord)
        if (Option.isNone(state)) {
          yield* lost
          return Option.none<ListenerState>()
        }
        if (state.value.stopped) {
          held = undefined
          yield* Effect.ignore(store.release(name, owner))
          yield* Effect.logInfo(`clockwork: listener "${name}" was stopped; ${owner} stands by`)
          return Option.none<ListenerState>()
        }
        yield* hold(state.value)
        return state
      })

    const succeeded = (current: Held<P>, at: number, runId: Run.RunId, total: number, next: P) =>
      Effect.gen(function*() {
        const params = yield* Effect.mapError(encodeParams(next), invalid)
        const state = yield* record({ outcome: "succeeded", params, runId })
        if (Option.isNone(state)) return Option.none<Tick<P>>()
        if (failures > 0) {
          yield* Effect.logInfo(`clockwork: listener "${name}" recovered after ${failures} failed tick(s)`)
          failures = 0
        }
        return Option.some<Tick<P>>({ _tag: "Succeeded", listener: name, at, runId, total, params: current.params, next })
      })

    const failed = (current: Held<P>, at: number, runId: Run.RunId | undefined, error: Failure) =>
      Effect.gen(function*() {
        const state = yield* record({ outcome: "failed", runId, error: `${error.tag}: ${error.message}` })
        if (Option.isNone(state)) return Option.none<Tick<P>>()
        const streak = state.value.consecutiveFailures
        if (failures === 0) {
          yield* Effect.logError(
            `clockwork: listener "${name}" failed (${error.tag}: ${error.message}); ` +
              "it goes on, and says so again when it recovers"
          )
        }
        failures++
        const stopAfter = listener.stopAfterFailures
        const stopped = stopAfter !== undefined && streak >= stopAfter
        if (stopped) {
          const now = yield* Clock.currentTimeMillis
          yield* store.setStopped(name, true, now, initial)
          yield* Effect.ignore(store.release(name, owner))
          held = undefined
          yield* Effect.logError(
            `clockwork: listener "${name}" stopped after ${streak} failed ticks in a row; resume it to go on`
          )
        }
        return Option.some<Tick<P>>({
          _tag: "Failed",
          listener: name,
          at,
          runId,
          params: current.params,
          error,
          consecutiveFailures: streak,
          stopped
        })
      })

    /**
     * Waits for a run and records its outcome. Waiting can be interrupted (a
     * stop cancels the run; a shutdown leaves it to the runner); once the run
     * has ended, its outcome is written whatever happens.
     */
    const settle = (current: Held<P>, at: number, handle: Scheduler.Handle<P>, total: number) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const outcome = yield* Effect.either(
            restore(scheduler.result(handle)).pipe(
              Effect.onInterrupt(() => config.stopping() ? Effect.ignore(scheduler.cancel(handle.id)) : Effect.void)
            )
          )
          if (Either.isRight(outcome)) return yield* succeeded(current, at, handle.id, total, outcome.right)
          if (isStoreError(outcome.left)) return yield* Effect.fail(outcome.left)
          return yield* failed(current, at, handle.id, failureOf(outcome.left))
        })
      )

    const enqueue = (current: Held<P>, batch: Omit<Batch<P, Rec>, "version" | "params">, key: boolean) =>
      scheduler.enqueue(job, { version: current.version, params: current.params, ...batch }, {
        // a run of this version that is still queued or running (its holder died, or shut down
        // before it ended) is the same batch: whoever holds the listener now waits for it
        ...(key ? { key: `clockwork.listener:${name}:${current.version}` } : {})
      })

    /**
     * A holder that died (or lost its store) after its run succeeded but
     * before it stored the params left that run as the newest of its job, for
     * the current version: its result is taken instead of handling the batch
     * again. Looked for each time the lease is taken.
     */
    const adopt = (current: Held<P>, at: number) =>
      Effect.gen(function*() {
        const [last] = yield* scheduler.history({ jobName: name, limit: 1 })
        if (last === undefined || last.status !== "succeeded") return Option.none<Tick<P>>()
        const run = yield* scheduler.getRun(last.runId)
        const version = Predicate.hasProperty(run.payload, "version") ? run.payload.version : undefined
        if (version !== current.version) return Option.none<Tick<P>>()
        const next = yield* Effect.either(scheduler.result({ id: run.id, job }))
        if (Either.isLeft(next)) return Option.none<Tick<P>>()
        yield* Effect.logInfo(`clockwork: listener "${name}" takes the result of run ${run.id}, which ended unrecorded`)
        const total = Predicate.hasProperty(run.payload, "total") ? Number(run.payload.total) : 0
        return yield* succeeded(current, at, run.id, total, next.right)
      })

    const tick = Effect.gen(function*() {
      const at = yield* Clock.currentTimeMillis
      let current = held
      if (current === undefined) {
        const acquired = yield* store.acquire(lease(at), initial)
        if (Option.isNone(acquired)) return Option.none<Tick<P>>()
        current = yield* hold(acquired.value)
        yield* Effect.logInfo(`clockwork: listener "${name}" runs in ${owner}`)
        const adopted = yield* adopt(current, at)
        if (Option.isSome(adopted)) return adopted
      }
      const query = listener.query(current.params)
      const searched = yield* Effect.either(
        listener.loadRecords
          ? source.search(query)
          : Effect.map(source.count(query), (total) => ({ total, records: [] as ReadonlyArray<Rec> }))
      )
      if (Either.isLeft(searched)) {
        const failure = failureOf(searched.left)
        // the failed search is a failed run too, so it shows in the history with the others
        const handle = yield* enqueue(current, { total: 0, records: [], failure }, false)
        return yield* settle(current, at, handle, 0)
      }
      const { total, records } = searched.right
      if (!listener.condition({ total, records, params: current.params })) {
        const state = yield* record({ outcome: "skipped" })
        if (Option.isNone(state)) return Option.none<Tick<P>>()
        return Option.some<Tick<P>>({ _tag: "Skipped", listener: name, at, total, params: current.params })
      }
      const handle = yield* enqueue(current, { total, records }, true)
      return yield* settle(current, at, handle, total)
    }).pipe(
      Effect.tap(() => {
        if (outage === 0) return Effect.void
        outage = 0
        return Effect.logInfo(`clockwork: listener "${name}" reaches its stores again`)
      }),
      Effect.catchAll((error): Effect.Effect<Option.Option<Tick<P>>, EP> => {
        if (Predicate.isTagged(error, "InvalidParams")) return Effect.fail(error as EP)
        if (isStoreError(error)) {
          // the tick's run may have ended unrecorded: the next tick takes the lease again and looks
          held = undefined
          outage++
          return Effect.as(
            outage === 1
              ? Effect.logWarning(`clockwork: listener "${name}" cannot reach its stores; it tries each tick`, error)
              : Effect.void,
            Option.none()
          )
        }
        // the run could not be enqueued (its payload did not encode): a failed tick without a run
        const current = held
        if (current === undefined) return Effect.succeedNone
        return Effect.flatMap(Clock.currentTimeMillis, (at) => failed(current, at, undefined, failureOf(error))).pipe(
          Effect.catchAll((error) =>
            Predicate.isTagged(error, "InvalidParams")
              ? Effect.fail(error as EP)
              : Effect.as(Effect.logWarning(`clockwork: listener "${name}" cannot reach its stores`, error), Option.none())
          )
        )
      })
    )

    // the lease is renewed every third of its length while this process holds it
    yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
      yield* Effect.sleep(leaseMs / 3)
      if (held === undefined) return
      const renewed = yield* Effect.either(store.renew(lease(yield* Clock.currentTimeMillis)))
      // a store that does not answer decides nothing: the next write is fenced anyway
      if (Either.isRight(renewed) && !renewed.right) yield* lost
    })))
    yield* Effect.addFinalizer(() => held === undefined ? Effect.void : Effect.ignore(store.release(name, owner)))

    return Stream.fromSchedule(schedule).pipe(
      Stream.mapEffect(() => Effect.annotateLogs(tick, "listener", name)),
      Stream.filterMap((tick) => tick),
      Stream.takeUntil((tick) => tick._tag === "Failed" && tick.stopped)
    )
  }).pipe(Effect.annotateLogs("listener", listener.name))) as Stream.Stream<
    Tick<P>,
    EP | Trigger.TriggerError,
    Scheduler.Scheduler | ListenerStore | RS
  >
