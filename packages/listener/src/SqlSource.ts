/**
 * A source over a table (or view) of your database, through @effect/sql's
 * `SqlClient`: PostgreSQL (`PgClient` from @effect/sql-pg) or PGlite
 * (`PgliteClient` from @clockwork/pg). A query is a structured filter or a SQL
 * fragment written with the client's tagged template; either way values are
 * bound as parameters, never spliced into the SQL text. `total` is a
 * `count(*)`, and a count-only query loads no rows.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import { Effect, ParseResult, Schema } from "effect"
import { describe } from "./internal/describe.js"
import * as internal from "./internal/sql/search.js"
import * as Source from "./Source.js"

/**
 * A value a structured filter compares a column with.
 *
 * @since 0.1.0
 * @category models
 */
export type Value = string | number | boolean | bigint | Date

/**
 * A structured filter: every column equals its value (`null`: is null; a
 * list: is one of them). `{}` matches every row.
 *
 * @since 0.1.0
 * @category models
 */
export type Filter = { readonly [column: string]: Value | null | ReadonlyArray<Value> }

/**
 * A WHERE clause of your own, written with the client's tagged template so
 * that every interpolated value is a bound parameter.
 *
 * @since 0.1.0
 * @category models
 */
export type Where = (sql: SqlClient.SqlClient) => Fragment

/**
 * What a SQL source is queried with.
 *
 * @example
 * ```ts
 * // a filter
 * const query = ({ batchId }: Params): SqlSource.Query => ({ batch_id: batchId, status: ["new", "flagged"] })
 * // a fragment: ${...} values are bound, as in any @effect/sql statement
 * const byMetadata = ({ batchId }: Params): SqlSource.Query => (sql) =>
 *   sql`(metadata->>'batch_id')::int = ${batchId}`
 * ```
 * @since 0.1.0
 * @category models
 */
export type Query = Filter | Where

/**
 * Settings for a SQL source.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<Rec, I> {
  /** the table or view, optionally schema-qualified ("reviews", "app.reviews") */
  readonly table: string
  /** a row, as PostgreSQL writes it in JSON (`row_to_json`): timestamps as ISO strings, jsonb as JSON */
  readonly records: Schema.Schema<Rec, I>
  /** columns the records are sorted by, ascending */
  readonly orderBy?: string | ReadonlyArray<string>
  /** the most records a search loads (`total` still counts them all); default: no limit */
  readonly limit?: number
  /** default "sql <table>" */
  readonly name?: string
}

/**
 * A source over a table. It needs a `SqlClient` in the app's context.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SqlSource } from "@clockwork/listener"
 *
 * const Review = Schema.Struct({ id: Schema.Number, text: Schema.String, metadata: Schema.Struct({ batch_id: Schema.Number }) })
 *
 * const reviews = SqlSource.make({ table: "reviews", records: Review, orderBy: "id" })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = <Rec, I>(
  options: Options<Rec, I>
): Source.Source<Query, Rec, Source.SourceError, SqlClient.SqlClient> => {
  const name = options.name ?? `sql ${options.table}`
  const table: internal.Table = {
    name: options.table,
    orderBy: options.orderBy === undefined ? [] : typeof options.orderBy === "string" ? [options.orderBy] : options.orderBy,
    limit: options.limit
  }
  const decodeRecords = Schema.decodeUnknown(Schema.Array(options.records))
  const failed = (reason: string) => (cause: unknown) =>
    new Source.SourceError({ source: name, reason: `${reason}: ${describe(cause)}`, cause })
  return {
    name,
    records: options.records,
    search: (query) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [row] = yield* Effect.mapError(internal.search(sql, table, query), failed("the search failed"))
        // a driver that leaves json unparsed hands over its text
        const json = typeof row?.records === "string" ? JSON.parse(row.records) : row?.records ?? []
        const records = yield* decodeRecords(json).pipe(
          Effect.mapError((error) =>
            new Source.SourceError({
              source: name,
              reason: `a row does not match the records' schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
            })
          )
        )
        return { total: Number(row?.total ?? 0), records }
      }),
    count: (query) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.mapError(internal.count(sql, table, query), failed("the count failed")).pipe(
          Effect.map(([row]) => Number(row?.total ?? 0))
        ))
  }
}
