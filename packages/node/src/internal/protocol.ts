import type { LogLevel } from "effect"

/** What the main thread asks a worker thread to do: run one job. */
export interface RunRequest {
  /** numbers the runs of one thread; messages of an earlier run are dropped */
  readonly seq: number
  /** the worker module's file URL */
  readonly module: string
  readonly jobName: string
  /** the payload, encoded with the job's payload Schema */
  readonly payload: unknown
  readonly context: {
    readonly runId: string
    readonly attempt: number
    readonly scheduledFor: number
    readonly scheduleId: string | undefined
  }
  /** the run's minimum log level, so lines the run would drop are not sent */
  readonly minimumLogLevel: LogLevel.Literal
}

/** How a run in a thread ended, as the thread reports it. */
export type Outcome =
  /** the result, encoded with the job's success Schema */
  | { readonly _tag: "Succeeded"; readonly seq: number; readonly value: unknown }
  /** a typed failure, encoded with the job's failure Schema */
  | { readonly _tag: "Failed"; readonly seq: number; readonly error: unknown }
  /** anything else: an exception, a defect, a failure without a Schema, a module that did not load */
  | {
    readonly _tag: "Errored"
    readonly seq: number
    readonly tag: string
    readonly message: string
    readonly cause: string
  }

/** What a worker thread sends while it runs a job. */
export type Report =
  | {
    readonly _tag: "Log"
    readonly seq: number
    readonly level: LogLevel.Literal
    readonly message: ReadonlyArray<unknown>
    readonly annotations: Record<string, unknown>
    readonly cause: string | undefined
  }
  | { readonly _tag: "Progress"; readonly seq: number; readonly value: number }
  | { readonly _tag: "Metrics"; readonly seq: number; readonly metrics: Record<string, unknown> }

export type ThreadMessage = Report | Outcome

/** Sent once by a new thread, when it has loaded the worker modules it was asked to preload. */
export interface Ready {
  readonly _tag: "Ready"
}

/** What a thread is started with. */
export interface ThreadData {
  /** worker modules to load before the thread reports ready */
  readonly preload: ReadonlyArray<string>
}

/**
 * A job that `WorkerJob.serve` registered in a thread: it runs one request
 * and posts its reports.
 */
export interface Served {
  readonly execute: (request: RunRequest, post: (message: Report) => void) => Promise<Outcome>
}

/**
 * Where a thread keeps the jobs its worker modules serve, by name. On
 * globalThis rather than in a module, so a worker module that resolves
 * another copy of @clockwork/node (dist instead of src) registers where the
 * thread entry looks. thread.mjs spells the same key.
 */
export const servedKey = "@clockwork/node/served"
