/**
 * A pool of worker threads that runs worker jobs (see `WorkerJob`). A run
 * borrows a thread, sends it the Schema-encoded payload and gets logs,
 * progress, metrics and the encoded result back. When a run is interrupted
 * (its timeout, `Scheduler.cancel`, a shutdown) the thread is terminated
 * whatever it is doing, even a synchronous loop, and a fresh thread takes its
 * place; so does a thread that dies by itself.
 *
 * @since 0.1.0
 */
import type { Job } from "@clockwork/core"
import { Context, Effect, Layer, Schema, type Scope } from "effect"
import { availableParallelism } from "node:os"
import type { ResourceLimits } from "node:worker_threads"
import * as internal from "./internal/pool.js"
import type { Outcome } from "./internal/protocol.js"

/**
 * The thread running a job died before the job finished: it called
 * `process.exit`, threw outside the job's Effect (an uncaught error in a
 * callback), or ran out of memory. The pool has already replaced it.
 *
 * @since 0.1.0
 * @category errors
 */
export class WorkerCrashed extends Schema.TaggedError<WorkerCrashed>()("WorkerCrashed", {
  jobName: Schema.String,
  threadId: Schema.Number,
  exitCode: Schema.Number,
  /** the uncaught error that killed the thread, if any */
  error: Schema.optional(Schema.String)
}) {
  override get message() {
    return `the worker thread running "${this.jobName}" died with exit code ${this.exitCode}${
      this.error === undefined ? "" : `: ${this.error}`
    }`
  }
}

/**
 * Pool settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** threads in the pool (default: the number of CPUs) */
  readonly size?: number
  /**
   * Worker jobs whose modules every thread loads before it takes runs, so a
   * run's timeout is not spent loading its module (worker modules that have
   * run once are preloaded by replacement threads anyway).
   */
  readonly preload?: ReadonlyArray<{ readonly module: string }>
  /**
   * Node options of the threads: by default the process's, without tsx's
   * loader flags (a thread registers tsx itself when it loads a TypeScript
   * worker module), plus `--conditions=source` when clockwork runs from its
   * sources.
   */
  readonly execArgv?: ReadonlyArray<string>
  /** heap limits per thread; a thread that exceeds them dies and the run fails with `WorkerCrashed` */
  readonly resourceLimits?: ResourceLimits
}

/**
 * One run for a thread: which module serves the job, the encoded payload,
 * and the run's context (its progress and metrics receive the thread's).
 *
 * @since 0.1.0
 * @category models
 */
export interface Task {
  /** the worker module's file URL */
  readonly module: string
  readonly jobName: string
  /** encoded with the job's payload Schema */
  readonly payload: unknown
  readonly context: Job.JobContext
}

/**
 * How a run in a thread ended: an encoded result (`Succeeded`), a failure
 * encoded with the job's failure Schema (`Failed`), or anything else, as its
 * tag, message and printed cause (`Errored`).
 *
 * @since 0.1.0
 * @category models
 */
export type TaskOutcome = Outcome

/**
 * What the pool is doing, and what it has done since it started.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly size: number
  readonly idle: number
  /** threads started, replacements included */
  readonly started: number
  /** threads terminated because their run was interrupted */
  readonly killed: number
  /** threads that died by themselves */
  readonly crashed: number
  /** the ids of the threads alive now */
  readonly threadIds: ReadonlyArray<number>
}

/**
 * The pool service.
 *
 * @since 0.1.0
 * @category models
 */
export interface WorkerPool {
  readonly size: number
  /**
   * Runs a task on a borrowed thread (waiting for one if all are busy). Logs
   * from the thread are logged by the calling fiber, so they carry its
   * annotations. Interrupting the returned Effect kills the thread.
   */
  readonly execute: (task: Task) => Effect.Effect<TaskOutcome, WorkerCrashed>
  readonly stats: Effect.Effect<Stats>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const WorkerPool: Context.Tag<WorkerPool, WorkerPool> = Context.GenericTag<WorkerPool>(
  "@clockwork/node/WorkerPool"
)

// the thread entry is plain JavaScript, next to this module in src and in dist
const entry = new URL("./internal/thread.mjs", import.meta.url)

// running from sources (tests, tsx): a TypeScript worker module that imports
// @clockwork packages must resolve their sources too
const fromSource = import.meta.url.endsWith(".ts")

const hasSourceCondition = (args: ReadonlyArray<string>) =>
  args.some((arg, i) =>
    arg === "--conditions=source" || arg === "-C=source" ||
    ((arg === "--conditions" || arg === "-C") && args[i + 1] === "source")
  )

// Node 20 ignores a loader given to a worker (nodejs/node#47747); the thread
// registers tsx itself when it meets a TypeScript module, so the flags of a
// process started with tsx are not passed on
const withoutTsx = (args: ReadonlyArray<string>) =>
  args.filter((arg, i) =>
    !arg.includes("tsx") && !((arg === "--import" || arg === "--require" || arg === "-r") && args[i + 1]?.includes("tsx"))
  )

const defaultExecArgv = (): ReadonlyArray<string> => {
  const inherited = withoutTsx(process.execArgv)
  return fromSource && !hasSourceCondition(inherited) ? [...inherited, "--conditions=source"] : inherited
}

/**
 * Starts a pool and waits until its threads are ready (their preloaded
 * modules loaded), so the first runs do not spend their timeout on a boot;
 * the threads are terminated when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<WorkerPool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const size = Math.max(1, Math.floor(options?.size ?? availableParallelism()))
    const pool = yield* internal.make({
      size,
      entry,
      preload: (options?.preload ?? []).map((job) => job.module),
      execArgv: options?.execArgv ?? defaultExecArgv(),
      resourceLimits: options?.resourceLimits
    })
    return WorkerPool.of({
      size,
      execute: (task) =>
        Effect.mapError(pool.execute(task), ({ error, exitCode, threadId }) =>
          new WorkerCrashed({
            jobName: task.jobName,
            threadId,
            exitCode,
            ...(error === undefined ? {} : { error })
          })),
      stats: pool.stats
    })
  })

/**
 * The pool as a layer: provide it to an app with worker jobs.
 *
 * @example
 * ```ts
 * const App = Clockwork.layer([scrapeMeetings]).pipe(
 *   Layer.provide(JobStore.layerMemory),
 *   Layer.provide(WorkerPool.layer({ size: 2 }))
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<WorkerPool> => Layer.scoped(WorkerPool, make(options))
