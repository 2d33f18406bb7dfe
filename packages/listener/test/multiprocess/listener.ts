/**
 * The listener the multi-process test runs in each process: batches of
 * `<schema>.reviews`, one per tick; each handling is written to
 * `<schema>.handled` so the test can count them across processes.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Listener, SqlSource } from "../../src/index.js"

/** Creates the reviews (`batches` batches of 3) and the table the handler writes to. */
export const createTables = (schema: string, batches: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`create table ${sql(`${schema}.reviews`)} (id integer primary key, batch_id integer not null)`
    yield* sql`create table ${sql(`${schema}.handled`)} (
      batch_id integer not null, reviews integer not null, process text not null, run_id text not null,
      at timestamptz not null default clock_timestamp())`
    for (let id = 0; id < batches * 3; id++) {
      yield* sql`insert into ${sql(`${schema}.reviews`)} values (${id}, ${Math.floor(id / 3)})`
    }
  })

export const make = (schema: string, process: string) =>
  Listener.make({
    name: "uber-reviews",
    source: SqlSource.make({
      table: `${schema}.reviews`,
      records: Schema.Struct({ id: Schema.Number, batch_id: Schema.Number }),
      orderBy: "id"
    }),
    params: Schema.Struct({ batch_id: Schema.Int }),
    initialParams: { batch_id: 0 },
    query: ({ batch_id }) => ({ batch_id }),
    every: "300 millis",
    run: (records, ctx) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`insert into ${sql(`${schema}.handled`)} (batch_id, reviews, process, run_id)
          values (${ctx.params.batch_id}, ${records.length}, ${process}, ${ctx.runId})`
        return { batch_id: ctx.params.batch_id + 1 }
      }).pipe(Effect.orDie)
  })
