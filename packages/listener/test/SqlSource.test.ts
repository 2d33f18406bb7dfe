/**
 * The SQL source on PGlite and on PostgreSQL (when DATABASE_URL is set):
 * filters, fragments, count-only queries, limits, and values that would be
 * SQL if they were spliced into the text.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, type Layer, Schema } from "effect"
import * as SearchSql from "../src/internal/sql/search.js"
import { SqlSource } from "../src/index.js"
import { dropOnClose, freshSchema, hasDatabase, pgClient, sharedPgliteClient, useSharedPglite } from "./utils.js"

const Review = Schema.Struct({
  id: Schema.Number,
  text: Schema.String,
  status: Schema.String,
  created_at: Schema.DateFromString,
  metadata: Schema.Struct({ batch_id: Schema.Number })
})

const hostile = "'; drop table reviews; --"

/** A fresh schema with a `reviews` table: batches 0 and 1 of 3 reviews, one of them flagged. */
const setup = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const schema = freshSchema()
  yield* dropOnClose(schema)
  yield* sql`create schema ${sql(schema)}`
  const table = `${schema}.reviews`
  yield* sql`create table ${sql(table)} (
    id integer primary key, text text not null, status text not null, created_at timestamptz not null,
    metadata jsonb not null)`
  for (let id = 1; id <= 6; id++) {
    const batch = id <= 3 ? 0 : 1
    yield* sql`insert into ${sql(table)} ${
      sql.insert({
        id,
        text: `review ${id}`,
        status: id === 2 ? "flagged" : "new",
        created_at: new Date(Date.UTC(2025, 0, id)),
        metadata: JSON.stringify({ batch_id: batch })
      })
    }`
  }
  return { sql, table }
})

const rowCount = (sql: SqlClient.SqlClient, table: string) =>
  Effect.map(sql<{ readonly n: number }>`select count(*)::int as n from ${sql(table)}`, (rows) => rows[0]!.n)

const suite = (client: () => Layer.Layer<SqlClient.SqlClient, unknown>) => {
  const run = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient | import("effect").Scope.Scope>) =>
    effect.pipe(Effect.scoped, Effect.provide(client()))

  it.effect("a structured filter: equality, lists and null, ordered, total by count", () =>
    run(Effect.gen(function*() {
      const { table } = yield* setup
      const source = SqlSource.make({ table, records: Review, orderBy: "id" })
      const flagged = yield* source.search({ status: "flagged" })
      expect(flagged.total).toBe(1)
      expect(flagged.records.map((r) => [r.id, r.text, r.created_at.toISOString(), r.metadata.batch_id])).toEqual([
        [2, "review 2", "2025-01-02T00:00:00.000Z", 0]
      ])
      const some = yield* source.search({ id: [5, 1, 3], status: "new" })
      expect(some.records.map((r) => r.id)).toEqual([1, 3, 5])
      expect((yield* source.search({ id: [] })).total).toBe(0)
      expect((yield* source.search({ status: null })).total).toBe(0)
      expect((yield* source.search({})).total).toBe(6)
    })))

  it.effect("a fragment over a jsonb field, with its values bound", () =>
    run(Effect.gen(function*() {
      const { table } = yield* setup
      const source = SqlSource.make({ table, records: Review, orderBy: ["id"] })
      const batch = (batchId: number): SqlSource.Query => (sql) => sql`(metadata->>'batch_id')::int = ${batchId}`
      const found = yield* source.search(batch(1))
      expect([found.total, found.records.map((r) => r.id)]).toEqual([3, [4, 5, 6]])
      expect(yield* source.count(batch(0))).toBe(3)
      expect(yield* source.count(batch(2))).toBe(0)
    })))

  it.effect("a limit caps the records loaded, not the total", () =>
    run(Effect.gen(function*() {
      const { table } = yield* setup
      const source = SqlSource.make({ table, records: Review, orderBy: "id", limit: 2 })
      const found = yield* source.search({ status: "new" })
      expect(found.total).toBe(5)
      expect(found.records.map((r) => r.id)).toEqual([1, 3])
    })))

  it.effect(`a param value ${hostile} is bound as a value: nothing matches, and the table is still there`, () =>
    run(Effect.gen(function*() {
      const { sql, table } = yield* setup
      const source = SqlSource.make({ table, records: Review })
      expect((yield* source.search({ status: hostile })).total).toBe(0)
      expect(yield* source.count({ text: hostile })).toBe(0)
      expect(yield* source.count((sql) => sql`text = ${hostile} or status = ${hostile}`)).toBe(0)
      expect(yield* rowCount(sql, table)).toBe(6)
      // the value never reaches the SQL text: it is a parameter
      const [text, params] = SearchSql.search(sql, { name: table, orderBy: [], limit: undefined }, { status: hostile })
        .compile()
      expect(text).not.toContain("drop table")
      expect(params).toContain(hostile)
      // nor does a column name escape its quotes
      const error = yield* Effect.flip(source.count({ [`status" = '' or 1=1; drop table reviews; --`]: "x" }))
      expect(error._tag).toBe("SourceError")
      expect(yield* rowCount(sql, table)).toBe(6)
    })))

  it.effect("a count-only query loads no rows; a row that does not match the Schema, or a bad table, is a SourceError", () =>
    run(Effect.gen(function*() {
      const { table } = yield* setup
      expect(yield* SqlSource.make({ table, records: Review }).count({ status: "new" })).toBe(5)
      const strict = SqlSource.make({ table, records: Schema.Struct({ id: Schema.String }) })
      const mismatch = yield* Effect.flip(strict.search({}))
      expect(mismatch._tag).toBe("SourceError")
      expect(mismatch.message).toContain("does not match the records' schema")
      const missing = yield* Effect.flip(SqlSource.make({ table: `${table}_gone`, records: Review }).count({}))
      expect(missing.message).toContain(`source "sql ${table}_gone" failed`)
      expect(missing.message).toContain("does not exist")
    })))
}

describe("SqlSource on PGlite", () => {
  useSharedPglite()
  suite(() => sharedPgliteClient)
})

describe.runIf(hasDatabase)("SqlSource on PostgreSQL", () => {
  suite(() => pgClient)
})
