import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { TickRecord } from "../../ListenerStore.js"
import { columns, instant, json, type Row, type Table } from "./table.js"

/**
 * Counts a tick and renews the lease, only while this owner holds it (a
 * process that lost its lease while its tick ran changes nothing). After a
 * successful run the next params are stored and the version moves on, in the
 * same statement.
 */
export const recordTick = (t: Table, tick: TickRecord): Effect.Effect<Row | undefined, SqlError> => {
  const { sql } = t
  const now = instant(tick.now)
  const changes = tick.outcome === "skipped"
    ? sql`skipped = skipped + 1`
    : tick.outcome === "succeeded"
    ? sql`succeeded = succeeded + 1, params = ${json(tick.params)}::jsonb, version = version + 1,
        consecutive_failures = 0, last_run_id = ${tick.runId}, last_error = null`
    : sql`failed = failed + 1, consecutive_failures = consecutive_failures + 1,
        last_run_id = coalesce(${tick.runId ?? null}, last_run_id), last_error = ${tick.error}`
  return Effect.map(
    sql<Row>`
      update ${t.state}
      set ticks = ticks + 1, last_tick_at = ${now}, updated_at = ${now}, lease_until = ${instant(tick.until)}, ${changes}
      where name = ${tick.name} and owner = ${tick.owner}
      returning ${columns(t)}`,
    (rows) => rows[0]
  )
}
