/**
 * A job: a named, typed Effect program. Its payload and result are Schemas so
 * they can cross a store; its errors are typed; the services it needs flow up
 * to the app, which must provide their layers before the runner can start.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer, Schedule, Schema } from "effect"
import type { Metrics, RunId } from "./Run.js"
import type { Overlap } from "./Policy.js"

/**
 * What a running job can see and report. Cancellation and timeouts are
 * interruption: there is no stop flag to poll. A CPU-heavy loop should yield
 * now and then (`yield* Effect.yieldNow()`) so it can be interrupted; code that
 * blocks the thread belongs in a worker thread.
 *
 * @since 0.1.0
 * @category models
 */
export interface JobContext {
  readonly runId: RunId
  readonly jobName: string
  /** 1 for the first attempt */
  readonly attempt: number
  /** the instant this run was due (the cron tick, the requested time) */
  readonly scheduledFor: Date
  readonly scheduleId: string | undefined
  /** Reports progress (for example a fraction 0..1); it is published as an event. */
  readonly progress: (value: number) => Effect.Effect<void>
  /** Merges metrics into the run's record (lines added, items processed...). */
  readonly metrics: (metrics: Metrics) => Effect.Effect<void>
}

/**
 * A job definition.
 *
 * @since 0.1.0
 * @category models
 */
export interface Job<in out P = any, in out A = any, out E = any, out R = any> {
  readonly name: string
  readonly payload: Schema.Schema<P, any>
  readonly success: Schema.Schema<A, any>
  readonly run: (payload: P, ctx: JobContext) => Effect.Effect<A, E, R>
  readonly timeout: Duration.Duration
  readonly retry: Schedule.Schedule<unknown, unknown>
  readonly concurrency: number | undefined
  readonly overlap: Overlap
}

/**
 * Any job, whatever its types.
 *
 * @since 0.1.0
 * @category models
 */
export type Any = Job<any, any, any, any>

/**
 * The services a job (or a list of jobs) needs.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Requirements<J> = J extends Job<any, any, any, infer R> ? R : never

/**
 * The payload type of a job.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Payload<J> = J extends Job<infer P, any, any, any> ? P : never

/**
 * The result type of a job.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Success<J> = J extends Job<any, infer A, any, any> ? A : never

/**
 * The default timeout: 15 minutes.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultTimeout: Duration.Duration = Duration.minutes(15)

/**
 * The default retry policy: exponential backoff from 1 second, doubled each
 * time, with jitter, at most 4 retries (5 attempts).
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("1 second", 2).pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(4))
)

/**
 * A retry policy that never retries.
 *
 * @since 0.1.0
 * @category defaults
 */
export const noRetry: Schedule.Schedule<unknown, unknown> = Schedule.stop

/**
 * Defines a job.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job } from "@clockwork/core"
 *
 * const sendNewsletter = Job.make({
 *   name: "send-newsletter",
 *   payload: Schema.Struct({ edition: Schema.String }),
 *   success: Schema.Struct({ sent: Schema.Number }),
 *   timeout: "30 minutes",
 *   run: ({ edition }, ctx) =>
 *     Effect.gen(function*() {
 *       yield* Effect.log(`sending ${edition}`)
 *       yield* ctx.metrics({ sent: 120 })
 *       return { sent: 120 }
 *     })
 * })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = <P, PI, E, R, A = void, AI = void>(options: {
  readonly name: string
  readonly payload: Schema.Schema<P, PI>
  readonly success?: Schema.Schema<A, AI>
  /** returns the success Schema's type (void without one) */
  readonly run: (payload: P, ctx: JobContext) => Effect.Effect<NoInfer<A>, E, R>
  /** default 15 minutes */
  readonly timeout?: Duration.DurationInput
  /**
   * a Schedule over failures; default: exponential backoff with jitter, 5
   * attempts. Its input is the attempt's failure: the typed error, a defect,
   * or the interruption of a timed-out attempt (`Cause.squash` of the cause).
   */
  readonly retry?: Schedule.Schedule<unknown, any>
  /** at most this many runs of this job at once, per runner */
  readonly concurrency?: number
  /** what a schedule of this job does when a tick comes while its previous run is unfinished (default "allow") */
  readonly overlap?: Overlap
}): Job<P, A, E, R> => ({
  name: options.name,
  payload: options.payload,
  success: (options.success ?? Schema.Void) as Schema.Schema<A, any>,
  run: options.run,
  timeout: options.timeout === undefined ? defaultTimeout : Duration.decode(options.timeout),
  retry: options.retry ?? defaultRetry,
  concurrency: options.concurrency,
  overlap: options.overlap ?? "allow"
})

/**
 * Two jobs were registered under one name.
 *
 * @since 0.1.0
 * @category errors
 */
export class DuplicateJobName extends Schema.TaggedError<DuplicateJobName>()("DuplicateJobName", {
  name: Schema.String
}) {
  override get message() {
    return `two jobs are registered under the name "${this.name}"`
  }
}

/**
 * A job name that no job in this app is registered under.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownJob extends Schema.TaggedError<UnknownJob>()("UnknownJob", {
  name: Schema.String
}) {
  override get message() {
    return `no job is registered under the name "${this.name}"`
  }
}

/**
 * A job's payload did not match its Schema, or a value given to enqueue or
 * schedule a job cannot be stored as it is: `field` then names it (for
 * example `payload.items[2].name`, `jobName` or `key`) and `reason` says what
 * no store can hold there (a NUL character, NaN or Infinity, a lone
 * surrogate, a value that is not JSON). Every store, the in-memory one
 * included, refuses the same values, before anything is stored.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidPayload extends Schema.TaggedError<InvalidPayload>()("InvalidPayload", {
  jobName: Schema.String,
  reason: Schema.String,
  field: Schema.optional(Schema.String),
  /** the schedule it was given for, when a schedule was registered */
  scheduleId: Schema.optional(Schema.String)
}) {
  override get message() {
    // the job name and schedule id themselves may be what cannot be stored: shown escaped
    const job = JSON.stringify(this.jobName)
    const schedule = this.scheduleId === undefined ? "" : `schedule ${JSON.stringify(this.scheduleId)}: `
    return this.field === undefined
      ? `${schedule}payload for job ${job} does not match its schema: ${this.reason}`
      : `${schedule}${this.field} of job ${job} cannot be stored: ${this.reason}`
  }
}

/**
 * The app's jobs by name, with the services they need.
 *
 * @since 0.1.0
 * @category models
 */
export interface Registry {
  readonly jobs: ReadonlyMap<string, Any>
  /** the services the jobs require, captured when the registry was built */
  readonly context: Context.Context<never>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Registry: Context.Tag<Registry, Registry> = Context.GenericTag<Registry>("@clockwork/core/Registry")

/**
 * Registers the app's jobs. Two jobs under one name fail the layer with
 * `DuplicateJobName`; the layer requires every service the jobs need, so an
 * app cannot start a runner before it provides them.
 *
 * @since 0.1.0
 * @category layers
 */
export const registry = <const Jobs extends ReadonlyArray<Any>>(
  jobs: Jobs
): Layer.Layer<Registry, DuplicateJobName, Requirements<Jobs[number]>> =>
  Layer.effect(
    Registry,
    Effect.gen(function*() {
      const byName = new Map<string, Any>()
      for (const job of jobs) {
        if (byName.has(job.name)) return yield* new DuplicateJobName({ name: job.name })
        byName.set(job.name, job)
      }
      const context = yield* Effect.context<Requirements<Jobs[number]>>()
      return { jobs: byName, context: context as Context.Context<never> }
    })
  )
