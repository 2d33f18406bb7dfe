import { Job, type Run } from "@clockwork/core"
import { type Duration, Effect, Schema } from "effect"
import type { Batch, Context, Search } from "../Listener.js"
import type { Source } from "../Source.js"

/** What the listener's job is built from: the parts of its definition that a run uses. */
export interface Definition<Q, Rec, P, PI, E, R, M, EM, RM> {
  readonly name: string
  readonly source: Source<Q, Rec, unknown, unknown>
  readonly params: Schema.Schema<P, PI>
  readonly query: (params: P) => Q
  readonly metrics?: (search: Search<Rec, P>) => Effect.Effect<M, EM, RM>
  readonly timeout?: Duration.DurationInput
  readonly run: (records: ReadonlyArray<Rec>, ctx: Context<P, Q, M>) => Effect.Effect<P | void, E, R>
}

/** The payload of a listener's run, as a Schema: the search travels through the store. */
export const batchSchema = <P, PI, Rec>(
  params: Schema.Schema<P, PI>,
  records: Schema.Schema<Rec, any>
): Schema.Schema<Batch<P, Rec>, any> =>
  Schema.Struct({
    version: Schema.Number,
    params,
    total: Schema.Number,
    records: Schema.Array(records),
    failure: Schema.optional(Schema.Struct({ tag: Schema.String, message: Schema.String }))
  })

/**
 * The handler as a job: it decodes the batch, computes the metrics, calls the
 * handler and returns the next params (the same when it returns nothing). A
 * batch that carries a failed search fails at once, so the failure is a run in
 * the history like any other. No retries (the next tick is the retry) and one
 * run at a time per runner.
 */
export const make = <Q, Rec, P, PI, E, R, M extends Run.Metrics, EM, RM, F>(
  definition: Definition<Q, Rec, P, PI, E, R, M, EM, RM>,
  searchFailed: (tag: string, reason: string) => F
): Job.Job<Batch<P, Rec>, P, E | EM | F, R | RM> =>
  Job.make({
    name: definition.name,
    payload: batchSchema(definition.params, definition.source.records),
    success: definition.params,
    retry: Job.noRetry,
    concurrency: 1,
    ...(definition.timeout === undefined ? {} : { timeout: definition.timeout }),
    run: (batch, job) =>
      Effect.gen(function*() {
        if (batch.failure !== undefined) return yield* Effect.fail(searchFailed(batch.failure.tag, batch.failure.message))
        const search: Search<Rec, P> = { total: batch.total, records: batch.records, params: batch.params }
        yield* job.metrics({ total: batch.total, records: batch.records.length })
        const metrics = definition.metrics === undefined ? ({} as M) : yield* definition.metrics(search)
        if (definition.metrics !== undefined) yield* job.metrics(metrics)
        const next = yield* definition.run(batch.records, {
          listener: definition.name,
          params: batch.params,
          query: definition.query(batch.params),
          total: batch.total,
          metrics,
          runId: job.runId,
          report: job.metrics
        })
        return next === undefined ? batch.params : next
      })
  })
