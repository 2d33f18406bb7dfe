import { PgliteClient } from "@clockwork/pg"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { afterAll, beforeAll } from "@effect/vitest"
import { Config, Effect, Layer, ManagedRuntime } from "effect"

/**
 * The PostgreSQL tests run when DATABASE_URL names a server (CI sets it to
 * the local one), so `npm test` needs no server.
 */
export const hasDatabase = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ""

/** A client with its own pool. */
export const pgClient = PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") })

/**
 * One in-memory PGlite per test file (it takes seconds to start), shared by
 * its tests, each in a fresh schema. Call `useSharedPglite()` in the file.
 */
const sharedPglite = ManagedRuntime.make(PgliteClient.layer())

export const useSharedPglite = () => {
  beforeAll(() => sharedPglite.runPromise(Effect.void), 60_000)
  afterAll(() => sharedPglite.dispose())
}

/** The shared PGlite's client (as `PgliteClient` and `SqlClient`). */
export const sharedPgliteClient = Layer.effectContext(Effect.map(sharedPglite.runtimeEffect, (runtime) => runtime.context))

/** A fresh schema name; tests never share one. */
export const freshSchema = () => `cw_n_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`

/** Drops the schema when the scope closes. */
export const dropOnClose = (schema: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.addFinalizer(() => Effect.orDie(sql`drop schema if exists ${sql(schema)} cascade`)))
