/**
 * An `@effect/sql` client on PGlite (PostgreSQL compiled to WASM, running in
 * this process), over PGlite's own API rather than a socket. One PGlite
 * instance is one database session, so the client hands it to one statement or
 * one transaction at a time: a transaction holds the session from BEGIN to
 * COMMIT, and other fibers' statements wait for it instead of landing inside it.
 * So a transaction must not wait for another fiber's statements: they wait for it.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, type Scope, type Stream } from "effect"
import * as internal from "./internal/pglite.js"

/**
 * Marks a `PgliteClient`.
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: typeof internal.TypeId = internal.TypeId

/**
 * The type of `TypeId`.
 *
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A `SqlClient` on one PGlite instance, with its notifications.
 *
 * @since 0.1.0
 * @category models
 */
export interface PgliteClient extends SqlClient.SqlClient {
  readonly [TypeId]: TypeId
  /** where the database lives, or undefined when it is in memory */
  readonly dataDir: string | undefined
  /**
   * The payloads NOTIFYed on `channel` in this instance (PGlite is one
   * session, which hears its own notifications, at commit).
   */
  readonly listen: (channel: string) => Stream.Stream<string, SqlError>
}

/**
 * The client's service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export const PgliteClient: Context.Tag<PgliteClient, PgliteClient> = Context.GenericTag<PgliteClient>(
  "@clockwork/pg/PgliteClient"
)

/**
 * Settings for the PGlite client.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * the directory holding the database, created if missing; in memory when
   * absent. One process at a time: a second one is refused while the first
   * holds it
   */
  readonly dataDir?: string | undefined
  /** added to every statement's span */
  readonly spanAttributes?: Record<string, unknown> | undefined
}

/**
 * Starts PGlite (an existing `dataDir` is opened, a new one initialized) and
 * builds the client on it. The instance closes with the scope, after the
 * statement or transaction in progress.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<PgliteClient, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  internal.make(options ?? {})

/**
 * The client as a layer, under both its own tag and `SqlClient`.
 *
 * @example
 * ```ts
 * const Database = PgliteClient.layer({ dataDir: ".data/app" })
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<PgliteClient | SqlClient.SqlClient, SqlError> =>
  Layer.scopedContext(
    internal.make(options ?? {}).pipe(
      Effect.map((client) => Context.make(PgliteClient, client).pipe(Context.add(SqlClient.SqlClient, client)))
    )
  ).pipe(Layer.provide(Reactivity.layer))
