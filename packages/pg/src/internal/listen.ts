import type { PgClientConfig } from "@effect/sql-pg/PgClient"
import { SqlError } from "@effect/sql/SqlError"
import { Deferred, Duration, Effect, Exit, Redacted } from "effect"
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
  /** the protocol connection and its socket: destroyed when the peer no longer answers */
  readonly connection: { readonly stream: { destroy(): void } }
}

// node-postgres ships no types of its own; this module needs only the few members above
const Pg = createRequire(import.meta.url)("pg") as { readonly Client: new(config: object) => Connection }

/** How long a connection attempt may take when the `PgClient` sets no `connectTimeout`. */
const defaultConnectTimeout = Duration.seconds(10)

/**
 * TCP keep-alive probes start after this much silence. The operating system
 * sets their interval and count (Linux: 75 s, 9 probes), so they end a
 * connection whose peer vanished only after minutes, and never one whose
 * path still answers TCP but forwards nothing; `answerWithin` covers both.
 */
const keepAliveInitialDelay = Duration.seconds(10)

/**
 * LISTEN on a connection of the store's own, opened with the settings of the
 * app's `PgClient`. `PgClient.listen` (@effect/sql-pg 0.53) keeps its LISTEN
 * connection after PostgreSQL drops it, silently; this fails instead, so the
 * change feed can open a new one, when the connection reports an error or
 * ends, or when it does not answer a query within `answerWithin`: it is asked
 * one every `answerWithin`, so a silent path (nothing reset, nothing
 * forwarded) is noticed within twice that. Payloads go to `onPayload` as the
 * connection delivers them (a stream cost 0.05 ms of CPU a notification).
 */
export const make = (config: PgClientConfig, answerWithin: Duration.Duration): Listen => (channel, onPayload, onListening) =>
  Effect.gen(function*() {
    const ended = yield* Deferred.make<never, SqlError>()
    const end = (error: SqlError) => Deferred.unsafeDone(ended, Exit.fail(error))
    const lost = (message: string, cause?: unknown) => end(new SqlError({ cause, message }))
    const connection = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const connection = new Pg.Client(settings(config))
        // attached before connecting: a connection that fails has no one else to tell
        connection.on("error", (cause) => lost("LISTEN connection lost", cause))
        connection.on("end", () => lost("LISTEN connection ended"))
        return connection
      }),
      // a peer that is gone may never answer the goodbye: then the socket is simply closed
      (connection) =>
        Effect.promise(() => connection.end().catch(() => undefined)).pipe(
          Effect.interruptible,
          Effect.timeoutOption("1 second"),
          Effect.ensuring(Effect.sync(() => connection.connection.stream.destroy()))
        )
    )
    // until the connection is lost; that ends a connect or a LISTEN under way too, at once
    const listening = Effect.gen(function*() {
      // interruptible: a store closing while the server is unreachable does not wait for the attempt
      yield* Effect.tryPromise({
        try: () => connection.connect(),
        catch: (cause) => new SqlError({ cause, message: "could not open a LISTEN connection" })
      })
      connection.on("notification", (message) => {
        if (message.channel === channel) onPayload(message.payload ?? "")
      })
      const ask = (sql: string, what: string) =>
        Effect.tryPromise({
          try: () => connection.query(sql),
          catch: (cause) => new SqlError({ cause, message: `${what} failed` })
        }).pipe(
          Effect.timeoutFail({
            duration: answerWithin,
            onTimeout: () =>
              new SqlError({ message: `the LISTEN connection did not answer ${what} within ${Duration.format(answerWithin)}` })
          })
        )
      yield* ask(`LISTEN ${connection.escapeIdentifier(channel)}`, `LISTEN ${channel}`)
      onListening()
      yield* Effect.forkScoped(
        Effect.forever(Effect.zipRight(Effect.sleep(answerWithin), ask("select 1", "a keep-alive query"))).pipe(
          Effect.catchAll((error) =>
            Effect.sync(() => {
              connection.connection.stream.destroy()
              end(error)
            })
          )
        )
      )
      return yield* Effect.never
    })
    return yield* Effect.raceFirst(listening, Deferred.await(ended))
  })

const settings = (config: PgClientConfig) => ({
  connectionString: config.url === undefined ? undefined : Redacted.value(config.url),
  host: config.host,
  port: config.port,
  database: config.database,
  user: config.username,
  password: config.password === undefined ? undefined : Redacted.value(config.password),
  ssl: config.ssl,
  ...(config.stream === undefined ? {} : { stream: config.stream }),
  connectionTimeoutMillis: Duration.toMillis(Duration.decode(config.connectTimeout ?? defaultConnectTimeout)),
  application_name: `${config.applicationName ?? "@effect/sql-pg"} (clockwork listen)`,
  keepAlive: true,
  keepAliveInitialDelayMillis: Duration.toMillis(keepAliveInitialDelay)
})
