/**
 * The app layer: registers the jobs and starts the scheduler API, the ticker
 * (turns due schedules into runs) and the runner (executes runs) on a store.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Layer } from "effect"
import * as Events from "./Events.js"
import * as Job from "./Job.js"
import { JobStore } from "./JobStore.js"
import * as internalReaper from "./internal/reaper.js"
import * as internalRetention from "./internal/retention.js"
import * as internalTicker from "./internal/ticker.js"
import * as Runner from "./Runner.js"
import * as Scheduler from "./Scheduler.js"
import * as Trigger from "./Trigger.js"

/**
 * Settings for the app layer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly runner?: Runner.Options
  /** how often to re-queue runs whose worker stopped renewing its lease (default 1 minute); false: no reaper */
  readonly reaper?: { readonly interval?: Duration.DurationInput } | false
  /**
   * how long the run history is kept (default 30 days), pruned every
   * `interval` (default 1 hour); false keeps it all
   */
  readonly retention?: RetentionOptions | false
}

/**
 * How long the history is kept, and how often it is pruned.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetentionOptions {
  /** history rows, and runs in a final state, that ended longer ago than this are deleted (default 30 days) */
  readonly keep?: Duration.DurationInput
  /** how often to prune (default 1 hour); the first prune is at start-up */
  readonly interval?: Duration.DurationInput
}

/**
 * The services the app layer provides itself: a job may use them (a handler
 * that enqueues other jobs needs the Scheduler) without the app providing them.
 *
 * @since 0.1.0
 * @category models
 */
export type Provided = Scheduler.Scheduler | Events.Events | JobStore

/**
 * What an app must provide for a list of jobs.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Requirements<Jobs extends ReadonlyArray<Job.Any>> = Exclude<Job.Requirements<Jobs[number]>, Provided>

// the runner's runtime carries the Scheduler and Events, so jobs may use them
const registry = <const Jobs extends ReadonlyArray<Job.Any>>(jobs: Jobs) =>
  Job.registry(jobs) as Layer.Layer<Job.Registry, Job.DuplicateJobName, Requirements<Jobs>>

/**
 * The ticker alone: turns due schedules into queued runs. Any number may run
 * against one store; a tick is never fired twice.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTicker: Layer.Layer<never, never, JobStore | Events.Events> = Layer.scopedDiscard(
  Effect.gen(function*() {
    yield* internalTicker.make(yield* JobStore, yield* Events.Events)
  })
)

/**
 * The reaper alone: re-queues runs whose worker died (its lease expired
 * without a heartbeat), counting the lost attempt. Any number may run.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerReaper = (options?: { readonly interval?: Duration.DurationInput }): Layer.Layer<
  never,
  never,
  JobStore
> =>
  Layer.scopedDiscard(
    Effect.flatMap(JobStore, (store) => internalReaper.make(store, Duration.decode(options?.interval ?? "1 minute")))
  )

const reaperOf = (options: Options | undefined) =>
  options?.reaper === false ? Layer.empty : layerReaper(options?.reaper)

/**
 * Retention alone: prunes the run history at start-up and then every
 * `interval`, deleting what ended more than `keep` ago (runs still queued or
 * running keep all their rows). Any number may run against one store. An
 * invalid `keep` or `interval` fails the layer with `InvalidInterval`.
 *
 * @example
 * ```ts
 * Clockwork.layerRetention({ keep: "7 days", interval: "10 minutes" })
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerRetention = (options?: RetentionOptions): Layer.Layer<never, Trigger.InvalidInterval, JobStore> =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const keep = yield* Trigger.validateInterval(options?.keep ?? "30 days", "retention.keep")
      const interval = yield* Trigger.validateInterval(options?.interval ?? "1 hour", "retention.interval")
      yield* internalRetention.make(yield* JobStore, keep, interval)
    })
  )

const retentionOf = (options: Options | undefined) =>
  options?.retention === false ? Layer.empty : layerRetention(options?.retention)

/**
 * Everything in one process: jobs, scheduler API, ticker, runner, reaper and
 * retention.
 *
 * @example
 * ```ts
 * const App = Clockwork.layer([sendNewsletter, cleanUp]).pipe(Layer.provide(JobStore.layerMemory))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = <const Jobs extends ReadonlyArray<Job.Any>>(
  jobs: Jobs,
  options?: Options
): Layer.Layer<
  Scheduler.Scheduler | Runner.Runner | Events.Events | Job.Registry,
  Job.DuplicateJobName | Trigger.InvalidInterval,
  JobStore | Requirements<Jobs>
> =>
  Layer.mergeAll(Runner.layer(options?.runner), layerTicker, reaperOf(options), retentionOf(options)).pipe(
    Layer.provideMerge(Scheduler.layer),
    Layer.provideMerge(Events.layer),
    Layer.provideMerge(registry(jobs))
  )

/**
 * A worker: the runner and the scheduler API, no ticker. Run it on machines
 * that only execute jobs.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWorker = <const Jobs extends ReadonlyArray<Job.Any>>(
  jobs: Jobs,
  options?: Options
): Layer.Layer<
  Scheduler.Scheduler | Runner.Runner | Events.Events | Job.Registry,
  Job.DuplicateJobName,
  JobStore | Requirements<Jobs>
> =>
  Runner.layer(options?.runner).pipe(
    Layer.provideMerge(Scheduler.layer),
    Layer.provideMerge(Events.layer),
    Layer.provideMerge(registry(jobs))
  )

/**
 * A scheduler process: the scheduler API, the ticker, the reaper and
 * retention, no runner.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerScheduler = (
  options?: Pick<Options, "reaper" | "retention">
): Layer.Layer<Scheduler.Scheduler | Events.Events, Trigger.InvalidInterval, JobStore> =>
  Layer.mergeAll(Scheduler.layer, layerTicker, reaperOf(options), retentionOf(options)).pipe(
    Layer.provideMerge(Events.layer)
  )
