/**
 * A private PostgreSQL server for tests that disturb one (stop it, restart
 * it): `initdb` in a temporary directory, `pg_ctl` on a free port of
 * 127.0.0.1, so other test files on the shared server are not disturbed. The
 * binaries come from `pg_config --bindir` (else /usr/lib/postgresql/15/bin);
 * as root, they run as the `postgres` user, who owns the directory. Trust
 * authentication, no fsync: a throwaway server. Removed when the scope closes.
 */
import { Effect, type Scope } from "effect"
import { execFile, execFileSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface Cluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string
  readonly port: number
  /** starts the server and waits until it accepts connections */
  readonly start: Effect.Effect<void, Error>
  /** stops the server (fast shutdown: sessions are ended, transactions rolled back) */
  readonly stop: Effect.Effect<void, Error>
  readonly restart: Effect.Effect<void, Error>
  /** the server's log so far */
  readonly log: () => string
}

const binDir = (): string => {
  try {
    return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim()
  } catch {
    return "/usr/lib/postgresql/15/bin"
  }
}

/** Whether `initdb` can be found: the tests that need a private server run only then. */
export const available = (): boolean => existsSync(join(binDir(), "initdb"))

const asRoot = process.getuid?.() === 0

/** Runs a PostgreSQL binary, as the postgres user when this process is root. */
const run = (binary: string, args: ReadonlyArray<string>) =>
  Effect.async<string, Error>((resume) => {
    const path = join(binDir(), binary)
    const [command, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", path, ...args]] : [path, [...args]]
    const child = execFile(command, argv, { encoding: "utf8" }, (error, stdout, stderr) =>
      resume(
        error === null
          ? Effect.succeed(stdout)
          : Effect.fail(new Error(`${binary} ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`))
      ))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const freePort = Effect.async<number, Error>((resume) => {
  const server = createServer()
  server.once("error", (error) => resume(Effect.fail(error)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(port > 0 ? Effect.succeed(port) : Effect.fail(new Error("no free port"))))
  })
})

/** Creates a cluster and starts it; stopped and deleted when the scope closes. */
export const make: Effect.Effect<Cluster, Error, Scope.Scope> = Effect.gen(function*() {
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "clockwork-pg-"))
      if (asRoot) {
        const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim())
        chownSync(dir, id("-u"), id("-g"))
      }
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const data = join(dir, "data")
  const logFile = join(dir, "server.log")
  const port = yield* freePort
  yield* run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])

  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off"
  ].join(" ")
  const start = Effect.asVoid(run("pg_ctl", ["-D", data, "-l", logFile, "-o", options, "-w", "-t", "60", "start"]))
  const stop = Effect.asVoid(run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]))
  yield* Effect.acquireRelease(
    start,
    () => Effect.ignore(run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]))
  )
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    restart: Effect.zipRight(stop, start),
    log: () => existsSync(logFile) ? readFileSync(logFile, "utf8") : ""
  }
})
