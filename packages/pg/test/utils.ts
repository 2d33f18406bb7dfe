import { JobStore } from "@clockwork/core"
import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "@effect/sql"
import { Config, Effect, Layer } from "effect"
import { PgStore } from "../src/index.js"

/**
 * The PostgreSQL suites run when DATABASE_URL names a server (`.ci/run` sets
 * it to the local one), so `npm test` needs no server.
 */
export const hasDatabase = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ""

export const url = Config.redacted("DATABASE_URL")

/** A client with its own pool (and its own LISTEN connection): another process, as far as PostgreSQL can tell. */
export const client = PgClient.layerConfig({ url })

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
