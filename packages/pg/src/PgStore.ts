/**
 * clockwork's durable store on PostgreSQL: schedules, the run queue and the
 * run history in one schema, shared by any number of processes. Claims use
 * `FOR UPDATE SKIP LOCKED`, schedule ticks a compare-and-set on the next fire
 * time, and changes wake other processes through LISTEN/NOTIFY.
 *
 * @since 0.1.0
 */
import { JobStore, type StoreError } from "@clockwork/core/JobStore"
import { PgClient, type PgClientConfig } from "@effect/sql-pg/PgClient"
import type { Scope } from "effect"
import { Config, Duration, Effect, Layer } from "effect"
import * as Client from "./internal/client.js"
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
   * interrupted call lets its statement run to its end. The LISTEN
   * connection is asked a query every `statementTimeout` and replaced when it
   * does not answer within it. A silent network path is thus noticed within
   * twice this: keep it under a sixth of `runner.lease`.
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
 * Settings for the app's `PgClient` that the store relies on, to spread into
 * `PgClient.layer`'s: TCP keep-alive on every connection (probes after 10 s of
 * silence; `PgClientConfig` has no such setting, but takes the socket to use)
 * and a 10 s `connectTimeout` (node-postgres waits forever by default, for a
 * new connection and for a free one in the pool). An app's own values win
 * when spread after these.
 *
 * @example
 * ```ts
 * PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!), ...PgStore.clientSettings })
 * ```
 * @since 0.1.0
 * @category client
 */
export const clientSettings: Pick<PgClientConfig, "connectTimeout" | "stream"> = {
  connectTimeout: Client.connectTimeout,
  stream: Client.keepAliveSocket
}

/**
 * `clientSettings` as `Config`s, to spread into `PgClient.layerConfig`'s.
 *
 * @example
 * ```ts
 * PgClient.layerConfig({ url: Config.redacted("DATABASE_URL"), ...PgStore.clientConfig })
 * ```
 * @since 0.1.0
 * @category client
 */
export const clientConfig: {
  readonly connectTimeout: Config.Config<Duration.DurationInput>
  readonly stream: Config.Config<NonNullable<PgClientConfig["stream"]>>
} = {
  connectTimeout: Config.succeed(Client.connectTimeout),
  stream: Config.succeed(Client.keepAliveSocket)
}

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
      listen: Listen.make(pg.config, statementTimeout),
      pollInterval: "2 seconds",
      checkClock: true,
      statementTimeout,
      // node-postgres' default pool size; a pool made with `PgClient.layerFromPool` does not say its own
      connections: pg.config.maxConnections ?? 10
    }, options)
  })

/**
 * The store as a layer; provide a `PgClient` (`PgClient.layer` or
 * `PgClient.layerConfig` from `@effect/sql-pg`, with `clientConfig`).
 *
 * @example
 * ```ts
 * const App = Clockwork.layer([sendNewsletter]).pipe(
 *   Layer.provide(PgStore.layer()),
 *   Layer.provide(PgClient.layerConfig({ url: Config.redacted("DATABASE_URL"), ...PgStore.clientConfig }))
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<JobStore, StoreError, PgClient> =>
  Layer.scoped(JobStore, make(options))
