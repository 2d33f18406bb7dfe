import type { Change } from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { Tables } from "../tables.js"

/** What a notification on the store's channel says changed. */
export type { Change }

/**
 * Wakes every listener of this schema. Inside a transaction PostgreSQL holds the
 * notification until the commit, so a listener never wakes before it can see
 * the rows. `pg_notify` rather than `PgClient.notify`: @effect/sql-pg 0.53 sends
 * `NOTIFY ch, $1`, which PostgreSQL rejects (NOTIFY takes no parameters).
 */
export const notify = (t: Tables, change: Change): Effect.Effect<void, SqlError> =>
  Effect.asVoid(t.sql`select pg_notify(${t.channel}, ${change})`)
