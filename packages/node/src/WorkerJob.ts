/**
 * Worker jobs: jobs whose handler runs in a worker thread of the
 * `WorkerPool`, for CPU-bound or blocking code (the `run_in_process=True` of
 * the Python scheduler). A timeout or a cancel kills the thread, even in a
 * loop that never yields, and the attempt is recorded `timed_out` or
 * `cancelled` as for any job.
 *
 * A worker job is declared once, in a module both threads import, and served
 * by a worker module:
 *
 * @example
 * ```ts
 * // scrape.ts: the declaration, imported by the app and by the worker module
 * export const scrapeMeetings = WorkerJob.make({
 *   name: "scrape-meetings",
 *   worker: new URL("./scrape.worker.ts", import.meta.url),
 *   payload: Schema.Struct({ since: Schema.String }),
 *   success: Schema.Struct({ linesAdded: Schema.Int, linesProcessed: Schema.Int }),
 *   timeout: "30 minutes"
 * })
 *
 * // scrape.worker.ts: runs in the thread
 * WorkerJob.serve(scrapeMeetings, ({ since }, ctx) =>
 *   Effect.gen(function*() {
 *     const { added, processed } = parseMeetings(since) // synchronous, CPU-bound
 *     yield* ctx.metrics({ linesAdded: added, linesProcessed: processed })
 *     return { linesAdded: added, linesProcessed: processed }
 *   }))
 * ```
 * @since 0.1.0
 */
import { Job, type Policy } from "@clockwork/core"
import { type Duration, Effect, type Schedule, Schema } from "effect"
import type { ParseError } from "effect/ParseResult"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { served } from "./internal/handlers.js"
import * as internalServe from "./internal/serve.js"
import { type WorkerCrashed, WorkerPool } from "./WorkerPool.js"

/**
 * The job's handler failed in its thread: it threw, rejected, died, failed
 * with an error the job has no failure Schema for, or its module could not be
 * loaded or does not serve the job (`tag: "HandlerNotFound"`). `tag` and
 * `reason` are the original error's tag (or name) and message; `detail` is
 * its cause as printed in the thread, with the stack.
 *
 * @since 0.1.0
 * @category errors
 */
export class WorkerError extends Schema.TaggedError<WorkerError>()("WorkerError", {
  jobName: Schema.String,
  tag: Schema.String,
  reason: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `"${this.jobName}" failed in its worker thread: ${this.tag}: ${this.reason}`
  }
}

/**
 * A job that runs in a worker thread: a core `Job` (register it with
 * `Clockwork.layer` like any other) that needs the `WorkerPool`.
 *
 * @since 0.1.0
 * @category models
 */
export interface WorkerJob<P = any, A = any, E = never>
  extends Job.Job<P, A, E | WorkerError | WorkerCrashed | ParseError, WorkerPool>
{
  /** the file URL of the module that serves the job */
  readonly module: string
  /** how typed failures cross from the thread; without it they arrive as `WorkerError` */
  readonly failure: Schema.Schema<E, any> | undefined
}

/**
 * What a worker module runs for a job: an Effect (with no requirements:
 * provide its services inside the thread), a promise or a plain value.
 * `ctx.metrics`, `ctx.progress` and `Effect.log*` reach the run on the main
 * thread.
 *
 * @since 0.1.0
 * @category models
 */
export type Handler<P, A, E> = (
  payload: P,
  ctx: Job.JobContext
) => Effect.Effect<A, E> | PromiseLike<A> | A

/**
 * What a plain function in a worker module gets besides the payload: the
 * run's context, with reports that are plain calls.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlainContext {
  readonly runId: string
  readonly jobName: string
  readonly attempt: number
  readonly scheduledFor: Date
  readonly scheduleId: string | undefined
  readonly progress: (value: number) => void
  readonly metrics: (metrics: Record<string, unknown>) => void
  /** an info line in the run's log */
  readonly log: (...message: ReadonlyArray<unknown>) => void
}

/**
 * The default export of a worker module that serves jobs with plain
 * functions, by job name, instead of `WorkerJob.serve`: it needs no imports
 * (a TypeScript module can check itself with `satisfies
 * WorkerJob.PlainHandlers` after an `import type`). A function gets the
 * payload as the payload Schema encodes it and returns the result as the
 * success Schema encodes it; the main thread decodes that result.
 *
 * @example
 * ```ts
 * // hash.worker.mjs
 * export default {
 *   "hash-files": ({ paths }, ctx) => {
 *     ctx.metrics({ files: paths.length })
 *     return { digest: hashAll(paths) }
 *   }
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export type PlainHandlers = Record<string, (payload: any, ctx: PlainContext) => unknown>

const moduleUrl = (worker: URL | string): string =>
  typeof worker !== "string" ? worker.href : worker.startsWith("file:") ? worker : pathToFileURL(resolve(worker)).href

/**
 * Declares a worker job. It runs on any thread of the `WorkerPool`; the
 * thread loads `worker` on the job's first run there.
 *
 * The timeout counts from the moment the runner starts the run, time spent
 * waiting for a free thread included; give the job a `concurrency` no larger
 * than the pool when that matters.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <P, PI, A = void, AI = void, E = never, EI = never>(options: {
  readonly name: string
  /** the module that serves the job: a URL (`new URL("./x.worker.ts", import.meta.url)`) or a path */
  readonly worker: URL | string
  readonly payload: Schema.Schema<P, PI>
  readonly success?: Schema.Schema<A, AI>
  /** a Schema for the handler's typed failures, so they cross as themselves */
  readonly failure?: Schema.Schema<E, EI>
  /** default 15 minutes */
  readonly timeout?: Duration.DurationInput
  readonly retry?: Schedule.Schedule<unknown, any>
  readonly concurrency?: number
  readonly overlap?: Policy.Overlap
}): WorkerJob<P, A, E> => {
  const { failure, worker, ...jobOptions } = options
  const module = moduleUrl(worker)
  const encodePayload = Schema.encode(options.payload)
  const decodeSuccess = Schema.decodeUnknown((options.success ?? Schema.Void) as Schema.Schema<A, AI>)
  const decodeFailure = failure === undefined ? undefined : Schema.decodeUnknown(failure)
  const job = Job.make<P, PI, E | WorkerError | WorkerCrashed | ParseError, WorkerPool, A, AI>({
    ...jobOptions,
    run: (payload, context) =>
      Effect.gen(function*() {
        const pool = yield* WorkerPool
        const outcome = yield* pool.execute({
          module,
          jobName: options.name,
          payload: yield* encodePayload(payload),
          context
        })
        switch (outcome._tag) {
          case "Succeeded":
            return yield* decodeSuccess(outcome.value)
          case "Failed":
            // sent only for a job with a failure Schema
            return yield* Effect.flatMap(decodeFailure!(outcome.error), Effect.fail)
          case "Errored":
            return yield* new WorkerError({
              jobName: options.name,
              tag: outcome.tag,
              reason: outcome.message,
              detail: outcome.cause
            })
        }
      })
  })
  return { ...job, module, failure }
}

/**
 * Serves a worker job in this thread: call it at the top level of the worker
 * module, once per job the module serves. The payload arrives decoded with
 * the job's Schema; the result (and a typed failure, with a failure Schema)
 * goes back encoded.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = <P, A, E>(
  job: WorkerJob<P, A, E>,
  handler: Handler<NoInfer<P>, NoInfer<A>, NoInfer<E>>
): void => {
  served().set(job.name, internalServe.make(job, handler))
}
