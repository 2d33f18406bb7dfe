import type { SqlClient } from "@effect/sql/SqlClient"
import type { Fragment, Statement } from "@effect/sql/Statement"
import type { Filter, Query } from "../../SqlSource.js"

/**
 * The WHERE clause of a query: a structured filter (each column equal to its
 * value, in a list, or null), or the app's own fragment. Column names are
 * identifiers and values are bound parameters; nothing is spliced into the text.
 */
export const where = (sql: SqlClient, query: Query): Fragment =>
  typeof query === "function" ? query(sql) : filter(sql, query)

const filter = (sql: SqlClient, query: Filter): Fragment =>
  sql.and(Object.entries(query).map(([column, value]) =>
    value === null
      ? sql`${sql(column)} is null`
      : Array.isArray(value)
      ? sql.in(column, value)
      : sql`${sql(column)} = ${value}`
  ))

const orderBy = (sql: SqlClient, columns: ReadonlyArray<string>, alias?: string) =>
  columns.length === 0
    ? sql``
    : sql`order by ${sql.csv(columns.map((column) => sql`${sql(alias === undefined ? column : `${alias}.${column}`)}`))}`

export interface Table {
  readonly name: string
  readonly orderBy: ReadonlyArray<string>
  readonly limit: number | undefined
}

/**
 * The matching rows (ordered, at most `limit`) as one JSON array, and how many
 * match in all: one statement, so both come from one snapshot. Rows travel as
 * JSON (`json_agg`), which is what the records' Schema decodes.
 */
export const search = (
  sql: SqlClient,
  table: Table,
  query: Query
): Statement<{ readonly total: number; readonly records: unknown }> => {
  const condition = where(sql, query)
  const limit = table.limit === undefined ? sql`` : sql`limit ${table.limit}`
  return sql<{ readonly total: number; readonly records: unknown }>`
    select
      (select count(*) from ${sql(table.name)} where ${condition})::float8 as total,
      coalesce(
        (select json_agg(m ${orderBy(sql, table.orderBy, "m")})
          from (select * from ${sql(table.name)} where ${condition} ${orderBy(sql, table.orderBy)} ${limit}) m),
        '[]'::json
      ) as records`
}

/** How many rows match, loading none. */
export const count = (
  sql: SqlClient,
  table: Table,
  query: Query
): Statement<{ readonly total: number }> =>
  sql<{ readonly total: number }>`select count(*)::float8 as total from ${sql(table.name)} where ${where(sql, query)}`
