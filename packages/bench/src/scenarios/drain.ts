/**
 * (a) Drain, as a deployment sees it: N no-op jobs are queued while no worker
 * runs; then one or two worker processes are started cold (`drainWorker.ts`,
 * a fresh node process each, on the JavaScript `tsc -b` emits into dist); the clock runs from their spawn until the last
 * job is recorded as done (no job left queued or running in the system's
 * tables). The bench asks the database only once the workers' progress lines
 * add up to every job started: a query every 10 ms through the whole drain
 * cost the server more than a tenth of its CPU, and each system a different
 * share. Queues of several depths. Beside the rate, the CPU per job: the
 * worker processes' own (from their start) and, on the bench's private
 * cluster, the PostgreSQL server's (every backend and auxiliary process).
 */
import { type ChildProcessByStdio, spawn } from "node:child_process"
import { join } from "node:path"
import type { Readable, Writable } from "node:stream"
import type { DrainReport, Progress as WorkerProgress } from "../drainWorker.js"
import { benchDir } from "../paths.js"
import * as Progress from "../progress.js"
import {
  alternate,
  type Context,
  medians,
  repetitionsText,
  type Row,
  type Scenario,
  signal,
  times,
  within
} from "../scenario.js"
import { sleep } from "../stats.js"
import type { Connection, System } from "../system.js"

const chunk = 20_000

/** Queues `count` no-op jobs in bulk (chunks, so no single statement grows huge). */
export const fill = async (system: System, count: number, at?: Date) => {
  for (let from = 0; from < count; from += chunk) {
    const payloads = Array.from({ length: Math.min(chunk, count - from) }, (_, k) => from + k)
    await system.enqueueMany(payloads, at)
  }
}

/** Jobs per second to drain `count` queued jobs with a worker in this process, already loaded (PGlite's scenario). */
export const drainRate = async (system: System, count: number, timeoutMs: number) => {
  await system.empty()
  await fill(system, count)
  let ran = 0
  const all = signal()
  const start = performance.now()
  const worker = await system.startWorker(() => {
    if (++ran === count) all.resolve()
  })
  try {
    await within(all.promise, timeoutMs, `${system.name} drain`)
    while (await system.busy()) await sleep(5)
  } finally {
    await worker.stop()
  }
  return count / ((performance.now() - start) / 1000)
}


/** A started drain worker process: its report once told to stop. */
interface WorkerProcess {
  readonly child: ChildProcessByStdio<Writable, Readable, null>
  /** rejects as soon as the process exits without a report */
  readonly report: Promise<DrainReport>
  /** jobs started, as its last progress line said */
  readonly started: () => number
}

const startWorkerProcess = (connection: Connection, system: string): WorkerProcess => {
  // compiled JavaScript on plain node, as a deployment runs it: through tsx, loading effect alone takes 2.5× as long
  const args = [join(benchDir, "dist", "src", "drainWorker.js"), JSON.stringify({ system, connection })]
  const child = spawn(process.execPath, args, { cwd: benchDir, stdio: ["pipe", "pipe", "inherit"] })
  let out = ""
  let started = 0
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const from = out.lastIndexOf("\n") + 1
    out += chunk
    // the complete lines this chunk ended
    for (const line of out.slice(from, out.lastIndexOf("\n") + 1).split("\n")) {
      if (!line.startsWith("{\"started\":")) continue
      started = (JSON.parse(line) as WorkerProgress).started
    }
  })
  const report = new Promise<DrainReport>((resolve, reject) => {
    child.on("error", reject)
    child.on("exit", (code) => {
      const last = out.trim().split("\n").at(-1) ?? ""
      if (code !== 0) return reject(new Error(`${system} drain worker exited with ${code}: ${last}`))
      try {
        resolve(JSON.parse(last) as DrainReport)
      } catch {
        reject(new Error(`${system} drain worker printed no report: ${last}`))
      }
    })
  })
  // a failure before the stop request surfaces through the poll loop's race
  report.catch(() => undefined)
  return { child, report, started: () => started }
}

/** One drain: the rate, and CPU per job of the workers and of the server (undefined on a shared server). */
export interface Drained {
  readonly rate: number
  readonly workerCpuUs: number
  readonly serverCpuUs: number | undefined
  /** from the spawn to the first job's start in any of the processes, as the first process saw it */
  readonly firstJobMs: number
}

/** Drains `count` queued jobs with `processes` fresh worker processes. */
export const drainWithProcesses = async (
  ctx: Context,
  system: System,
  count: number,
  processes: number,
  timeoutMs: number
): Promise<Drained> => {
  await system.empty()
  await fill(system, count)
  const server0 = ctx.serverCpuUs?.()
  const start = performance.now()
  const workers = Array.from({ length: processes }, () => startWorkerProcess(ctx.connection, system.name))
  let abandoned = false
  try {
    const failed = Promise.race(workers.map((w) => w.report.then(() => Promise.reject(new Error("worker exited early")))))
    const drained = (async () => {
      const started = () => workers.reduce((n, w) => n + w.started(), 0)
      while (!abandoned && started() < count) await sleep(5)
      // then polled from the bench's own connection; 10 ms is the resolution of the clock
      while (!abandoned && await system.busy()) await sleep(10)
    })()
    drained.catch(() => undefined)
    await within(Promise.race([drained, failed]), timeoutMs, `${system.name} drain of ${count}`)
  } catch (error) {
    abandoned = true
    for (const w of workers) w.child.kill("SIGKILL")
    throw error
  }
  const seconds = (performance.now() - start) / 1000
  const server1 = ctx.serverCpuUs?.()
  for (const w of workers) w.child.stdin.end("stop\n")
  const reports = await within(Promise.all(workers.map((w) => w.report)), 60_000, `${system.name} drain workers stopping`)
  const ran = reports.reduce((n, r) => n + r.ran, 0)
  if (ran < count) throw new Error(`${system.name}: the queue looked drained after ${ran} of ${count} jobs`)
  return {
    rate: count / seconds,
    workerCpuUs: reports.reduce((n, r) => n + r.cpuUs, 0) / count,
    serverCpuUs: server0 === undefined || server1 === undefined ? undefined : (server1 - server0) / count,
    firstJobMs: Math.min(...reports.map((r) => r.firstJobMs ?? Number.POSITIVE_INFINITY))
  }
}

const processCounts = [1, 2] as const

export const scenario: Scenario = {
  id: "a",
  title: "Drain no-op jobs with fresh worker processes",
  run: async (ctx: Context) => {
    const depths = ctx.depths ?? (ctx.quick ? [2_000] : [10_000, 50_000, 100_000])
    const rows: Array<Row> = []
    const rates = new Map<string, Record<string, number>>()
    for (const count of depths) {
      for (const processes of processCounts) {
        const label = `${Progress.int(count)}, ${processes} process${processes === 1 ? "" : "es"}`
        const samples = await alternate(
          ctx,
          `a drain ${label}`,
          ctx.systems,
          (system) => drainWithProcesses(ctx, system, count, processes, ctx.quick ? 60_000 : 900_000),
          (d) =>
            `${Progress.int(d.rate)} jobs/s, first job after ${d.firstJobMs.toFixed(0)} ms, ` +
            `worker ${d.workerCpuUs.toFixed(0)} µs/job` +
            (d.serverCpuUs === undefined ? "" : `, server ${d.serverCpuUs.toFixed(0)} µs/job`)
        )
        const rate = medians(samples, (d) => d.rate)
        rates.set(label, rate)
        rows.push(
          { metric: `drain ${label}`, unit: "jobs/s", better: "higher", values: rate },
          { metric: `first job after, ${label}`, unit: "ms", better: "lower", values: medians(samples, (d) => d.firstJobMs) },
          { metric: `worker CPU per job, ${label}`, unit: "µs", better: "lower", values: medians(samples, (d) => d.workerCpuUs) }
        )
        if (ctx.serverCpuUs !== undefined) {
          rows.push({
            metric: `server CPU per job, ${label}`,
            unit: "µs",
            better: "lower",
            values: medians(samples, (d) => d.serverCpuUs ?? Number.NaN)
          })
        }
      }
    }
    const deepest = `${Progress.int(depths.at(-1)!)}, 1 process`
    const ratio = rates.get(deepest)!["clockwork"]! / rates.get(deepest)!["graphile-worker"]!
    return {
      id: "a",
      title: `Drain ${depths.map((d) => Progress.int(d)).join(", ")} no-op jobs with fresh worker processes`,
      method: `The jobs queued (not timed), then ${processCounts.join(" or ")} worker processes started cold ` +
        `(a new node process each, on the compiled JavaScript, which loads the system, connects and works; graphile-worker and pg-boss ` +
        `with the tuning below); timed from their spawn until no job is left queued or running, polled every ` +
        `10 ms from the bench's process once the workers' progress lines (every 10 ms) say every job has started. "First job after" is the time from a worker process's start to its ` +
        `first job (the process's own clock; the earliest of the processes). Worker CPU per job is the worker processes' user + system CPU from ` +
        `their start (module loading and connecting included) divided by the jobs; server CPU per job is the ` +
        `CPU of every process of the bench's private PostgreSQL cluster over the drain (backends, autovacuum, ` +
        `WAL writer, checkpointer; from /proc), divided by the jobs${
          ctx.serverCpuUs === undefined ? " — not measured on a shared server" : ""
        }. Each depth and process count alternates the systems. ${repetitionsText(ctx)}`,
      rows,
      targets: [{
        label: `drain (${deepest}) ≥ 2× tuned graphile-worker`,
        measured: times(ratio),
        goal: "≥ 2×",
        met: ratio >= 2
      }]
    }
  }
}
