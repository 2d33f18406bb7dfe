/**
 * A private PostgreSQL cluster for one bench run: `initdb` into a temporary
 * directory, started with `pg_ctl` on a free port with the server's own
 * defaults (autovacuum on, fsync on, default shared_buffers), as a
 * deployment would run it, and removed at the end. The figures then do not
 * depend on the machine's shared test server, whose settings suit tests
 * (autovacuum off) and whose load comes from others.
 *
 * Also reads the CPU the cluster's processes used, from /proc, for CPU per
 * job.
 */
import { execFileSync } from "node:child_process"
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface Cluster {
  /** where the bench connects: database `bench` on the private server */
  readonly url: string
  /** the server's settings that matter for the figures, for the report */
  readonly settings: string
  /** the postmaster's process id (its children are the backends and the auxiliary processes) */
  readonly postmasterPid: number
  /** stops the server and removes its directory; safe to call more than once */
  readonly stop: () => void
}

const bindir = () => execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim()

/** A TCP port nothing listens on right now (the kernel's pick). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** PostgreSQL refuses to run as root: as root, its tools run as the `postgres` user. */
const asPostgres = (command: string, args: ReadonlyArray<string>) => {
  const root = process.getuid?.() === 0
  const [file, argv] = root ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, [...args]]
  execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"] })
}

const owner = () => {
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim())
  return { uid: id("-u"), gid: id("-g") }
}

/**
 * Creates and starts the cluster; the caller stops it. A SIGINT or SIGTERM
 * while it runs stops it too, so an interrupted run leaves no server behind.
 */
export const start = async (): Promise<Cluster> => {
  const bin = bindir()
  const dir = mkdtempSync(join(tmpdir(), "clockwork-bench-pg-"))
  if (process.getuid?.() === 0) {
    const { uid, gid } = owner()
    chownSync(dir, uid, gid)
  }
  const data = join(dir, "data")
  const port = await freePort()
  let running = false
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
    try {
      if (running) asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const onSignal = (signal: NodeJS.Signals) => {
    stop()
    process.kill(process.pid, signal)
  }
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  try {
    asPostgres(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"])
    // the socket lives in the cluster's own directory, so no other server's socket is touched
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`
    running = true
    asPostgres(join(bin, "pg_ctl"), ["-D", data, "-o", options, "-l", join(dir, "server.log"), "-w", "start"])
    asPostgres(join(bin, "psql"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-qc", "create database bench"])
    const postmasterPid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0])
    return {
      url: `postgres://postgres@127.0.0.1:${port}/bench`,
      settings: `private cluster (initdb in a temporary directory, port ${port}): server defaults — autovacuum on, ` +
        `fsync on, synchronous_commit on, shared_buffers 128 MB`,
      postmasterPid,
      stop
    }
  } catch (error) {
    stop()
    throw error
  }
}

/** utime + stime (+ cutime + cstime with `children`) of a process, in microseconds. */
const cpuOf = (pid: number, children: boolean) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0)
    return ticks * 10_000 // 100 clock ticks a second on Linux
  } catch {
    return 0 // the process ended between the listing and the read
  }
}

const parentOf = (pid: number) => {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1])
  } catch {
    return -1
  }
}

/**
 * CPU used so far by the whole cluster, in microseconds: the postmaster,
 * every live child (backends, autovacuum, WAL writer, checkpointer), and,
 * through the postmaster's cutime/cstime, every child that has already
 * exited. The difference of two readings is the server's CPU in between.
 */
export const serverCpuUs = (postmasterPid: number) => {
  let total = cpuOf(postmasterPid, true)
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry)
    if (Number.isInteger(pid) && parentOf(pid) === postmasterPid) total += cpuOf(pid, false)
  }
  return total
}
