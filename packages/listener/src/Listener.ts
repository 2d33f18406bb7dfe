/**
 * A listener binds a handler to a query over a source and polls it: every
 * interval it searches, checks a condition over what it found, and when the
 * condition holds runs the handler with the records. The handler returns the
 * params of the next search (`batch_id + 1`), which are stored, so they
 * survive a restart and hold across processes.
 *
 * A tick whose condition is false is only counted. A tick that runs the
 * handler is a run of a clockwork job (the listener's `job`): it is in the run
 * history with its status, timings, metrics and error, in the events stream,
 * and under the job's timeout. Ticks never overlap; on a shared store one
 * process at a time polls a listener (a lease on its name).
 *
 * @since 0.1.0
 */
import type { Job, Run, Scheduler, Trigger } from "@clockwork/core"
import { Context, type Duration, Effect, Layer, type Schedule, Schema, type Scope, Stream } from "effect"
import * as internalJob from "./internal/job.js"
import * as internalLayer from "./internal/layer.js"
import * as internalLoop from "./internal/loop.js"
import type { ListenerStore, ListenerStoreError } from "./ListenerStore.js"
import type * as Source from "./Source.js"

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * Params that do not match the listener's params Schema: stored ones (the
 * Schema changed since they were written) or the initial ones.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidParams extends Schema.TaggedError<InvalidParams>()("InvalidParams", {
  listener: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `the params of listener "${this.listener}" do not match its schema: ${this.reason}`
  }
}

/**
 * A listener's search failed; the run recording that tick fails with it.
 *
 * @since 0.1.0
 * @category errors
 */
export class SearchFailed extends Schema.TaggedError<SearchFailed>()("SearchFailed", {
  listener: Schema.String,
  /** the tag of the source's error */
  error: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `the search of listener "${this.listener}" failed: ${this.reason}`
  }
}

/**
 * Two listeners of one layer share a name.
 *
 * @since 0.1.0
 * @category errors
 */
export class DuplicateListenerName extends Schema.TaggedError<DuplicateListenerName>()("DuplicateListenerName", {
  name: Schema.String
}) {
  override get message() {
    return `two listeners are named "${this.name}"`
  }
}

/**
 * The app's runner does not have a listener's job: its runs would never start.
 *
 * @since 0.1.0
 * @category errors
 */
export class ListenerNotRegistered extends Schema.TaggedError<ListenerNotRegistered>()("ListenerNotRegistered", {
  name: Schema.String
}) {
  override get message() {
    return `the job of listener "${this.name}" is not registered: add its \`job\` to the app's jobs (Clockwork.layer)`
  }
}

/**
 * A listener that this process's listener layer does not run.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownListener extends Schema.TaggedError<UnknownListener>()("UnknownListener", {
  name: Schema.String
}) {
  override get message() {
    return `no listener named "${this.name}" runs in this app`
  }
}

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

/**
 * How often a listener ticks: an interval (`"3 seconds"`), a trigger
 * (`Trigger.every(...)`, `Trigger.cron(...)`, as returned) or any Effect
 * `Schedule`. Intervals count from when the listener starts (an Every
 * trigger's `startAt` is not used). A tick that runs longer than the interval
 * delays the next one; ticks never overlap nor pile up.
 *
 * @since 0.1.0
 * @category models
 */
export type Every = Duration.DurationInput | Scheduler.TriggerInput | Schedule.Schedule<unknown, unknown>

/**
 * What a search found, with the params it used: what a condition looks at.
 *
 * @since 0.1.0
 * @category models
 */
export interface Search<Rec, P> extends Source.SearchResult<Rec> {
  readonly params: P
}

/**
 * What the handler sees besides the records (Argilla's `ctx`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Context<P, Q, M> {
  readonly listener: string
  /** the params of this tick's search */
  readonly params: P
  /** the query they made */
  readonly query: Q
  /** how many records matched (more than were loaded when the source limits them) */
  readonly total: number
  /** what the listener's `metrics` computed for this tick (recorded with the run) */
  readonly metrics: M
  readonly runId: Run.RunId
  /** adds metrics to the run's record */
  readonly report: (metrics: Run.Metrics) => Effect.Effect<void>
}

/**
 * The payload of a listener's run: the tick's search, and the version of the
 * params it used.
 *
 * @since 0.1.0
 * @category models
 */
export interface Batch<P, Rec> {
  readonly version: number
  readonly params: P
  readonly total: number
  readonly records: ReadonlyArray<Rec>
  /** set when the search failed: the run fails with it */
  readonly failure?: { readonly tag: string; readonly message: string } | undefined
}

const TypeId: unique symbol = Symbol.for("@clockwork/listener/Listener")

/**
 * A listener definition. Its `job` is the handler as a clockwork job: register
 * it with the app's jobs, and run the listener with `Listener.layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Listener<P, Rec, Q = any, E = any, R = any, RS = any> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly source: Source.Source<Q, Rec, unknown, RS>
  readonly query: (params: P) => Q
  readonly params: Schema.Schema<P, any>
  readonly initialParams: P
  readonly every: Every
  readonly condition: (search: Search<Rec, P>) => boolean
  readonly loadRecords: boolean
  readonly stopAfterFailures: number | undefined
  readonly job: Job.Job<Batch<P, Rec>, P, E, R>
}

/**
 * Any listener, whatever its types.
 *
 * @since 0.1.0
 * @category models
 */
export type Any = Listener<any, any, any, any, any, any>

/**
 * The services a listener's source needs (the handler's are its job's).
 *
 * @since 0.1.0
 * @category type-level
 */
export type SourceRequirements<L> = L extends Listener<any, any, any, any, any, infer RS> ? RS : never

/**
 * The params type of a listener.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Params<L> = L extends Listener<infer P, any, any, any, any, any> ? P : never

/**
 * What one tick did, as the listener's stream emits it. Ticks in a process
 * that does not hold the listener's lease emit nothing.
 *
 * @since 0.1.0
 * @category models
 */
export type Tick<P> =
  | {
    readonly _tag: "Skipped"
    readonly listener: string
    /** epoch ms, from Effect's Clock */
    readonly at: number
    readonly total: number
    readonly params: P
  }
  | {
    readonly _tag: "Succeeded"
    readonly listener: string
    readonly at: number
    readonly runId: Run.RunId
    readonly total: number
    readonly params: P
    /** the params stored for the next tick */
    readonly next: P
  }
  | {
    readonly _tag: "Failed"
    readonly listener: string
    readonly at: number
    /** the run that recorded the failure, when one could be enqueued */
    readonly runId: Run.RunId | undefined
    readonly params: P
    readonly error: { readonly tag: string; readonly message: string }
    readonly consecutiveFailures: number
    /** whether this failure stopped the listener (`stopAfterFailures`) */
    readonly stopped: boolean
  }

/**
 * A listener's status, read from the store.
 *
 * @since 0.1.0
 * @category models
 */
export interface Status<P> {
  readonly name: string
  /** running: this process holds its lease; standby: another process does, or none yet; stopped: everywhere */
  readonly state: "running" | "standby" | "stopped"
  /** the process holding its lease, if any */
  readonly holder: string | undefined
  /** the params of the next tick */
  readonly params: P
  readonly ticks: number
  readonly skipped: number
  readonly succeeded: number
  readonly failed: number
  readonly consecutiveFailures: number
  /** epoch ms */
  readonly lastTickAt: number | undefined
  readonly lastRunId: string | undefined
  readonly lastError: string | undefined
}

// ---------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------

/**
 * Defines a listener. Params and records are Schemas (params are stored as
 * JSON); the handler's records, context, metrics and next params are typed
 * from them. The handler returns the next params, or nothing to keep them.
 *
 * - `condition`: when a tick runs the handler (default: `total > 0`)
 * - `loadRecords: false`: count only; the handler gets no records
 * - `metrics`: computed for each run from its search, given to the handler
 *   as `ctx.metrics` and recorded with the run
 * - `timeout`: the handler is interrupted then, its finalizers run, and the
 *   run is recorded `timed_out` (default: the job default, 15 minutes)
 * - `stopAfterFailures`: stop the listener after that many failed ticks in a
 *   row (default: never)
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Listener, SqlSource } from "@clockwork/listener"
 *
 * const Review = Schema.Struct({ id: Schema.Number, text: Schema.String })
 *
 * export const uberReviews = Listener.make({
 *   name: "uber-reviews",
 *   source: SqlSource.make({ table: "reviews", records: Review, orderBy: "id" }),
 *   params: Schema.Struct({ batch_id: Schema.Int }),
 *   initialParams: { batch_id: 0 },
 *   query: ({ batch_id }) => (sql) => sql`(metadata->>'batch_id')::int = ${batch_id}`,
 *   every: "3 seconds",
 *   run: (records, ctx) =>
 *     Effect.gen(function*() {
 *       yield* Effect.log(`batch ${ctx.params.batch_id}: ${records.length} reviews`)
 *       return { batch_id: ctx.params.batch_id + 1 }
 *     })
 * })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = <
  Q,
  Rec,
  ES,
  RS,
  P,
  PI,
  E = never,
  R = never,
  M extends Run.Metrics = {},
  EM = never,
  RM = never
>(options: {
  readonly name: string
  readonly source: Source.Source<Q, Rec, ES, RS>
  readonly params: Schema.Schema<P, PI>
  readonly initialParams: NoInfer<P>
  readonly query: (params: P) => Q
  readonly every: Every
  readonly condition?: (search: Search<Rec, P>) => boolean
  readonly loadRecords?: boolean
  readonly metrics?: (search: Search<Rec, P>) => Effect.Effect<M, EM, RM>
  readonly timeout?: Duration.DurationInput
  readonly stopAfterFailures?: number
  readonly run: (records: ReadonlyArray<Rec>, ctx: Context<P, Q, M>) => Effect.Effect<NoInfer<P> | void, E, R>
}): Listener<P, Rec, Q, E | EM | SearchFailed, R | RM, RS> => ({
  [TypeId]: TypeId,
  name: options.name,
  source: options.source,
  query: options.query,
  params: options.params,
  initialParams: options.initialParams,
  every: options.every,
  condition: options.condition ?? ((search) => search.total > 0),
  loadRecords: options.loadRecords ?? true,
  stopAfterFailures: options.stopAfterFailures,
  job: internalJob.make(
    options as internalJob.Definition<Q, Rec, P, PI, E, R, M, EM, RM>,
    (tag, reason) => new SearchFailed({ listener: options.name, error: tag, reason })
  )
})

/**
 * The listener's tick schedule, checked: a bad interval or cron expression
 * fails with its `TriggerError`, as does a one-shot trigger (a listener polls).
 *
 * @since 0.1.0
 * @category constructors
 */
export const schedule = (every: Every): Effect.Effect<Schedule.Schedule<unknown>, Trigger.TriggerError> =>
  internalLoop.toSchedule(every)

// ---------------------------------------------------------------------------
// running
// ---------------------------------------------------------------------------

/**
 * Settings for running listeners.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** this process's name in the listeners' leases (default: a random id) */
  readonly owner?: string
  /**
   * how long a lease holds without renewal (default 30 seconds; renewed every
   * third of it): how long a listener waits after its process died before
   * another process takes it over
   */
  readonly lease?: Duration.DurationInput
}

/**
 * A listener as a polling stream of its ticks. Each tick takes the lease (or
 * emits nothing while another process holds it), searches, checks the
 * condition and, when it holds, enqueues a run of the listener's job with the
 * search as payload and waits for its result, then stores the next params.
 * The lease is released when the stream ends. `Listener.layer` runs these
 * streams for an app; use the stream directly to drive a listener yourself.
 *
 * @since 0.1.0
 * @category running
 */
export const stream = <P, Rec, Q, E, R, RS>(
  listener: Listener<P, Rec, Q, E, R, RS>,
  options?: Options
): Stream.Stream<
  Tick<P>,
  InvalidParams | Trigger.TriggerError,
  Scheduler.Scheduler | ListenerStore | RS
> =>
  internalLoop.stream(listener, {
    owner: options?.owner ?? internalLoop.randomOwner(),
    lease: options?.lease ?? "30 seconds",
    stopping: () => false,
    errors: { invalidParams: (reason) => new InvalidParams({ listener: listener.name, reason }) }
  })

/**
 * Controls one listener in this process.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle<P> {
  readonly name: string
  /**
   * stops it everywhere (stored: no process polls it until it is resumed);
   * here its stream ends: the run in flight is cancelled (its finalizers run)
   * and the lease released
   */
  readonly stop: Effect.Effect<void, ListenerStoreError>
  /** resumes it everywhere, clearing its failure streak; here its stream starts again */
  readonly resume: Effect.Effect<void, ListenerStoreError>
  readonly status: Effect.Effect<Status<P>, ListenerStoreError | InvalidParams>
  /** the params of the next tick */
  readonly params: Effect.Effect<P, ListenerStoreError | InvalidParams>
  /** the ticks of this process from now on */
  readonly ticks: Stream.Stream<Tick<P>>
}

/**
 * The listeners running in this process.
 *
 * @since 0.1.0
 * @category models
 */
export interface Listeners {
  /** this process's name in the leases */
  readonly owner: string
  readonly names: ReadonlyArray<string>
  readonly handle: <P>(listener: Listener<P, any, any, any, any, any>) => Effect.Effect<Handle<P>, UnknownListener>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Listeners: Context.Tag<Listeners, Listeners> = Context.GenericTag<Listeners>(
  "@clockwork/listener/Listeners"
)

/**
 * Runs listeners for as long as the layer lives, each as its stream in a
 * fiber, and provides their handles. It needs the Scheduler (from the app
 * layer, whose jobs must include each listener's `job`), a `ListenerStore`,
 * and what the sources need. Checked at start: unique names, valid
 * schedules, initial params that match their Schema, and, when this process
 * has a runner, the jobs registered.
 *
 * When the layer closes, a tick waiting on its run leaves the run to the
 * runner's graceful shutdown; a run that ends after the params were not
 * stored is taken over by the next process to hold the listener (its result
 * is used, the batch is not handled twice).
 *
 * @example
 * ```ts
 * const App = Listener.layer([uberReviews]).pipe(
 *   Layer.provideMerge(Clockwork.layer([uberReviews.job])),
 *   Layer.provide(ListenerStore.layerSql()),
 *   Layer.provide(PgliteStore.layerClient()),
 *   Layer.provideMerge(PgliteClient.layer({ dataDir: ".data" }))
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = <const Ls extends ReadonlyArray<Any>>(
  listeners: Ls,
  options?: Options
): Layer.Layer<
  Listeners,
  DuplicateListenerName | ListenerNotRegistered | InvalidParams | Trigger.TriggerError,
  Scheduler.Scheduler | ListenerStore | SourceRequirements<Ls[number]>
> =>
  Layer.scoped(
    Listeners,
    internalLayer.make(listeners, {
      owner: options?.owner ?? internalLoop.randomOwner(),
      lease: options?.lease ?? "30 seconds",
      errors: {
        duplicate: (name) => new DuplicateListenerName({ name }),
        notRegistered: (name) => new ListenerNotRegistered({ name }),
        unknown: (name) => new UnknownListener({ name }),
        invalidParams: (listener, reason) => new InvalidParams({ listener, reason })
      }
    }) as Effect.Effect<
      Listeners,
      DuplicateListenerName | ListenerNotRegistered | InvalidParams | Trigger.TriggerError,
      Scheduler.Scheduler | ListenerStore | SourceRequirements<Ls[number]> | Scope.Scope
    >
  )

// ---------------------------------------------------------------------------
// accessors
// ---------------------------------------------------------------------------

/**
 * The handle of a listener running in this process.
 *
 * @since 0.1.0
 * @category accessors
 */
export const handle = <P>(
  listener: Listener<P, any, any, any, any, any>
): Effect.Effect<Handle<P>, UnknownListener, Listeners> => Effect.flatMap(Listeners, (l) => l.handle(listener))

/**
 * Stops a listener everywhere; see `Handle.stop`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const stop = (
  listener: Any
): Effect.Effect<void, UnknownListener | ListenerStoreError, Listeners> => Effect.flatMap(handle(listener), (h) => h.stop)

/**
 * Resumes a stopped listener everywhere; see `Handle.resume`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const resume = (
  listener: Any
): Effect.Effect<void, UnknownListener | ListenerStoreError, Listeners> =>
  Effect.flatMap(handle(listener), (h) => h.resume)

/**
 * A listener's status: where it runs, its counters, its params.
 *
 * @since 0.1.0
 * @category accessors
 */
export const status = <P>(
  listener: Listener<P, any, any, any, any, any>
): Effect.Effect<Status<P>, UnknownListener | ListenerStoreError | InvalidParams, Listeners> =>
  Effect.flatMap(handle(listener), (h) => h.status)

/**
 * A listener's current params: those of its next tick.
 *
 * @since 0.1.0
 * @category accessors
 */
export const params = <P>(
  listener: Listener<P, any, any, any, any, any>
): Effect.Effect<P, UnknownListener | ListenerStoreError | InvalidParams, Listeners> =>
  Effect.flatMap(handle(listener), (h) => h.params)

/**
 * The ticks of a listener in this process, from now on.
 *
 * @since 0.1.0
 * @category accessors
 */
export const ticks = <P>(
  listener: Listener<P, any, any, any, any, any>
): Stream.Stream<Tick<P>, UnknownListener, Listeners> => Stream.unwrap(Effect.map(handle(listener), (h) => h.ticks))
