/**
 * clockwork's embedded durable store: the PostgreSQL store's SQL and
 * migrations on PGlite (PostgreSQL as WASM in this process), kept in a data
 * directory that survives restarts. One process, no server.
 *
 * @since 0.1.0
 */
import { JobStore, StoreError } from "@clockwork/core/JobStore"
import * as Reactivity from "@effect/experimental/Reactivity"
import { Effect, Layer, type Scope, Stream } from "effect"
import { describe } from "./internal/errors.js"
import * as internal from "./internal/store.js"
import * as PgliteClient from "./PgliteClient.js"
import type * as PgStore from "./PgStore.js"

/**
 * Settings for the embedded store: those of the PostgreSQL store and where
 * the data lives. `pollInterval` defaults to 0 (off): PGlite delivers every
 * notification in the process, there is no connection to lose; and
 * `statementTimeout` to none, as there is no network to go silent.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends PgStore.Options {
  /** the directory holding the database, created if missing; in memory (gone with the process) when absent */
  readonly dataDir?: string | undefined
}

/**
 * Builds the store on the `PgliteClient` in context, so the app's own
 * statements on that client can share a transaction with the store's.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: PgStore.Options
): Effect.Effect<JobStore, StoreError, PgliteClient.PgliteClient | Scope.Scope> =>
  Effect.flatMap(
    PgliteClient.PgliteClient,
    // one session, one statement at a time
    (client) =>
      internal.make({
        sql: client,
        // the one session listens as soon as the stream runs
        listen: (channel, onPayload, onListening) =>
          Effect.zipRight(
            Effect.sync(onListening),
            Stream.runForEach(client.listen(channel), (payload) => Effect.sync(() => onPayload(payload)))
          ),
        pollInterval: 0,
        statementTimeout: undefined,
        connections: 1
      }, options)
  )

/**
 * The embedded store with its own PGlite instance, opened at `dataDir` (or in
 * memory) and closed with the layer.
 *
 * @example
 * ```ts
 * const App = Clockwork.layer([sendNewsletter]).pipe(
 *   Layer.provide(PgliteStore.layer({ dataDir: ".clockwork-data" }))
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<JobStore, StoreError> =>
  Layer.scoped(
    JobStore,
    Effect.gen(function*() {
      const client = yield* PgliteClient.make({ dataDir: options?.dataDir }).pipe(
        Effect.mapError((error) => new StoreError({ operation: "make", message: describe(error), cause: error }))
      )
      return yield* make(options).pipe(Effect.provideService(PgliteClient.PgliteClient, client))
    })
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * The store on the `PgliteClient` the app provides (`PgliteClient.layer`),
 * for apps that keep their own tables in the same PGlite.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options?: PgStore.Options
): Layer.Layer<JobStore, StoreError, PgliteClient.PgliteClient> => Layer.scoped(JobStore, make(options))
