/**
 * What can go wrong on the command line, each with the exit code it ends
 * with. The store's own errors (`RunNotFound`, `ScheduleNotFound`,
 * `StoreError`) and the trigger's (`InvalidDate`, `InvalidInterval`) keep
 * their types and are mapped here.
 */
import { Predicate, Schema } from "effect"

/** The exit codes; documented in the README and stable across versions. */
export const ExitCode = {
  ok: 0,
  /** the store failed during the command, or something unexpected happened */
  failed: 1,
  /** bad arguments: an unknown command or option, a malformed value */
  usage: 2,
  /** no store could be opened: bad URL, refused, authentication, unknown database, data directory in use, not migrated */
  unavailable: 3,
  /** the run, schedule or job does not exist */
  notFound: 4,
  /** the run or schedule is not in a state that allows it (retry a run that succeeded, cancel one that finished) */
  refused: 5
} as const

/** An exit code. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A value given on the command line that does not parse. */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  option: Schema.String,
  value: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.option}: ${JSON.stringify(this.value)} ${this.reason}`
  }
}

/** A command needs a package that is not installed. */
export class MissingPackage extends Schema.TaggedError<MissingPackage>()("MissingPackage", {
  packageName: Schema.String,
  command: Schema.String
}) {
  override get message() {
    return `clockwork ${this.command} needs ${this.packageName}: npm install ${this.packageName}`
  }
}

/** Neither a database URL nor a data directory was given, or both were. */
export class NoStore extends Schema.TaggedError<NoStore>()("NoStore", { reason: Schema.String }) {
  override get message() {
    return this.reason
  }
}

/** A database URL that is not a PostgreSQL URL. */
export class BadDatabaseUrl extends Schema.TaggedError<BadDatabaseUrl>()("BadDatabaseUrl", {
  /** the URL without its password */
  url: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `the database URL ${this.url} ${this.reason} (expected postgres://user:password@host:5432/database)`
  }
}

/** The server could not be reached or refused the connection; `reason` is the server's or the system's. */
export class CannotConnect extends Schema.TaggedError<CannotConnect>()("CannotConnect", {
  /** the URL without its password */
  url: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot connect to ${this.url}: ${this.reason}`
  }
}

/** Another process holds the PGlite data directory (PGlite is one process at a time). */
export class DataDirInUse extends Schema.TaggedError<DataDirInUse>()("DataDirInUse", {
  dataDir: Schema.String,
  pid: Schema.optional(Schema.Number)
}) {
  override get message() {
    const who = this.pid === undefined ? "another process" : `process ${this.pid}`
    return `the data directory ${this.dataDir} is in use by ${who}: PGlite opens a directory in one process at ` +
      `a time, so stop that process (the app that runs on it) and try again`
  }
}

/** The PGlite data directory does not exist or holds no database. */
export class NoDatabase extends Schema.TaggedError<NoDatabase>()("NoDatabase", {
  dataDir: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `no database in ${this.dataDir}: ${this.reason} (check --data-dir, or create one with ` +
      `clockwork migrate --data-dir ${this.dataDir})`
  }
}

/** The store's schema has no tables yet. */
export class NotMigrated extends Schema.TaggedError<NotMigrated>()("NotMigrated", { schema: Schema.String }) {
  override get message() {
    return `the schema "${this.schema}" has no clockwork tables in this database: run clockwork migrate first ` +
      `(or pass the --schema your apps use)`
  }
}

/** A job name that nothing in the store knows. */
export class UnknownJob extends Schema.TaggedError<UnknownJob>()("UnknownJob", {
  name: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message() {
    const known = this.known.length === 0
      ? "no worker is running and no schedule or run names a job"
      : `known jobs: ${this.known.join(", ")}`
    return `no job is named "${this.name}" (no live worker registers it, and no schedule or run names it; ` +
      `${known}); --force enqueues it anyway`
  }
}

/** The run or schedule is not in a state that allows what was asked. */
export class Refused extends Schema.TaggedError<Refused>()("Refused", { reason: Schema.String }) {
  override get message() {
    return this.reason
  }
}

const codes: Record<string, ExitCode> = {
  InvalidArgument: ExitCode.usage,
  InvalidDate: ExitCode.usage,
  InvalidInterval: ExitCode.usage,
  NoStore: ExitCode.usage,
  MissingPackage: ExitCode.unavailable,
  BadDatabaseUrl: ExitCode.unavailable,
  CannotConnect: ExitCode.unavailable,
  DataDirInUse: ExitCode.unavailable,
  NoDatabase: ExitCode.unavailable,
  NotMigrated: ExitCode.unavailable,
  RunNotFound: ExitCode.notFound,
  ScheduleNotFound: ExitCode.notFound,
  UnknownJob: ExitCode.notFound,
  Refused: ExitCode.refused,
  NotRetryable: ExitCode.refused,
  InvalidSignal: ExitCode.usage,
  ScheduleBusy: ExitCode.refused
}

/** The exit code for an error of a command (not @effect/cli's own validation errors: those are usage errors). */
export const exitCodeOf = (error: unknown): ExitCode =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string"
    ? codes[error._tag] ?? ExitCode.failed
    : ExitCode.failed
