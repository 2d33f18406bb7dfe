/**
 * The jobs the multi-process tests run. Each execution is written to
 * `<schema>.executions` so the test can count executions across processes.
 */
import { Job, Workflow } from "@clockwork/core"
import { SqlClient } from "@effect/sql"
import { Effect, Schedule, Schema } from "effect"

/** Creates the table the jobs write their executions to. */
export const createExecutions = (schema: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`create table if not exists ${sql(schema)}.executions (
      run_id text not null, job text not null, worker text not null, attempt int not null,
      scheduled_for timestamptz not null, at timestamptz not null default now())`)

const record = (schema: string, worker: string, job: string, ctx: Job.JobContext) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`insert into ${sql(schema)}.executions (run_id, job, worker, attempt, scheduled_for)
      values (${ctx.runId}, ${job}, ${worker}, ${ctx.attempt}, ${ctx.scheduledFor})`).pipe(Effect.orDie)

/** The jobs of one process, recording into `schema` under its worker id. */
export const jobs = (schema: string, worker: string) => {
  const noop = Job.make({
    name: "noop",
    payload: Schema.Struct({ n: Schema.Number }),
    run: (_, ctx) => record(schema, worker, "noop", ctx)
  })
  const slow = Job.make({
    name: "slow",
    payload: Schema.Struct({ seconds: Schema.Number }),
    // the execution is recorded before the sleep, so a killed attempt is still counted
    run: ({ seconds }, ctx) => Effect.zipRight(record(schema, worker, "slow", ctx), Effect.sleep(`${seconds} seconds`))
  })
  // touches no database: it succeeds whatever happens to the store meanwhile
  const nap = Job.make({
    name: "nap",
    payload: Schema.Struct({ millis: Schema.Number }),
    run: ({ millis }) => Effect.sleep(`${millis} millis`)
  })
  const tick = Job.make({
    name: "tick",
    payload: Schema.Struct({}),
    run: (_, ctx) => record(schema, worker, "tick", ctx)
  })
  // a run that kills its process: a handler calling process.exit, a native crash, an OOM kill
  const exit = Job.make({
    name: "exit",
    payload: Schema.Struct({}),
    retry: Schedule.recurs(2),
    run: (_, ctx) => Effect.zipRight(record(schema, worker, "exit", ctx), Effect.sync(() => process.exit(1)))
  })
  // a fiber job that never yields: its timeout cannot fire, nor can anything else on the thread
  const block = Job.make({
    name: "block",
    payload: Schema.Struct({}),
    timeout: "1 second",
    retry: Schedule.recurs(2),
    run: (_, ctx) =>
      Effect.zipRight(
        record(schema, worker, "block", ctx),
        Effect.sync(() => {
          for (;;) Math.sqrt(Math.random())
        })
      )
  })
  // a long job whose finalizer leaves a trace, for cancellation
  const long = Job.make({
    name: "long",
    payload: Schema.Struct({ seconds: Schema.Number }),
    run: ({ seconds }, ctx) =>
      Effect.zipRight(record(schema, worker, "long", ctx), Effect.sleep(`${seconds} seconds`)).pipe(
        Effect.zipRight(record(schema, worker, "long-finished", ctx)),
        Effect.onInterrupt(() => record(schema, worker, "long-interrupted", ctx))
      )
  })
  // four steps, each recorded as `checkout-<n>` when it runs; the third is slow (a process can be
  // killed in it); then it waits for the signal "approved" and records `checkout-approved`
  const step = (n: number, ctx: Job.JobContext, seconds = 0) =>
    Workflow.step(
      `step-${n}`,
      Effect.zipRight(record(schema, worker, `checkout-${n}`, ctx), Effect.sleep(`${seconds} seconds`)),
      { success: Schema.Void }
    )
  const checkout = Workflow.make({
    name: "checkout",
    payload: Schema.Struct({ seconds: Schema.Number }),
    success: Schema.String,
    run: ({ seconds }, ctx) =>
      Effect.gen(function*() {
        yield* step(1, ctx)
        yield* step(2, ctx)
        yield* step(3, ctx, seconds)
        yield* step(4, ctx)
        const by = yield* Workflow.signal("approved", Schema.Struct({ by: Schema.String }))
        yield* Workflow.step("approved", record(schema, worker, "checkout-approved", ctx))
        return by.by
      })
  })
  return [noop, slow, tick, nap, exit, block, long, checkout] as const
}
