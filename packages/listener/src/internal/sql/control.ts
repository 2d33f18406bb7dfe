import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { columns, instant, json, type Row, type Table } from "./table.js"

/**
 * Stops or resumes a listener, creating its row with the initial params if
 * it has none; resuming clears its failure streak.
 */
export const setStopped = (
  t: Table,
  name: string,
  stopped: boolean,
  now: number,
  params: unknown
): Effect.Effect<Row, SqlError> => {
  const { sql } = t
  const at = instant(now)
  return Effect.map(
    sql<Row>`
      insert into ${t.state} as l (name, params, stopped, created_at, updated_at)
      values (${name}, ${json(params)}::jsonb, ${stopped}, ${at}, ${at})
      on conflict (name) do update
        set stopped = excluded.stopped, updated_at = excluded.updated_at,
          consecutive_failures = case when excluded.stopped then l.consecutive_failures else 0 end
      returning ${columns(t)}`,
    (rows) => rows[0]!
  )
}

/** One listener's row. */
export const get = (t: Table, name: string): Effect.Effect<Row | undefined, SqlError> => {
  const { sql } = t
  return Effect.map(sql<Row>`select ${columns(t)} from ${t.state} where name = ${name}`, (rows) => rows[0])
}
