import type { Job } from "@clockwork/core"
import { Cause, Effect, Exit, FiberRef, HashMap, HashSet, Inspectable, Logger, LogLevel, Option, Schema } from "effect"
import type { Outcome, Report, RunRequest, Served } from "./protocol.js"

/** A job as `WorkerJob.serve` sees it: its Schemas. */
export interface Schemas {
  readonly payload: Schema.Schema<any, any>
  readonly success: Schema.Schema<any, any>
  readonly failure: Schema.Schema<any, any> | undefined
}

// log lines cross by structured clone: anything it cannot copy goes as text
const cloneable = (value: unknown): unknown => {
  if (value === null || typeof value !== "object") return typeof value === "function" ? String(value) : value
  if (Cause.isCause(value)) return Cause.pretty(value)
  try {
    return structuredClone(value)
  } catch {
    return Inspectable.toStringUnknown(value)
  }
}

const loggerFor = (seq: number, post: (message: Report) => void) =>
  Logger.make(({ annotations, cause, logLevel, message }) => {
    const parts = Array.isArray(message) ? message : [message]
    post({
      _tag: "Log",
      seq,
      level: logLevel._tag,
      message: parts.map(cloneable),
      annotations: Object.fromEntries(Array.from(HashMap.entries(annotations), ([k, v]) => [k, cloneable(v)])),
      cause: Cause.isEmpty(cause) ? undefined : Cause.pretty(cause)
    })
  })

const errored = (seq: number, cause: Cause.Cause<unknown>, prefix = ""): Outcome => {
  const error = Cause.squash(cause)
  const tag = typeof error === "object" && error !== null && "_tag" in error
    ? String(error._tag)
    : error instanceof Error
    ? error.name
    : "Error"
  const message = error instanceof Error
    ? error.message
    : typeof error === "object" && error !== null && "message" in error
    ? String(error.message)
    : Inspectable.toStringUnknown(error)
  return { _tag: "Errored", seq, tag, message: prefix + message, cause: Cause.pretty(cause) }
}

const isPromiseLike = (u: unknown): u is PromiseLike<unknown> =>
  typeof u === "object" && u !== null && "then" in u && typeof u.then === "function"

/**
 * Runs a served job for one request: decodes the payload, runs the handler
 * (an Effect, a promise or a value) with its logs, progress and metrics
 * posted to the main thread, and encodes the outcome.
 */
export const make = (
  job: Schemas,
  handler: (payload: any, ctx: Job.JobContext) => unknown
): Served => {
  const decodePayload = Schema.decodeUnknown(job.payload)
  const encodeSuccess = Schema.encodeUnknown(job.success)
  const encodeFailure = job.failure === undefined ? undefined : Schema.encodeUnknown(job.failure)

  const execute = (request: RunRequest, post: (message: Report) => void): Effect.Effect<Outcome> => {
    const { seq } = request
    const ctx: Job.JobContext = {
      runId: request.context.runId as Job.JobContext["runId"],
      jobName: request.jobName,
      attempt: request.context.attempt,
      scheduledFor: new Date(request.context.scheduledFor),
      scheduleId: request.context.scheduleId,
      progress: (value) => Effect.sync(() => post({ _tag: "Progress", seq, value })),
      metrics: (metrics) => Effect.sync(() => post({ _tag: "Metrics", seq, metrics }))
    }
    return Effect.gen(function*() {
      const exit = yield* decodePayload(request.payload).pipe(
        Effect.flatMap((payload) =>
          Effect.suspend(() => {
            const result = handler(payload, ctx)
            return Effect.isEffect(result)
              ? result as Effect.Effect<unknown, unknown>
              : isPromiseLike(result)
              ? Effect.promise(() => result)
              : Effect.succeed(result)
          })
        ),
        Effect.exit
      )
      if (Exit.isSuccess(exit)) {
        return yield* encodeSuccess(exit.value).pipe(
          Effect.match({
            onFailure: (error) => errored(seq, Cause.fail(error), "its result does not match the success Schema: "),
            onSuccess: (value): Outcome => ({ _tag: "Succeeded", seq, value })
          })
        )
      }
      const failure = Cause.failureOption(exit.cause)
      if (encodeFailure === undefined || Option.isNone(failure)) return errored(seq, exit.cause)
      return yield* encodeFailure(failure.value).pipe(
        Effect.match({
          onFailure: () => errored(seq, exit.cause),
          onSuccess: (error): Outcome => ({ _tag: "Failed", seq, error })
        })
      )
    }).pipe(
      Effect.locally(FiberRef.currentLoggers, HashSet.make(loggerFor(seq, post))),
      Effect.locally(FiberRef.currentMinimumLogLevel, LogLevel.fromLiteral(request.minimumLogLevel))
    )
  }

  return { execute: (request, post) => Effect.runPromise(execute(request, post)) }
}
