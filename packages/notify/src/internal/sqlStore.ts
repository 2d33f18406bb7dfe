import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { Delivery, DeliveryStore, DeliveryStoreError } from "../DeliveryStore.js"

// folded names only, so `schema.table` reads back the same everywhere (as the job store's schemas)
const schemaPattern = /^[a-z_][a-z0-9_]{0,47}$/

interface Row {
  readonly notifier: string
  readonly alert_id: string
  readonly channel: string
  readonly alert: string
  readonly status: Delivery["status"]
  readonly attempts: number
  readonly next_at: string | number
  readonly last_error: string | null
  readonly created_at: string | number
}

const toDelivery = (row: Row): Delivery => ({
  notifier: row.notifier,
  alertId: row.alert_id,
  channel: row.channel,
  alert: JSON.parse(row.alert),
  status: row.status,
  attempts: Number(row.attempts),
  nextAt: Number(row.next_at),
  ...(row.last_error === null ? {} : { lastError: row.last_error }),
  createdAt: Number(row.created_at)
})

/**
 * The store on an @effect/sql client, creating its table first (under an
 * advisory lock: processes starting at once take turns). Instants are kept as
 * epoch ms (`int8`): they only ever come from the callers' Clock. `error`
 * builds the facade's error (this module imports it as a type only).
 */
export const make = (
  client: SqlClient,
  schema: string,
  error: (operation: string, reason: string) => DeliveryStoreError
): Effect.Effect<DeliveryStore, DeliveryStoreError> =>
  Effect.gen(function*() {
    const fail = (operation: string) => (cause: unknown) =>
      error(operation, cause instanceof Error ? cause.message : String(cause))
    if (!schemaPattern.test(schema)) {
      return yield* Effect.fail(
        error("make", `schema "${schema}" must be 1 to 48 characters of a-z, 0-9 and _, not starting with a digit`)
      )
    }
    const sql = client.withoutTransforms()
    const table = sql(`${schema}.notify_delivery`)
    const columns = sql.literal("notifier, alert_id, channel, alert::text as alert, status, attempts, next_at, last_error, created_at")
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`select pg_advisory_xact_lock(hashtext('clockwork.notify'), hashtext(${schema}))`
      yield* sql`create schema if not exists ${sql(schema)}`
      yield* sql`
        create table if not exists ${table} (
          notifier text not null,
          alert_id text not null,
          channel text not null,
          alert jsonb not null,
          status text not null default 'pending',
          attempts integer not null default 0,
          next_at int8 not null,
          last_error text,
          created_at int8 not null,
          primary key (notifier, alert_id, channel)
        )`
      yield* sql`create index if not exists notify_delivery_pending on ${table} (notifier, next_at) where status = 'pending'`
    })).pipe(Effect.mapError(fail("make")))

    return {
      add: (notifier, deliveries, now) =>
        deliveries.length === 0 ? Effect.void : sql`
          insert into ${table} (notifier, alert_id, channel, alert, next_at, created_at)
          select ${notifier}, d.alert_id, d.channel, d.alert::jsonb, ${now}, ${now}
          from jsonb_to_recordset(${JSON.stringify(deliveries.map((d) => ({ alert_id: d.alertId, channel: d.channel, alert: JSON.stringify(d.alert) })))}::jsonb)
            as d(alert_id text, channel text, alert text)
          on conflict do nothing`.pipe(Effect.asVoid, Effect.mapError(fail("add"))),
      claim: (notifier, channels, now, until, limit) =>
        channels.length === 0 ? Effect.succeed([]) : sql<Row>`
          update ${table} set next_at = ${until}
          where (notifier, alert_id, channel) in (
            select notifier, alert_id, channel from ${table}
            where notifier = ${notifier} and status = 'pending' and next_at <= ${now} and channel in ${sql.in(channels)}
            order by next_at limit ${limit}
            for update skip locked
          )
          returning ${columns}`.pipe(Effect.map((rows) => rows.map(toDelivery)), Effect.mapError(fail("claim"))),
      delivered: (notifier, alertId, channel) =>
        sql`
          update ${table} set status = 'delivered', attempts = attempts + 1
          where notifier = ${notifier} and alert_id = ${alertId} and channel = ${channel}`.pipe(
          Effect.asVoid,
          Effect.mapError(fail("delivered"))
        ),
      failed: (notifier, alertId, channel, error, retryAt) =>
        sql`
          update ${table} set attempts = attempts + 1, last_error = ${error},
            status = ${retryAt === undefined ? "undelivered" : "pending"}, next_at = coalesce(${retryAt ?? null}::int8, next_at)
          where notifier = ${notifier} and alert_id = ${alertId} and channel = ${channel}`.pipe(
          Effect.asVoid,
          Effect.mapError(fail("failed"))
        ),
      prune: (notifier, before) =>
        sql<{ readonly n: number }>`
          with deleted as (
            delete from ${table} where notifier = ${notifier} and status <> 'pending' and created_at < ${before}
            returning 1
          )
          select count(*)::int as n from deleted`.pipe(Effect.map((rows) => rows[0]?.n ?? 0), Effect.mapError(fail("prune"))),
      list: (notifier) =>
        sql<Row>`select ${columns} from ${table} where notifier = ${notifier} order by created_at, alert_id, channel`.pipe(
          Effect.map((rows) => rows.map(toDelivery)),
          Effect.mapError(fail("list"))
        )
    }
  })
