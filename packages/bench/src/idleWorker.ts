/**
 * The worker process of the scale scenario (e): starts one system's worker
 * against the tables the scenario filled, lets it settle, measures its CPU
 * while idle, its RSS and heap after a GC, and how long one newly due job
 * takes to start. Prints one JSON line.
 */
import { load } from "./load.js"
import { within } from "./scenario.js"
import { median, sleep } from "./stats.js"
import type { Connection, SystemName } from "./system.js"

export interface IdleReport {
  readonly cpuPercent: number
  readonly rssMb: number
  readonly heapMb: number
  readonly claimMs: number
}

interface Request {
  readonly system: SystemName
  readonly connection: Connection
  readonly windowMs: number
  readonly claims: number
}

const gc = () => (globalThis as { gc?: () => void }).gc?.()
const mb = (bytes: number) => bytes / 1024 / 1024

const main = async (request: Request) => {
  const system = await load(request.system, request.connection, true)
  // payloads of the probe jobs; the stored future jobs never start during the measurement
  const probe = 10_000_000
  let waiting: ((at: number) => void) | undefined
  let expected = -1
  const worker = await system.startWorker((i) => {
    if (i === expected) waiting?.(performance.now())
  })
  await sleep(2_000)
  gc()
  const cpu = process.cpuUsage()
  const wall = performance.now()
  await sleep(request.windowMs)
  const used = process.cpuUsage(cpu)
  const cpuPercent = ((used.user + used.system) / 1000 / (performance.now() - wall)) * 100
  gc()
  const memory = process.memoryUsage()
  const claims: Array<number> = []
  for (let k = 0; k < request.claims; k++) {
    expected = probe + k
    const started = new Promise<number>((resolve) => (waiting = resolve))
    const start = performance.now()
    await system.enqueue(expected)
    claims.push((await within(started, 30_000, `${request.system} probe job`)) - start)
    await sleep(100)
  }
  await worker.stop()
  await system.close()
  const report: IdleReport = { cpuPercent, rssMb: mb(memory.rss), heapMb: mb(memory.heapUsed), claimMs: median(claims) }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

main(JSON.parse(process.argv[2] ?? "{}") as Request).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
