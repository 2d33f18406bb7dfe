/**
 * The notifier's outbox: one record per (alert, channel) with the alert, its
 * state (`pending`, `delivered`, `undelivered` after the last retry) and its
 * attempts. Alerts are written here before the feed's cursor moves, and sent
 * from here, so a restarted or replacing notifier neither loses nor resends
 * what was delivered. `layerMemory` keeps it in the process; `layerSql` in
 * `<schema>.notify_delivery` on PostgreSQL or PGlite.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Effect, Layer, Schema } from "effect"
import * as internalMemory from "./internal/memoryStore.js"
import * as internalSql from "./internal/sqlStore.js"

/**
 * The store could not do what was asked.
 *
 * @since 0.1.0
 * @category errors
 */
export class DeliveryStoreError extends Schema.TaggedError<DeliveryStoreError>()("DeliveryStoreError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `delivery store: ${this.operation} failed: ${this.reason}`
  }
}

/**
 * A delivery of an alert to a channel.
 *
 * @since 0.1.0
 * @category models
 */
export interface Delivery {
  readonly notifier: string
  readonly alertId: string
  readonly channel: string
  /** the alert, encoded (`Alert.encode`) */
  readonly alert: unknown
  readonly status: "pending" | "delivered" | "undelivered"
  readonly attempts: number
  /** epoch ms: when a pending delivery is next tried (or its claim ends) */
  readonly nextAt: number
  readonly lastError?: string | undefined
  /** epoch ms: when the alert was raised */
  readonly createdAt: number
}

/**
 * A new delivery.
 *
 * @since 0.1.0
 * @category models
 */
export interface NewDelivery {
  readonly alertId: string
  readonly channel: string
  readonly alert: unknown
}

/**
 * The store service. Instants are epoch ms from the caller's Clock.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeliveryStore {
  /** adds pending deliveries due now; one that exists already (any state) is left as it is */
  readonly add: (notifier: string, deliveries: ReadonlyArray<NewDelivery>, now: number) => Effect.Effect<void, DeliveryStoreError>
  /**
   * takes up to `limit` pending deliveries due at `now` on these channels, and
   * holds them until `until` (another process takes them after that)
   */
  readonly claim: (
    notifier: string,
    channels: ReadonlyArray<string>,
    now: number,
    until: number,
    limit: number
  ) => Effect.Effect<ReadonlyArray<Delivery>, DeliveryStoreError>
  readonly delivered: (notifier: string, alertId: string, channel: string) => Effect.Effect<void, DeliveryStoreError>
  /** counts a failed attempt: pending again at `retryAt`, or undelivered when there is none */
  readonly failed: (
    notifier: string,
    alertId: string,
    channel: string,
    error: string,
    retryAt: number | undefined
  ) => Effect.Effect<void, DeliveryStoreError>
  /** deletes the delivered and undelivered records of alerts raised before `before`; returns how many */
  readonly prune: (notifier: string, before: number) => Effect.Effect<number, DeliveryStoreError>
  /** the notifier's deliveries, oldest first */
  readonly list: (notifier: string) => Effect.Effect<ReadonlyArray<Delivery>, DeliveryStoreError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const DeliveryStore: Context.Tag<DeliveryStore, DeliveryStore> = Context.GenericTag<DeliveryStore>(
  "@clockwork/notify/DeliveryStore"
)

/**
 * The store in this process (for the memory job store and tests).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<DeliveryStore> = Layer.sync(DeliveryStore, internalMemory.make)

/**
 * Settings for the SQL store.
 *
 * @since 0.1.0
 * @category models
 */
export interface SqlOptions {
  /** the schema holding `notify_delivery` (default "clockwork"): lower-case letters, digits and `_` */
  readonly schema?: string | undefined
}

/**
 * The store in `<schema>.notify_delivery`, created if missing, on the app's
 * `SqlClient` (PostgreSQL or PGlite).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSql = (options?: SqlOptions): Layer.Layer<DeliveryStore, DeliveryStoreError, SqlClient.SqlClient> =>
  Layer.effect(
    DeliveryStore,
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      internalSql.make(sql, options?.schema ?? "clockwork", (operation, reason) => new DeliveryStoreError({ operation, reason })))
  )
