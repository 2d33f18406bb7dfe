/**
 * Promise-based jobs: wrap an async function (a fetch, a database query, an
 * SDK call) as a job whose run awaits it. The function gets an `AbortSignal`
 * that is aborted when the run is interrupted (its timeout, a cancel, a
 * shutdown), so the work underneath stops too; a rejection is a typed
 * failure, retried on the job's retry policy. Nothing is fire-and-forget: the
 * run lasts as long as the promise.
 *
 * @since 0.1.0
 */
import { Job, type Policy } from "@clockwork/core"
import { type Duration, Effect, type Schedule, Schema } from "effect"

/**
 * The promise rejected. `message` is the rejection's message; `cause` is
 * what it rejected with.
 *
 * @since 0.1.0
 * @category errors
 */
export class PromiseRejected extends Schema.TaggedError<PromiseRejected>()("PromiseRejected", {
  message: Schema.String,
  cause: Schema.Defect
}) {}

const rejected = (cause: unknown): PromiseRejected =>
  new PromiseRejected({
    message: cause instanceof Error ? cause.message : typeof cause === "string" ? cause : String(cause),
    cause
  })

/**
 * Runs a promise-returning function as an Effect. The function receives an
 * `AbortSignal` that is aborted when the Effect is interrupted; pass it to
 * `fetch`, to your database driver or SDK, or check it in your own loops. A
 * rejection (or a synchronous throw) fails with `PromiseRejected`, or with
 * what `catch` makes of it.
 *
 * Interruption does not wait for the promise: a function that ignores its
 * signal keeps running in the background after the run has ended.
 *
 * @example
 * ```ts
 * const rows = yield* AsyncJob.fromPromise((signal) => pool.query({ text: "select ...", signal }))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const fromPromise = <A, E = PromiseRejected>(
  evaluate: (signal: AbortSignal) => PromiseLike<A>,
  options?: { readonly catch?: (error: unknown) => E }
): Effect.Effect<A, E> =>
  Effect.tryPromise({
    try: (signal) => evaluate(signal),
    catch: (options?.catch ?? rejected) as (error: unknown) => E
  })

/**
 * What the function of a promise-based job receives besides its payload.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** aborted when the run is interrupted: its timeout, a cancel, a shutdown */
  readonly signal: AbortSignal
  /** the run's context: run id, attempt, `metrics` and `progress` (Effects: run them with `Effect.runPromise`) */
  readonly ctx: Job.JobContext
}

/**
 * Defines a job whose run awaits a promise. The promise's value is the run's
 * result (encoded with `success`); a rejection fails the attempt with
 * `PromiseRejected` (or what `catch` returns) and is retried on `retry`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AsyncJob } from "@clockwork/http"
 *
 * const syncCrm = AsyncJob.make({
 *   name: "sync-crm",
 *   payload: Schema.Struct({ account: Schema.String }),
 *   success: Schema.Struct({ updated: Schema.Int }),
 *   timeout: "2 minutes",
 *   run: async ({ account }, { signal }) => {
 *     const response = await fetch(`https://crm.example.com/accounts/${account}/sync`, { method: "POST", signal })
 *     if (!response.ok) throw new Error(`CRM answered ${response.status}`)
 *     return (await response.json()) as { updated: number }
 *   }
 * })
 * // Job<{ account: string }, { updated: number }, PromiseRejected, never>
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = <P, PI, A = void, AI = void, E = PromiseRejected>(options: {
  readonly name: string
  readonly payload: Schema.Schema<P, PI>
  readonly success?: Schema.Schema<A, AI>
  /** must honour `signal`: the run ends at its timeout either way, but only the signal stops the work */
  readonly run: (payload: P, options: RunOptions) => PromiseLike<NoInfer<A>>
  /** turns a rejection into the job's error; default `PromiseRejected` */
  readonly catch?: (error: unknown) => E
  /** default 15 minutes */
  readonly timeout?: Duration.DurationInput
  /** a Schedule over failures; default: exponential backoff with jitter, 5 attempts */
  readonly retry?: Schedule.Schedule<unknown, any>
  readonly concurrency?: number
  readonly overlap?: Policy.Overlap
}): Job.Job<P, A, E, never> => {
  const { catch: catchRejection, run, ...rest } = options
  return Job.make<P, PI, E, never, A, AI>({
    ...rest,
    run: (payload, ctx) =>
      fromPromise(
        (signal) => run(payload, { signal, ctx }),
        catchRejection === undefined ? undefined : { catch: catchRejection }
      )
  })
}
