/**
 * Which store a command works on, and opening it: PostgreSQL from
 * `--database-url` or `DATABASE_URL`, PGlite from `--data-dir`. Opening fails
 * with the reason a person can act on: the server's own (unknown database,
 * authentication, refused), a data directory another process holds, a schema
 * that was never migrated.
 */
import { Events, JobStore, Scheduler } from "@clockwork/core"
import { PgliteClient, PgliteStore, PgStore } from "@clockwork/pg"
import { Options } from "@effect/cli"
import { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, Option, Predicate, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import {
  BadDatabaseUrl,
  CannotConnect,
  DataDirInUse,
  InvalidArgument,
  NoDatabase,
  NoStore,
  NotMigrated
} from "./errors.js"

/** The options every command that opens a store takes. */
export const options = {
  databaseUrl: Options.redacted("database-url").pipe(
    Options.withDescription("the PostgreSQL database (default: the DATABASE_URL environment variable)"),
    Options.optional
  ),
  dataDir: Options.text("data-dir").pipe(
    Options.withDescription("a PGlite data directory instead of PostgreSQL (while no other process has it open)"),
    Options.optional
  ),
  schema: Options.text("schema").pipe(
    Options.withDescription("the schema holding clockwork's tables"),
    Options.withDefault("clockwork")
  ),
  json: Options.boolean("json").pipe(Options.withDescription("print one JSON document (for scripts) instead of tables"))
}

/** What the store options parse to. */
export interface StoreOptions {
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: Option.Option<string>
  readonly schema: string
  readonly json: boolean
}

/** Where the store is. */
export type Target =
  | { readonly _tag: "Postgres"; readonly url: Redacted.Redacted<string>; readonly display: string }
  | { readonly _tag: "Pglite"; readonly dataDir: string }

/** The services a command runs with. */
export type Services = JobStore.JobStore | Scheduler.Scheduler | Events.Events | SqlClient

const schemaName = /^[a-z_][a-z0-9_]{0,62}$/

/** The target and schema from the options and the environment; flags win over DATABASE_URL. */
export const target = (options: StoreOptions) =>
  Effect.gen(function*() {
    if (!schemaName.test(options.schema)) {
      return yield* new InvalidArgument({
        option: "--schema",
        value: options.schema,
        reason: "is not a schema name (lower-case letters, digits and _)"
      })
    }
    if (Option.isSome(options.databaseUrl) && Option.isSome(options.dataDir)) {
      return yield* new NoStore({ reason: "give --database-url or --data-dir, not both" })
    }
    if (Option.isSome(options.dataDir)) {
      return { _tag: "Pglite", dataDir: Path.resolve(options.dataDir.value) } as Target
    }
    const fromEnv = yield* Config.option(Config.redacted("DATABASE_URL")).pipe(
      Effect.map(Option.filter((url) => Redacted.value(url).trim() !== "")),
      Effect.orElseSucceed(() => Option.none())
    )
    const url = Option.orElse(options.databaseUrl, () => fromEnv)
    if (Option.isNone(url)) {
      return yield* new NoStore({
        reason: "no store given: pass --database-url (or set DATABASE_URL) for PostgreSQL, or --data-dir for PGlite"
      })
    }
    return { _tag: "Postgres", url: url.value, display: yield* checkUrl(Redacted.value(url.value)) } as Target
  })

/** The URL as it may be shown (no password), once it is known to be a PostgreSQL URL. */
const checkUrl = (url: string) => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)
    return Effect.fail(
      new BadDatabaseUrl({ url: scheme === null ? "given" : `${scheme[0]}…`, reason: "does not parse as a URL" })
    )
  }
  const shown = `${parsed.protocol}//${parsed.username === "" ? "" : `${parsed.username}@`}${parsed.host}${parsed.pathname}`
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    return Effect.fail(new BadDatabaseUrl({ url: shown, reason: `is a ${parsed.protocol.slice(0, -1)} URL` }))
  }
  return Effect.succeed(shown)
}

/** The reason a connection failed, in the server's or the system's words. */
const connectReason = (error: unknown): string => {
  const cause = Predicate.hasProperty(error, "cause") ? error.cause : error
  const code = Predicate.hasProperty(cause, "code") ? String(cause.code) : undefined
  const message = Predicate.hasProperty(cause, "message") ? String(cause.message) : String(cause)
  switch (code) {
    case "ECONNREFUSED":
      return `connection refused (is PostgreSQL running there?)`
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `unknown host (${message})`
    case "ETIMEDOUT":
      return "timed out"
    case "3D000": // invalid_catalog_name
    case "28P01": // invalid_password
    case "28000": // invalid_authorization_specification: unknown role, no pg_hba.conf entry
      return message
    default:
      // a refused connection to a host with several addresses is an AggregateError without a message
      if (Predicate.hasProperty(cause, "errors") && Array.isArray(cause.errors) && cause.errors.length > 0) {
        return connectReason({ cause: cause.errors[0] })
      }
      return message === "" ? String(code ?? "unknown error") : message
  }
}

const dataDirError = (dataDir: string) => (error: unknown) => {
  const text = describe(error)
  const inUse = /is in use by (?:process (\d+)|this process)/.exec(text)
  if (inUse !== null) {
    return new DataDirInUse({ dataDir, ...(inUse[1] === undefined ? {} : { pid: Number(inUse[1]) }) })
  }
  return new CannotConnect({ url: `PGlite in ${dataDir}`, reason: text })
}

const describe = (error: unknown): string =>
  Predicate.hasProperty(error, "message")
    ? `${String(error.message)}${
      Predicate.hasProperty(error, "cause") && error.cause !== undefined ? `: ${describe(error.cause)}` : ""
    }`
    : String(error)

const postgresClient = (target: Extract<Target, { _tag: "Postgres" }>) =>
  PgClient.layer({
    url: target.url,
    connectTimeout: "10 seconds",
    maxConnections: 3,
    applicationName: "clockwork-cli"
  }).pipe(Layer.mapError((error) => new CannotConnect({ url: target.display, reason: connectReason(error) })))

const pgliteClient = (target: Extract<Target, { _tag: "Pglite" }>) =>
  PgliteClient.layer({ dataDir: target.dataDir }).pipe(Layer.mapError(dataDirError(target.dataDir)))

/** A PGlite directory to read must hold a database already: opening a wrong path would create an empty one. */
const existingDataDir = (dataDir: string) =>
  Effect.suspend(() => {
    if (!Fs.existsSync(dataDir)) return Effect.fail(new NoDatabase({ dataDir, reason: "the directory does not exist" }))
    if (!Fs.existsSync(Path.join(dataDir, "PG_VERSION"))) {
      return Effect.fail(new NoDatabase({ dataDir, reason: "it is not a PGlite data directory (it has no PG_VERSION)" }))
    }
    return Effect.void
  })

/** A migration applied to a schema. */
export interface Migration {
  readonly id: number
  readonly name: string
}

/** The migrations applied to the schema, oldest first; empty when it has none. */
export const appliedMigrations = (schema: string): Effect.Effect<ReadonlyArray<Migration>, SqlError, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const [table] = yield* sql<{ readonly present: boolean }>`
      select to_regclass(${`${schema}.clockwork_migrations`}) is not null as present`
    if (table === undefined || !table.present) return []
    const rows = yield* sql<{ readonly migration_id: number; readonly name: string }>`
      select migration_id, name from ${sql(schema)}.clockwork_migrations order by migration_id`
    return rows.map((row) => ({ id: Number(row.migration_id), name: row.name }))
  })

const requireMigrated = (schema: string) =>
  Effect.flatMap(
    appliedMigrations(schema),
    (applied) => applied.length === 0 ? Effect.fail(new NotMigrated({ schema })) : Effect.void
  )

/**
 * The store on the target, with the scheduler API over it. The schema must
 * exist (`clockwork migrate` makes it); the store never migrates here.
 */
export const layer = (target: Target, schema: string): Layer.Layer<Services, unknown> => {
  const opened: Layer.Layer<JobStore.JobStore | SqlClient, unknown> = target._tag === "Postgres"
    ? Layer.provideMerge(
      Layer.unwrapEffect(Effect.as(requireMigrated(schema), PgStore.layer({ schema, migrate: false, pollInterval: 0 }))),
      postgresClient(target)
    )
    : Layer.unwrapEffect(Effect.as(
      existingDataDir(target.dataDir),
      Layer.provideMerge(
        Layer.unwrapEffect(Effect.as(requireMigrated(schema), PgliteStore.layerClient({ schema, migrate: false }))),
        pgliteClient(target)
      )
    ))
  return Scheduler.layer.pipe(Layer.provideMerge(Events.layer), Layer.provideMerge(opened))
}

/**
 * Brings the schema up to date (creating the PGlite directory if needed) and
 * returns the migrations applied before and after.
 */
export const migrate = (
  target: Target,
  schema: string
): Effect.Effect<{ readonly before: ReadonlyArray<Migration>; readonly after: ReadonlyArray<Migration> }, unknown> => {
  const before = appliedMigrations(schema)
  return target._tag === "Postgres"
    ? Effect.gen(function*() {
      const applied = yield* before
      yield* PgStore.migrate({ schema })
      return { before: applied, after: yield* appliedMigrations(schema) }
    }).pipe(Effect.provide(postgresClient(target)))
    : Effect.gen(function*() {
      const applied = yield* before
      yield* Layer.build(PgliteStore.layerClient({ schema }))
      return { before: applied, after: yield* appliedMigrations(schema) }
    }).pipe(Effect.scoped, Effect.provide(pgliteClient(target)))
}

/** Where the target is, for messages: the URL without its password, or the directory. */
export const describeTarget = (target: Target): string =>
  target._tag === "Postgres" ? target.display : `PGlite in ${target.dataDir}`
