/**
 * Where listeners keep what must outlive a process: each listener's current
 * params, whether it is stopped, its tick counters, and a lease on its name
 * so that one process at a time polls it. `layerMemory` keeps it in the
 * process; `layerSql` in a table of your database (PostgreSQL or PGlite),
 * shared by every process of the app.
 *
 * Instants cross this interface as epoch milliseconds taken from Effect's
 * Clock by the caller, so a store never reads the time itself.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { describe } from "./internal/describe.js"
import * as internalMemory from "./internal/memoryStore.js"
import * as internalSql from "./internal/sqlStore.js"

/**
 * The store could not do what was asked (connection lost, table missing).
 *
 * @since 0.1.0
 * @category errors
 */
export class ListenerStoreError extends Schema.TaggedError<ListenerStoreError>()("ListenerStoreError", {
  operation: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `listener store: ${this.operation} failed: ${this.reason}`
  }
}

/**
 * A listener's durable state.
 *
 * @since 0.1.0
 * @category models
 */
export class ListenerState extends Schema.Class<ListenerState>("ListenerState")({
  name: Schema.String,
  /** the params for the next tick, encoded with the listener's params Schema */
  params: Schema.Unknown,
  /** how many times the params were stored after a run: a run is enqueued for one version */
  version: Schema.Number,
  /** stopped listeners are polled by no process until resumed */
  stopped: Schema.Boolean,
  /** the process holding the lease, if any */
  owner: Schema.optional(Schema.String),
  leaseUntil: Schema.optional(Schema.DateTimeUtcFromNumber),
  /** ticks that searched (by any process) */
  ticks: Schema.Number,
  /** ticks whose condition was false: no run */
  skipped: Schema.Number,
  /** ticks whose run succeeded (the params were stored) */
  succeeded: Schema.Number,
  /** ticks whose search or run failed */
  failed: Schema.Number,
  consecutiveFailures: Schema.Number,
  lastTickAt: Schema.optional(Schema.DateTimeUtcFromNumber),
  lastRunId: Schema.optional(Schema.String),
  /** the last failure's message, cleared by a success */
  lastError: Schema.optional(Schema.String),
  createdAt: Schema.DateTimeUtcFromNumber,
  updatedAt: Schema.DateTimeUtcFromNumber
}) {}

/**
 * A request for the lease on a listener's name.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly name: string
  readonly owner: string
  readonly now: number
  /** the lease holds until then unless renewed */
  readonly until: number
}

/**
 * What one tick of the holder did, written only while it still holds the
 * lease (which the write also renews).
 *
 * @since 0.1.0
 * @category models
 */
export type TickRecord = Lease & (
  | { readonly outcome: "skipped" }
  | {
    readonly outcome: "succeeded"
    /** the next params, encoded */
    readonly params: unknown
    readonly runId: string
  }
  | { readonly outcome: "failed"; readonly runId: string | undefined; readonly error: string }
)

/**
 * The listener store service. Every operation is one atomic step.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListenerStore {
  /**
   * Takes the lease on a listener's name, creating its row with `params` if
   * there is none. Returns the state when the lease is this owner's now; none
   * when the listener is stopped or another owner's lease has not expired.
   */
  readonly acquire: (
    lease: Lease,
    params: unknown
  ) => Effect.Effect<Option.Option<ListenerState>, ListenerStoreError>
  /** extends a lease this owner holds; false when it no longer holds it (or the listener was stopped) */
  readonly renew: (lease: Lease) => Effect.Effect<boolean, ListenerStoreError>
  /** gives up a lease this owner holds, so another process may take it at once */
  readonly release: (name: string, owner: string) => Effect.Effect<void, ListenerStoreError>
  /** counts a tick (and stores the next params after a success); none when this owner lost the lease */
  readonly recordTick: (tick: TickRecord) => Effect.Effect<Option.Option<ListenerState>, ListenerStoreError>
  /**
   * stops or resumes a listener everywhere (creating its row with `params` if
   * there is none); resuming clears its failure streak
   */
  readonly setStopped: (
    name: string,
    stopped: boolean,
    now: number,
    params: unknown
  ) => Effect.Effect<ListenerState, ListenerStoreError>
  readonly get: (name: string) => Effect.Effect<Option.Option<ListenerState>, ListenerStoreError>
}

/**
 * The store service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export const ListenerStore: Context.Tag<ListenerStore, ListenerStore> = Context.GenericTag<ListenerStore>(
  "@clockwork/listener/ListenerStore"
)

/**
 * What a backend supplies: the same operations on plain rows (a state in its
 * encoded form, instants as epoch milliseconds), failing with whatever its
 * driver fails with. `makeEncoded` turns it into the service, so decoding and
 * error reporting live here once.
 *
 * @since 0.1.0
 * @category models
 */
export interface Encoded {
  readonly acquire: (lease: Lease, params: unknown) => Effect.Effect<typeof ListenerState.Encoded | undefined, unknown>
  readonly renew: (lease: Lease) => Effect.Effect<boolean, unknown>
  readonly release: (name: string, owner: string) => Effect.Effect<void, unknown>
  readonly recordTick: (tick: TickRecord) => Effect.Effect<typeof ListenerState.Encoded | undefined, unknown>
  readonly setStopped: (
    name: string,
    stopped: boolean,
    now: number,
    params: unknown
  ) => Effect.Effect<typeof ListenerState.Encoded, unknown>
  readonly get: (name: string) => Effect.Effect<typeof ListenerState.Encoded | undefined, unknown>
}

/**
 * Builds the service on a backend.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeEncoded = (encoded: Encoded): ListenerStore => {
  const decode = Schema.decodeUnknown(ListenerState)
  const fail = (operation: string) => (cause: unknown) =>
    new ListenerStoreError({ operation, reason: describe(cause), cause })
  const state = (operation: string) =>
  <E, R>(
    effect: Effect.Effect<typeof ListenerState.Encoded | undefined, E, R>
  ): Effect.Effect<Option.Option<ListenerState>, ListenerStoreError, R> =>
    Effect.flatMap(
      Effect.mapError(effect, fail(operation)),
      (row) => row === undefined ? Effect.succeedNone : Effect.asSome(Effect.mapError(decode(row), fail(operation)))
    )
  return {
    acquire: (lease, params) => state("acquire")(encoded.acquire(lease, params)),
    renew: (lease) => Effect.mapError(encoded.renew(lease), fail("renew")),
    release: (name, owner) => Effect.mapError(encoded.release(name, owner), fail("release")),
    recordTick: (tick) => state("recordTick")(encoded.recordTick(tick)),
    setStopped: (name, stopped, now, params) =>
      Effect.flatMap(
        Effect.mapError(encoded.setStopped(name, stopped, now, params), fail("setStopped")),
        (row) => Effect.mapError(decode(row), fail("setStopped"))
      ),
    get: (name) => state("get")(encoded.get(name))
  }
}

/**
 * A store in this process: for tests and single-process apps on the memory
 * job store. Nothing survives the process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<ListenerStore> = Effect.sync(() => makeEncoded(internalMemory.make()))

/**
 * The memory store as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<ListenerStore> = Layer.effect(ListenerStore, makeMemory)

/**
 * Settings for the SQL store.
 *
 * @since 0.1.0
 * @category models
 */
export interface SqlOptions {
  /**
   * the schema holding the `listener_state` table (default "clockwork", the
   * job store's): lower-case letters, digits and `_`
   */
  readonly schema?: string | undefined
}

/**
 * A store in the table `<schema>.listener_state`, created if missing (safe
 * when several processes start at once), on the app's `SqlClient`
 * (PostgreSQL through `PgClient`, or `PgliteClient`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSql = (
  options?: SqlOptions
): Effect.Effect<ListenerStore, ListenerStoreError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      Effect.mapError(
        internalSql.make(sql, options?.schema ?? "clockwork"),
        (cause) => new ListenerStoreError({ operation: "make", reason: describe(cause), cause })
      ),
      makeEncoded
    ))

/**
 * The SQL store as a layer.
 *
 * @example
 * ```ts
 * const Listeners = Listener.layer([uberReviews]).pipe(
 *   Layer.provide(ListenerStore.layerSql()),
 *   Layer.provide(PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") }))
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerSql = (
  options?: SqlOptions
): Layer.Layer<ListenerStore, ListenerStoreError, SqlClient.SqlClient> => Layer.effect(ListenerStore, makeSql(options))
