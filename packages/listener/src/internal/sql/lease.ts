import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { Lease } from "../../ListenerStore.js"
import { columns, instant, json, type Row, type Table } from "./table.js"

/**
 * Takes the lease in one statement: the row is created with the initial
 * params if missing, and otherwise taken when it is not stopped and its lease
 * is free, this owner's, or expired. A row comes back only when the lease is
 * this owner's now.
 */
export const acquire = (t: Table, lease: Lease, params: unknown): Effect.Effect<Row | undefined, SqlError> => {
  const { sql } = t
  const now = instant(lease.now)
  const until = instant(lease.until)
  return Effect.map(
    sql<Row>`
      insert into ${t.state} as l (name, params, owner, lease_until, created_at, updated_at)
      values (${lease.name}, ${json(params)}::jsonb, ${lease.owner}, ${until}, ${now}, ${now})
      on conflict (name) do update
        set owner = excluded.owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at
        where not l.stopped and (l.owner is null or l.owner = excluded.owner or l.lease_until <= ${now})
      returning ${columns(t)}`,
    (rows) => rows[0]
  )
}

/** Extends the lease while this owner holds it and the listener is not stopped. */
export const renew = (t: Table, lease: Lease): Effect.Effect<boolean, SqlError> => {
  const { sql } = t
  return Effect.map(
    sql`
      update ${t.state} set lease_until = ${instant(lease.until)}
      where name = ${lease.name} and owner = ${lease.owner} and not stopped
      returning name`,
    (rows) => rows.length > 0
  )
}

/** Gives the lease up, if this owner still holds it. */
export const release = (t: Table, name: string, owner: string): Effect.Effect<void, SqlError> => {
  const { sql } = t
  return Effect.asVoid(sql`update ${t.state} set owner = null, lease_until = null where name = ${name} and owner = ${owner}`)
}
