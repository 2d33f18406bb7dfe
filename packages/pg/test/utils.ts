import { JobStore } from "@clockwork/core"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { afterAll, beforeAll } from "@effect/vitest"
import { Config, Effect, Layer, ManagedRuntime } from "effect"
import { PgliteClient, PgliteStore, PgStore } from "../src/index.js"

/**
 * The PostgreSQL suites run when DATABASE_URL names a server (`.ci/run` sets
 * it to the local one), so `npm test` needs no server.
 */
export const hasDatabase = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ""

export const url = Config.redacted("DATABASE_URL")

/**
 * A client with its own pool (and its own LISTEN connection): another process,
 * as far as PostgreSQL can tell. With the settings the store documents.
 */
export const client = PgClient.layerConfig({ url, ...PgStore.clientConfig })

/** A fresh schema name; tests never share one. */
export const freshSchema = () => `cw_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`

/** Drops the schema when the scope closes. */
export const dropOnClose = (schema: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.addFinalizer(() => Effect.orDie(sql`drop schema if exists ${sql(schema)} cascade`)))

/**
 * A store on a fresh, migrated schema, dropped when the layer's scope closes:
 * every build is an empty store, as the conformance suite requires.
 */
export const freshStore = (options?: Omit<PgStore.Options, "schema">) =>
  Layer.scoped(
    JobStore.JobStore,
    Effect.gen(function*() {
      const schema = freshSchema()
      yield* dropOnClose(schema)
      return yield* PgStore.make({ ...options, schema })
    })
  ).pipe(Layer.provide(client))

/**
 * One in-memory PGlite per test file: it takes seconds to start, so its
 * stores share it, each in a fresh schema (every statement names its schema).
 * Call `useSharedPglite()` in the file to start it first and close it last.
 */
export const sharedPglite = ManagedRuntime.make(PgliteClient.layer())

export const useSharedPglite = () => {
  beforeAll(() => sharedPglite.runPromise(Effect.void), 60_000)
  afterAll(() => sharedPglite.dispose())
}

/** The shared PGlite's client as a layer. */
export const sharedPgliteClient = Layer.effectContext(Effect.map(sharedPglite.runtimeEffect, (runtime) => runtime.context))

/** A store on a fresh schema of the shared PGlite, dropped when the layer's scope closes. */
export const freshPgliteStore = (options?: Omit<PgStore.Options, "schema">) =>
  Layer.scoped(
    JobStore.JobStore,
    Effect.gen(function*() {
      const schema = freshSchema()
      yield* dropOnClose(schema)
      return yield* PgliteStore.make({ ...options, schema })
    })
  ).pipe(Layer.provide(sharedPgliteClient))
