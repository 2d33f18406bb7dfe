import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Identifier } from "@effect/sql/Statement"
import { Effect } from "effect"
import type { ListenerState } from "../../ListenerStore.js"

/** Where the listener store's table lives: every statement names it schema-qualified. */
export interface Table {
  readonly sql: SqlClient
  readonly schema: string
  readonly state: Identifier
}

// as the job store's schemas: folded names only, so `schema.table` reads back the same everywhere
const schemaPattern = /^[a-z_][a-z0-9_]{0,47}$/

/** Why a schema name cannot be used, or undefined when it can. */
export const invalidSchema = (schema: string): string | undefined =>
  schemaPattern.test(schema)
    ? undefined
    : `schema "${schema}" must be 1 to 48 characters of a-z, 0-9 and _, not starting with a digit`

export const make = (sql: SqlClient, schema: string): Table => ({
  sql,
  schema,
  state: sql(`${schema}.listener_state`)
})

/**
 * Creates the schema and the table if missing. Several processes starting at
 * once take turns on an advisory lock (a bare `create table if not exists`
 * racing another one can still fail on the type it creates). A later change
 * to the table goes here as an idempotent `alter table ... add column if not
 * exists`, after the create.
 */
export const create = (t: Table): Effect.Effect<void, SqlError> =>
  t.sql.withTransaction(Effect.gen(function*() {
    const { sql } = t
    yield* sql`select pg_advisory_xact_lock(hashtext('clockwork.listener'), hashtext(${t.schema}))`
    yield* sql`create schema if not exists ${sql(t.schema)}`
    yield* sql`
      create table if not exists ${t.state} (
        name text primary key,
        params jsonb,
        version bigint not null default 0,
        stopped boolean not null default false,
        owner text,
        lease_until timestamptz,
        ticks bigint not null default 0,
        skipped bigint not null default 0,
        succeeded bigint not null default 0,
        failed bigint not null default 0,
        consecutive_failures integer not null default 0,
        last_tick_at timestamptz,
        last_run_id text,
        last_error text,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`
  }))

/** An int8 as any pool type parser may hand it over. */
type Int8 = string | number | bigint

/** A row as the statements return it (`returning ${columns}`). */
export interface Row {
  readonly name: string
  readonly params: string | null
  readonly version: Int8
  readonly stopped: boolean
  readonly owner: string | null
  readonly lease_until: Int8 | null
  readonly ticks: Int8
  readonly skipped: Int8
  readonly succeeded: Int8
  readonly failed: Int8
  readonly consecutive_failures: number
  readonly last_tick_at: Int8 | null
  readonly last_run_id: string | null
  readonly last_error: string | null
  readonly created_at: Int8
  readonly updated_at: Int8
}

const millisOf = (column: string) => `(extract(epoch from ${column}) * 1000)::int8`

/**
 * The columns every statement returns: instants as epoch milliseconds
 * computed by the server, params as jsonb text parsed here, so the store does
 * not depend on the type parsers the app configured on its pool.
 */
export const columns = (t: Table) =>
  t.sql.literal(
    "name, params::text as params, version, stopped, owner, " +
      `${millisOf("lease_until")} as lease_until, ticks, skipped, succeeded, failed, consecutive_failures, ` +
      `${millisOf("last_tick_at")} as last_tick_at, last_run_id, last_error, ` +
      `${millisOf("created_at")} as created_at, ${millisOf("updated_at")} as updated_at`
  )

/** A row as the store's encoded state (SQL NULL: absent). */
export const toEncoded = (row: Row): typeof ListenerState.Encoded => ({
  name: row.name,
  params: row.params === null ? undefined : JSON.parse(row.params),
  version: Number(row.version),
  stopped: row.stopped,
  ...(row.owner === null ? {} : { owner: row.owner }),
  ...(row.lease_until === null ? {} : { leaseUntil: Number(row.lease_until) }),
  ticks: Number(row.ticks),
  skipped: Number(row.skipped),
  succeeded: Number(row.succeeded),
  failed: Number(row.failed),
  consecutiveFailures: Number(row.consecutive_failures),
  ...(row.last_tick_at === null ? {} : { lastTickAt: Number(row.last_tick_at) }),
  ...(row.last_run_id === null ? {} : { lastRunId: row.last_run_id }),
  ...(row.last_error === null ? {} : { lastError: row.last_error }),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at)
})

/** An epoch-millisecond instant as a `timestamptz` parameter. */
export const instant = (millis: number): Date => new Date(millis)

/** A value as a jsonb parameter (text, cast in SQL); `undefined` becomes SQL NULL. */
export const json = (value: unknown): string | null => value === undefined ? null : JSON.stringify(value)
