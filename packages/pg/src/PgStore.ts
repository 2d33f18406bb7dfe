/**
 * clockwork's durable store on PostgreSQL: schedules, the run queue and the
 * run history in one schema, shared by any number of processes. Claims use
 * `FOR UPDATE SKIP LOCKED`, schedule ticks a compare-and-set on the next fire
 * time, and changes wake other processes through LISTEN/NOTIFY.
 *
 * @since 0.1.0
 */
import { JobStore, type StoreError } from "@clockwork/core/JobStore"
import { PgClient } from "@effect/sql-pg/PgClient"
import type { Scope } from "effect"
import { Duration, Effect, Layer } from "effect"
import * as Listen from "./internal/listen.js"
import * as internal from "./internal/store.js"

/**
 * Settings for the PostgreSQL store.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * the schema holding the tables (default "clockwork"): lower-case letters,
   * digits and `_`; two schemas are two independent stores
   */
  readonly schema?: string | undefined
  /** bring the schema up to date when the store starts (default true) */
  readonly migrate?: boolean | undefined
  /**
   * how often subscribers to `changes` wake without a notification (default 2
   * seconds): the most a LISTEN connection that died without a word can delay
   * a run; 0 turns it off
   */
  readonly pollInterval?: Duration.DurationInput | undefined
  /**
   * the most this machine's clock may differ from the database server's before
   * the store warns at start-up (default 1 second); see the README
   */
  readonly maxClockSkew?: Duration.DurationInput | undefined
  /**
   * the most a call waits for the database's answer (default 15 seconds;
   * a bulk enqueue gets a second more per 5,000 runs). Then it fails with a
   * `StoreError`, and the engine logs an outage; the statement is not
   * cancelled and may still complete. Statements are never cancelled: an
   * interrupted call lets its statement run to its end.
   */
  readonly statementTimeout?: Duration.DurationInput | undefined
}

/**
 * The `statementTimeout` of a store whose options set none.
 *
 * @since 0.1.0
 * @category models
 */
export const defaultStatementTimeout: Duration.Duration = Duration.seconds(15)

/**
 * Creates or updates the schema and its tables. Idempotent, and safe when many
 * processes run it at once (they take turns on an advisory lock). Returns the
 * migrations it applied.
 *
 * @example
 * ```ts
 * // a deploy step, with the app's stores started with `migrate: false`
 * yield* PgStore.migrate({ schema: "clockwork" })
 * ```
 * @since 0.1.0
 * @category migrations
 */
export const migrate = (
  options?: Pick<Options, "schema">
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, StoreError, PgClient> =>
  Effect.flatMap(PgClient, (pg) => internal.migrateOnly(pg, options))

/**
 * Builds the store on the app's `PgClient` (migrating first unless told not
 * to). The change feed's LISTEN connection lives as long as the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<JobStore, StoreError, PgClient | Scope.Scope> =>
  Effect.flatMap(PgClient, (pg) => {
    const statementTimeout = Duration.decode(options?.statementTimeout ?? defaultStatementTimeout)
    return internal.make({
      sql: pg,
      listen: Listen.make(pg.config),
      pollInterval: "2 seconds",
      checkClock: true,
      statementTimeout,
      // node-postgres' default pool size; a pool made with `PgClient.layerFromPool` does not say its own
      connections: pg.config.maxConnections ?? 10
    }, options)
  })

/**
 * The store as a layer; provide a `PgClient` (`PgClient.layer` or
 * `PgClient.layerConfig` from `@effect/sql-pg`).
 *
 * @example
 * ```ts
 * const App = Clockwork.layer([sendNewsletter]).pipe(
 *   Layer.provide(PgStore.layer()),
 *   Layer.provide(PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") }))
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<JobStore, StoreError, PgClient> =>
  Layer.scoped(JobStore, make(options))
