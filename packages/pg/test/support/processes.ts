/**
 * clockwork processes for the multi-process tests: workers and schedulers are
 * child processes (test/multiprocess/process.ts) on one fresh schema; the test
 * process enqueues through the store and asserts on the tables and on what
 * the children print.
 */
import type { SqlClient } from "@effect/sql"
import { SqlClient as Sql } from "@effect/sql"
import type { PgClient } from "@effect/sql-pg"
import { type Duration, Effect, type Layer, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { PgStore } from "../../src/index.js"
import { createExecutions } from "../multiprocess/jobs.js"
import { client, dropOnClose, freshSchema } from "../utils.js"

const script = fileURLToPath(new URL("../multiprocess/process.ts", import.meta.url))
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url))

/** A line a child printed, and when the test process read it. */
export interface Line {
  readonly at: number
  readonly text: string
}

/** A clockwork child process, and what it has printed so far. */
export interface Started extends ChildProcess {
  /** its standard output so far */
  readonly output: () => string
  /** its output (standard output and error) line by line, with when each arrived */
  readonly lines: () => ReadonlyArray<Line>
}

/** Starts a clockwork process; resolves once it prints `ready`; SIGKILLs it when the scope closes. */
export const start = (role: "worker" | "scheduler" | "consumer", schema: string, ...args: Array<string>) =>
  startWith({}, role, schema, ...args)

/**
 * `start`, with `env` added to this process's environment (a `DATABASE_URL`
 * of its own, `CLOCKWORK_STATEMENT_TIMEOUT`, ...).
 */
export const startWith = (
  env: Record<string, string>,
  role: "worker" | "scheduler" | "consumer",
  schema: string,
  ...args: Array<string>
) =>
  Effect.acquireRelease(
    Effect.async<Started, Error>((resume) => {
      const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", script, role, schema, ...args], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      let stdout = ""
      const lines: Array<Line> = []
      const partial = { stdout: "", stderr: "" }
      const collect = (stream: "stdout" | "stderr", chunk: string) => {
        const text = partial[stream] + chunk
        const complete = text.split("\n")
        partial[stream] = complete.pop()!
        const at = Date.now()
        for (const line of complete) lines.push({ at, text: line })
      }
      child.stderr!.on("data", (chunk) => {
        stderr += String(chunk)
        collect("stderr", String(chunk))
      })
      child.stdout!.on("data", (chunk) => {
        stdout += String(chunk)
        collect("stdout", String(chunk))
        if (String(chunk).includes("ready")) {
          resume(Effect.succeed(Object.assign(child, { output: () => stdout, lines: () => lines })))
        }
      })
      child.once("exit", (code, signal) =>
        resume(Effect.fail(new Error(`${role} exited (${code ?? signal}) before ready: ${stderr}`))))
      return Effect.sync(() => child.kill("SIGKILL"))
    }).pipe(Effect.timeout("60 seconds")),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGKILL")
      })
  )

/** A worker process, started again whenever it exits, until the scope closes. */
export interface Supervised {
  /** what every incarnation printed so far */
  readonly output: () => string
  /** how many times it exited and was started again */
  readonly restarts: () => number
  /** SIGKILLs the current incarnation (the supervisor starts the next) */
  readonly kill: () => void
}

export const supervise = (schema: string, workerId: string, ...args: Array<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      let output = ""
      let restarts = 0
      let stopped = false
      let current: ChildProcess | undefined
      const launch = () => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "--conditions=source", script, "worker", schema, workerId, ...args],
          { cwd: repoRoot, env: process.env, stdio: ["ignore", "pipe", "pipe"] }
        )
        current = child
        child.stdout!.on("data", (chunk) => (output += String(chunk)))
        child.stderr!.on("data", (chunk) => (output += String(chunk)))
        child.once("exit", () => {
          if (stopped) return
          restarts += 1
          launch()
        })
      }
      launch()
      const supervised: Supervised & { stop: () => void } = {
        output: () => output,
        restarts: () => restarts,
        kill: () => current?.kill("SIGKILL"),
        stop: () => {
          stopped = true
          current?.kill("SIGKILL")
        }
      }
      return supervised
    }),
    (supervised) => Effect.sync(() => supervised.stop())
  )

/** Resolves when `child` exits. */
export const exited = (child: ChildProcess) =>
  Effect.async<number | NodeJS.Signals | null>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.succeed(child.exitCode ?? child.signalCode))
    child.once("exit", (code, signal) => resume(Effect.succeed(code ?? signal)))
  })

/** Polls `check` every `every` until it holds, failing after `within`. */
export const until = <E, R>(
  what: string,
  check: Effect.Effect<boolean, E, R>,
  within: Duration.DurationInput,
  every: Duration.DurationInput = "200 millis"
) =>
  Effect.gen(function*() {
    while (!(yield* check)) yield* Effect.sleep(every)
  }).pipe(Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`timed out waiting for ${what}`) }))

/** A fresh, migrated schema with the executions table, dropped at the end; its store for the test process. */
export const setup = Effect.gen(function*() {
  const schema = freshSchema()
  yield* dropOnClose(schema)
  yield* PgStore.migrate({ schema })
  yield* createExecutions(schema)
  const store = yield* PgStore.make({ schema, migrate: false })
  const sql = yield* Sql.SqlClient
  return { schema, store, sql }
})

export const scalar = (rows: ReadonlyArray<unknown>) => Number((rows[0] as { n: string | number }).n)

/**
 * Runs a test on its own client (the server at DATABASE_URL unless another is
 * given); its scope (children, schema) closes while the client is still up.
 */
export const live = <A, E>(
  effect: Effect.Effect<A, E, SqlClient.SqlClient | PgClient.PgClient | Scope.Scope>,
  on: Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, unknown> = client
) => effect.pipe(Effect.scoped, Effect.provide(on))
