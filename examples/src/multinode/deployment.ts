/**
 * What every process of the multi-node example shares: the store (PostgreSQL
 * at DATABASE_URL, tables in the schema CLOCKWORK_SCHEMA), a one-line log
 * format, and a main that shuts down gracefully on SIGTERM or SIGINT.
 */
import { PgStore } from "@clockwork/pg"
import { PgClient } from "@effect/sql-pg"
import { Cause, Config, Effect, Exit, Fiber, HashMap, Layer, Logger, LogLevel, Option, Redacted } from "effect"

export const databaseUrl = Config.redacted("DATABASE_URL").pipe(
  Config.withDefault(Redacted.make("postgres://postgres@127.0.0.1:5432/test"))
)

/** A dedicated schema, so the example never touches other data (tests give each run a fresh one). */
export const schema = Config.string("CLOCKWORK_SCHEMA").pipe(Config.withDefault("clockwork_multinode"))

/**
 * The store and its client. `applicationName` names the process's connections
 * in `pg_stat_activity`; `PgStore.clientConfig` gives them TCP keep-alive and
 * a connect timeout. Every process migrates at start: that is safe when
 * several start at once; a deploy step running `PgStore.migrate` would let
 * them pass `migrate: false`.
 */
export const Store = (applicationName: string) =>
  Layer.unwrapEffect(Effect.map(schema, (schema) => PgStore.layer({ schema }))).pipe(
    Layer.provideMerge(
      PgClient.layerConfig({ url: databaseUrl, applicationName: Config.succeed(applicationName), ...PgStore.clientConfig })
    )
  )

/**
 * A message as one line: the level from warnings up, the job when it comes
 * from a run, the message (then the cause, if any). The launcher adds the time
 * and the role.
 */
export const format: Logger.Logger<unknown, string> = Logger.make(({ annotations, cause, logLevel, message }) => {
  const level = LogLevel.greaterThanEqual(logLevel, LogLevel.Warning) ? `${logLevel.label} ` : ""
  const job = Option.match(HashMap.get(annotations, "job"), { onNone: () => "", onSome: (job) => `${job}: ` })
  const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
  const why = Cause.isEmpty(cause) ? "" : `\n${Cause.pretty(cause)}`
  return `${level}${job}${text}${why}`
})

/** The processes' logger. */
export const Log: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(format))

/**
 * Tells the launcher (main.ts), when there is one, that this process is up:
 * it measures its run time from when every process is.
 */
export const ready: Effect.Effect<void> = Effect.sync(() => process.send?.("ready"))

/**
 * Runs a process's program until it ends or a SIGTERM / SIGINT interrupts it
 * (its layers close: a worker lets its runs finish within the runner's
 * shutdown grace). Exits 0 then, 1 on a failure.
 */
export const runMain = <E>(program: Effect.Effect<unknown, E>): void => {
  const fiber = Effect.runFork(Effect.provide(program, Log))
  const stop = () => Effect.runFork(Fiber.interrupt(fiber))
  process.once("SIGTERM", stop)
  process.once("SIGINT", stop)
  fiber.addObserver((exit) => {
    if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) {
      globalThis.console.error(Cause.pretty(exit.cause))
      process.exit(1)
    }
    process.exit(0)
  })
}
