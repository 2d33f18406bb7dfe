/**
 * A worker process of the drain scenario (a), started cold as a deployment
 * starts one: connects, starts one system's worker on the queue the scenario
 * filled, and runs jobs until the scenario writes a line to its stdin (the
 * queue is drained). Meanwhile it prints how many jobs it has started, every
 * 10 ms while that number moves (a `Progress` line), so the scenario needs
 * not ask the database until every job has started. Then it reads its own CPU
 * time (everything since the process started: loading modules, connecting,
 * running jobs), stops, and prints its report as the last JSON line.
 */
import { createInterface } from "node:readline"
import { load } from "./load.js"
import type { Connection, SystemName } from "./system.js"

export interface DrainReport {
  /** jobs this process ran */
  readonly ran: number
  /** user + system CPU of this process from its start to the stop request, in µs */
  readonly cpuUs: number
  /** milliseconds from this process's start to its first job's start (null when it ran none) */
  readonly firstJobMs: number | null
}

/** How many jobs this process has started so far. */
export interface Progress {
  readonly started: number
}

interface Request {
  readonly system: SystemName
  readonly connection: Connection
}

const main = async (request: Request) => {
  const system = await load(request.system, request.connection, false)
  let ran = 0
  let firstJobMs: number | null = null
  const worker = await system.startWorker(() => {
    // performance.now() counts from the process's start: the cold start a deployment pays before its first job
    if (ran++ === 0) firstJobMs = performance.now()
  })
  let told = 0
  const progress = setInterval(() => {
    if (ran === told) return
    told = ran
    const line: Progress = { started: ran }
    process.stdout.write(`${JSON.stringify(line)}\n`)
  }, 10)
  await new Promise<void>((resolve) => {
    const lines = createInterface({ input: process.stdin })
    lines.once("line", () => resolve())
    lines.once("close", () => resolve())
  })
  clearInterval(progress)
  const cpu = process.cpuUsage()
  await worker.stop()
  await system.close()
  const report: DrainReport = { ran, cpuUs: cpu.user + cpu.system, firstJobMs }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

main(JSON.parse(process.argv[2] ?? "{}") as Request).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
