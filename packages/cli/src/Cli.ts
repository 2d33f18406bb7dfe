/**
 * The `clockwork` command line: see and steer the jobs of a store from a
 * shell or a script. `migrate`, `status`, `schedules` (`pause`, `resume`,
 * `trigger`, `remove`), `runs`, `run <id>`, `enqueue`, `cancel`, `retry` and
 * `prune`, on PostgreSQL (`--database-url` or `DATABASE_URL`) or PGlite
 * (`--data-dir`). Tables for people, `--json` for scripts, and stable exit
 * codes (`ExitCode`).
 *
 * @since 0.1.0
 */
import { Command, ValidationError } from "@effect/cli"
import type { CliApp } from "@effect/cli/CliApp"
import { Cause, Console, Effect, Logger, LogLevel } from "effect"
import * as internalControl from "./internal/control.js"
import * as internalDashboard from "./internal/dashboard.js"
import * as internalErrors from "./internal/errors.js"
import * as internalMaintenance from "./internal/maintenance.js"
import * as internalRuns from "./internal/runs.js"
import * as internalSchedules from "./internal/schedules.js"
import * as internalStatus from "./internal/status.js"
import * as internalTail from "./internal/tail.js"

/**
 * The exit codes, stable across versions: 0 done; 1 the store failed during
 * the command (or a bug); 2 bad arguments; 3 no store could be opened (bad
 * URL, refused, authentication, unknown database, data directory in use, schema
 * not migrated); 4 the run, schedule or job does not exist; 5 the run or
 * schedule is not in a state that allows it.
 *
 * @since 0.1.0
 * @category models
 */
export const ExitCode: {
  readonly ok: 0
  readonly failed: 1
  readonly usage: 2
  readonly unavailable: 3
  readonly notFound: 4
  readonly refused: 5
} = internalErrors.ExitCode

/**
 * One of the exit codes.
 *
 * @since 0.1.0
 * @category models
 */
export type ExitCode = internalErrors.ExitCode

/**
 * The CLI's version (its package's).
 *
 * @since 0.1.0
 * @category models
 */
export const version = "0.1.0"

/**
 * The `clockwork` command with its subcommands, for embedding in another
 * @effect/cli application.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("clockwork").pipe(
  Command.withDescription("see and steer clockwork's jobs on PostgreSQL or PGlite"),
  Command.withSubcommands([
    ...internalMaintenance.commands,
    internalStatus.command,
    internalDashboard.command,
    internalSchedules.command,
    ...internalRuns.commands,
    ...internalControl.commands,
    internalTail.command
  ])
)

// warnings (a clock skew, a lost connection) go to stderr, so stdout stays the command's result
const stderrLogger = Logger.make(({ logLevel, message }) => {
  const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
  globalThis.console.error(`clockwork: ${logLevel.label.toLowerCase()}: ${text}`)
})

const messageOf = (error: unknown): string =>
  error instanceof Error || (typeof error === "object" && error !== null && "message" in error)
    ? String((error as { message: unknown }).message)
    : String(error)

/**
 * Runs the command line (`process.argv` as is: node and the script first)
 * and returns the exit code. Errors are printed on stderr as one line; it
 * never fails.
 *
 * @example
 * ```ts
 * import { NodeContext, NodeRuntime } from "@effect/platform-node"
 * import { Cli } from "@clockwork/cli"
 *
 * NodeRuntime.runMain(Cli.run(process.argv).pipe(Effect.provide(NodeContext.layer)))
 * ```
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<ExitCode, never, CliApp.Environment> =>
  Command.run(command, { name: "clockwork", version })(argv).pipe(
    Effect.as(ExitCode.ok as ExitCode),
    Effect.catchAll((error) =>
      ValidationError.isValidationError(error)
        ? Effect.succeed(ExitCode.usage) // @effect/cli has printed it, with the usage
        : Effect.as(Console.error(`clockwork: ${messageOf(error)}`), internalErrors.exitCodeOf(error))
    ),
    Effect.catchAllCause((cause) =>
      Effect.as(Console.error(`clockwork: unexpected error\n${Cause.pretty(cause)}`), ExitCode.failed)
    ),
    Effect.provide(Logger.replace(Logger.defaultLogger, stderrLogger)),
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
