import type { PgClientConfig } from "@effect/sql-pg/PgClient"
import { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Redacted, Stream } from "effect"
import { createRequire } from "node:module"
import type { Listen } from "./changes.js"

/** The part of node-postgres' `Client` a LISTEN connection uses. */
interface Connection {
  connect(): Promise<void>
  query(sql: string): Promise<unknown>
  end(): Promise<void>
  escapeIdentifier(name: string): string
  on(event: "notification", listener: (message: { readonly channel: string; readonly payload?: string }) => void): void
  on(event: "error", listener: (error: Error) => void): void
  on(event: "end", listener: () => void): void
}

// node-postgres ships no types of its own; this module needs only the few members above
const Pg = createRequire(import.meta.url)("pg") as { readonly Client: new(config: object) => Connection }

/**
 * LISTEN on a connection of the store's own, opened with the settings of the
 * app's `PgClient`. `PgClient.listen` (@effect/sql-pg 0.53) keeps its LISTEN
 * connection after PostgreSQL drops it, silently; this stream fails instead,
 * when the connection reports an error or ends, so the change feed can open a
 * new one. TCP keep-alive makes a connection whose peer vanished end too.
 */
export const make = (config: PgClientConfig): Listen => (channel) =>
  Stream.asyncPush<string, SqlError>((emit) =>
    Effect.gen(function*() {
      const connection = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const connection = new Pg.Client(settings(config))
            // attached before connecting: a connection that fails has no one else to tell
            connection.on("error", (cause) => emit.fail(new SqlError({ cause, message: "LISTEN connection lost" })))
            connection.on("end", () => emit.fail(new SqlError({ message: "LISTEN connection ended" })))
            await connection.connect()
            return connection
          },
          catch: (cause) => new SqlError({ cause, message: "could not open a LISTEN connection" })
        }),
        // a connection whose peer is gone may never answer the goodbye
        (connection) =>
          Effect.promise(() => connection.end().catch(() => undefined)).pipe(
            Effect.interruptible,
            Effect.timeoutOption("1 second")
          )
      )
      connection.on("notification", (message) => {
        if (message.channel === channel) emit.single(message.payload ?? "")
      })
      yield* Effect.tryPromise({
        try: () => connection.query(`LISTEN ${connection.escapeIdentifier(channel)}`),
        catch: (cause) => new SqlError({ cause, message: `could not LISTEN ${channel}` })
      })
    })
  )

const settings = (config: PgClientConfig) => ({
  connectionString: config.url === undefined ? undefined : Redacted.value(config.url),
  host: config.host,
  port: config.port,
  database: config.database,
  user: config.username,
  password: config.password === undefined ? undefined : Redacted.value(config.password),
  ssl: config.ssl,
  ...(config.stream === undefined ? {} : { stream: config.stream }),
  connectionTimeoutMillis: config.connectTimeout === undefined
    ? undefined
    : Duration.toMillis(Duration.decode(config.connectTimeout)),
  application_name: `${config.applicationName ?? "@effect/sql-pg"} (clockwork listen)`,
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000
})
