import type { SqlClient } from "@effect/sql/SqlClient"
import type { Identifier } from "@effect/sql/Statement"

/**
 * Where one store's tables live. Every statement names its tables through
 * these schema-qualified identifiers instead of relying on `search_path`: the
 * pool hands each statement any connection, and the app may share that pool
 * for its own queries, so a per-connection setting would be neither reliable
 * nor private.
 */
export interface Tables {
  readonly sql: SqlClient
  readonly schema: string
  readonly schedules: Identifier
  readonly runs: Identifier
  readonly history: Identifier
  readonly workers: Identifier
  /** the run feed's schedule entries (its attempt entries are the history's rows) */
  readonly scheduleChanges: Identifier
  /** the run feed's named consumers: cursor and lease */
  readonly feedConsumers: Identifier
  /** workflow runs' journals */
  readonly steps: Identifier
  /** "schema.clockwork_migrations", as the Migrator takes it */
  readonly migrations: string
  /** the LISTEN/NOTIFY channel: per schema, so two schemas never wake each other */
  readonly channel: string
}

// lower case only: the Migrator reads `schema.table` back through `::regclass`,
// which folds unquoted names; and the channel name must stay under 64 bytes
const schemaPattern = /^[a-z_][a-z0-9_]{0,47}$/

/** Why a schema name cannot be used, or undefined when it can. */
export const invalidSchema = (schema: string): string | undefined =>
  schemaPattern.test(schema)
    ? undefined
    : `schema "${schema}" must be 1 to 48 characters of a-z, 0-9 and _, not starting with a digit`

export const make = (sql: SqlClient, schema: string): Tables => ({
  sql,
  schema,
  schedules: sql(`${schema}.schedules`),
  runs: sql(`${schema}.runs`),
  history: sql(`${schema}.run_history`),
  workers: sql(`${schema}.workers`),
  scheduleChanges: sql(`${schema}.schedule_changes`),
  feedConsumers: sql(`${schema}.feed_consumers`),
  steps: sql(`${schema}.workflow_steps`),
  migrations: `${schema}.clockwork_migrations`,
  channel: `clockwork:${schema}`
})
