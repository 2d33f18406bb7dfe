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
import * as internalTicker from "./internal/ticker.js"
import * as Runner from "./Runner.js"
import * as Scheduler from "./Scheduler.js"

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
 * Everything in one process: jobs, scheduler API, ticker, runner and reaper.
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
  Job.DuplicateJobName,
  JobStore | Requirements<Jobs>
> =>
  Layer.mergeAll(Runner.layer(options?.runner), layerTicker, reaperOf(options)).pipe(
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
 * A scheduler process: the scheduler API, the ticker and the reaper, no runner.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerScheduler = (
  options?: Pick<Options, "reaper">
): Layer.Layer<Scheduler.Scheduler | Events.Events, never, JobStore> =>
  Layer.mergeAll(Scheduler.layer, layerTicker, reaperOf(options)).pipe(Layer.provideMerge(Events.layer))
