/**
 * (c) Enqueue → start latency, across processes as in a deployment: a worker
 * process and a producer process (`latencyProcess.ts`, compiled JavaScript
 * on plain node). Jobs are enqueued one at a time, each only after the
 * previous one started; the latency is from the producer's clock just before
 * its enqueue call to the worker's clock at the first line of the job (one
 * machine, one wall clock).
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { benchDir } from "../paths.js"
import * as Progress from "../progress.js"
import { alternate, type Context, medians, repetitionsText, type Scenario, signal, within } from "../scenario.js"
import { type Latencies, latencies, sleep } from "../stats.js"
import type { Connection, System } from "../system.js"

/** A latency process; `onLine` gets each line it prints. */
const startProcess = (connection: Connection, system: string, role: "worker" | "producer", onLine: (line: string) => void) => {
  const args = [join(benchDir, "dist", "src", "latencyProcess.js"), JSON.stringify({ role, system, connection })]
  const child = spawn(process.execPath, args, { cwd: benchDir, stdio: ["pipe", "pipe", "inherit"] })
  createInterface({ input: child.stdout }).on("line", onLine)
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", reject)
    child.on("exit", (code) => code === 0 ? resolve() : reject(new Error(`${system} ${role} exited with ${code}`)))
  })
  exited.catch(() => undefined)
  return {
    send: (line: string) => child.stdin.write(`${line}\n`),
    stop: async () => {
      child.stdin.end()
      await within(exited, 30_000, `${system} ${role} stopping`).catch((error) => {
        child.kill("SIGKILL")
        throw error
      })
    }
  }
}

/** `<i> <ms>` → [i, ms] */
const parse = (line: string) => line.split(" ").map(Number) as [number, number]

/** Latencies of `count` sequential jobs from a producer process to an idle, listening worker process. */
export const sequentialLatencies = async (
  ctx: Context,
  system: System,
  count: number,
  timeoutMs: number
): Promise<Latencies> => {
  await system.empty()
  let expected = Number.NaN // until the first measured job: the producer's warm-up job is not one
  let enqueued = signal<number>()
  let started = signal<number>()
  const workerReady = signal()
  const producerReady = signal()
  const worker = startProcess(ctx.connection, system.name, "worker", (line) => {
    if (line === "ready") return workerReady.resolve()
    const [i, at] = parse(line)
    if (i === expected) started.resolve(at)
  })
  try {
    await within(workerReady.promise, 60_000, `${system.name} worker process start`)
    const producer = startProcess(ctx.connection, system.name, "producer", (line) => {
      if (line === "ready") return producerReady.resolve()
      const [i, at] = parse(line)
      if (i === expected) enqueued.resolve(at)
    })
    try {
      await within(producerReady.promise, 60_000, `${system.name} producer process start`)
      await sleep(300) // the worker settles (connections, LISTEN) and the producer's warm-up job is done
      const times: Array<number> = []
      for (let k = 0; k < count; k++) {
        enqueued = signal<number>()
        started = signal<number>()
        expected = k
        producer.send(String(k))
        const [at, start] = await within(Promise.all([enqueued.promise, started.promise]), timeoutMs, `${system.name} job ${k}`)
        times.push(start - at)
      }
      return latencies(times)
    } finally {
      await producer.stop()
    }
  } finally {
    await worker.stop()
  }
}

export const scenario: Scenario = {
  id: "c",
  title: "Enqueue → start latency",
  run: async (ctx: Context) => {
    const count = ctx.quick ? 50 : 1_000
    const samples = await alternate(
      ctx,
      "c latency",
      ctx.systems,
      (system) => sequentialLatencies(ctx, system, count, 30_000),
      (l) => `p50 ${Progress.ms(l.p50)}, p95 ${Progress.ms(l.p95)}, p99 ${Progress.ms(l.p99)}, max ${Progress.ms(l.max)}`
    )
    const p50 = medians(samples, (l) => l.p50)
    const p99 = medians(samples, (l) => l.p99)
    return {
      id: "c",
      title: `Enqueue → start latency, ${Progress.int(count)} sequential jobs, producer and worker in separate processes`,
      method: `A worker process and a producer process (compiled JavaScript on plain node; the producer's ` +
        `connections opened by one job before the measurement). Each job enqueued by the producer (single-job ` +
        `API) only after the previous one started; measured from the producer's wall clock before the enqueue ` +
        `call to the worker's at the start of the job. Percentiles per repetition, then their median. ` +
        `${repetitionsText(ctx)}`,
      rows: [
        { metric: "p50", unit: "ms", better: "lower", values: p50 },
        { metric: "p95", unit: "ms", better: "lower", values: medians(samples, (l) => l.p95) },
        { metric: "p99", unit: "ms", better: "lower", values: p99 },
        { metric: "max", unit: "ms", better: "lower", values: medians(samples, (l) => l.max) }
      ],
      targets: [
        { label: "latency p50 ≤ 2 ms", measured: Progress.ms(p50["clockwork"]!), goal: "≤ 2 ms", met: p50["clockwork"]! <= 2 },
        { label: "latency p99 ≤ 10 ms", measured: Progress.ms(p99["clockwork"]!), goal: "≤ 10 ms", met: p99["clockwork"]! <= 10 }
      ]
    }
  }
}
