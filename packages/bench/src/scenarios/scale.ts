/**
 * (e) Scale: with a million future jobs (due over the next week) and, where
 * the system keeps schedules in the database, 100,000 daily cron schedules
 * (next due twelve hours on) stored, a freshly started worker process is watched idle: its
 * CPU (`process.cpuUsage` over a window), RSS and heap after a GC, then the
 * time from enqueuing one due job to its start. Each measurement is a new
 * process (`idleWorker.ts`), so no figure carries another system's memory.
 */
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { IdleReport } from "../idleWorker.js"
import { benchDir } from "../paths.js"
import * as Progress from "../progress.js"
import { alternate, type Context, medians, repetitionsText, type Scenario } from "../scenario.js"
import type { Connection, System } from "../system.js"
import { fill } from "./drain.js"

const day = 24 * 60 * 60 * 1000

/** Stores the future jobs, due from one to eight days from now, and the cron schedules. */
const seed = async (system: System, jobs: number, schedules: number) => {
  await system.empty()
  const start = performance.now()
  const perDay = Math.ceil(jobs / 7)
  for (let d = 0; d < 7; d++) {
    await fill(system, Math.min(perDay, jobs - d * perDay), new Date(Date.now() + (d + 1) * day))
  }
  if (system.storeCronSchedules !== undefined) await system.storeCronSchedules(schedules)
  return (performance.now() - start) / 1000
}

/** Runs one idle worker process and reads its report (the last line it prints). */
export const idleWorker = (
  connection: Connection,
  system: string,
  windowMs: number,
  claims: number
): Promise<IdleReport> =>
  new Promise((resolve, reject) => {
    // compiled JavaScript on plain node, as a deployment runs it (tsx's loader would weigh on heap and CPU)
    const args = [
      "--expose-gc",
      join(benchDir, "dist", "src", "idleWorker.js"),
      JSON.stringify({ system, connection, windowMs, claims })
    ]
    const child = spawn(process.execPath, args, { cwd: benchDir, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    let starved: IdleReport | undefined
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk))
    child.on("error", reject)
    // a worker whose event loop is too busy to end its own window is measured from outside, then stopped
    const deadline = setTimeout(async () => {
      starved = await fromOutside(child.pid!)
      Progress.line("e scale", `${system} worker still busy ${(overdueMs / 1000).toFixed(0)} s after its window; measured from /proc and stopped`)
      child.kill("SIGKILL")
    }, 4_000 + windowMs + claims * 1_000 + overdueMs)
    child.on("exit", (code) => {
      clearTimeout(deadline)
      if (starved !== undefined) return resolve(starved)
      const last = out.trim().split("\n").at(-1) ?? ""
      if (code !== 0) return reject(new Error(`idle ${system} worker exited with ${code}: ${last}`))
      try {
        resolve(JSON.parse(last) as IdleReport)
      } catch {
        reject(new Error(`idle ${system} worker printed no report: ${last}`))
      }
    })
  })

/** How long past its expected end an idle worker may run before it is measured from outside. */
const overdueMs = 60_000

/** CPU over 5 s and RSS of a process, read from /proc (Linux); no heap or claim figure. */
const fromOutside = async (pid: number): Promise<IdleReport> => {
  const ticks = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return Number(fields[11]) + Number(fields[12]) // utime + stime, in clock ticks (100 a second)
  }
  const before = ticks()
  await new Promise((resolve) => setTimeout(resolve, 5_000))
  const cpuPercent = (ticks() - before) / 5 // ticks per 5 s → % of one core
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
  return { cpuPercent, rssMb: Number(rss) / 1024, heapMb: Number.NaN, claimMs: Number.NaN }
}

export const scenario: Scenario = {
  id: "e",
  title: "Scale: idle worker over a large store",
  run: async (ctx: Context) => {
    const jobs = ctx.quick ? 5_000 : 1_000_000
    const schedules = ctx.quick ? 500 : 100_000
    // pg-boss's cron pass comes every 30 s: a shorter window would catch it or not by chance
    const windowMs = ctx.quick ? 1_000 : 30_000
    const claims = ctx.quick ? 3 : 10
    const seeding: Array<string> = []
    for (const system of ctx.systems) {
      const seconds = await seed(system, jobs, schedules)
      const what = system.storeCronSchedules === undefined
        ? `${Progress.int(jobs)} future jobs`
        : `${Progress.int(jobs)} future jobs and ${Progress.int(schedules)} cron schedules`
      seeding.push(`${system.name}: ${what} stored in ${seconds.toFixed(1)} s`)
      Progress.line("e scale", `seeded ${system.name}: ${what} in ${seconds.toFixed(1)} s`)
    }
    try {
      // no warm-up: each repetition is a new process anyway, and seeding has warmed the server
      const measured = { ...ctx, warmup: false }
      const samples = await alternate(
        measured,
        "e scale",
        ctx.systems,
        (system) => idleWorker(ctx.connection, system.name, windowMs, claims),
        (r) =>
          `idle CPU ${r.cpuPercent.toFixed(2)} %, RSS ${r.rssMb.toFixed(0)} MB, heap ${r.heapMb.toFixed(1)} MB, ` +
          `claim next due ${Progress.ms(r.claimMs)}`
      )
      const starved = Array.from(samples).filter(([, reps]) => reps.some((r) => Number.isNaN(r.heapMb)))
      const cpu = medians(samples, (r) => r.cpuPercent)
      const heap = medians(samples, (r) => r.heapMb)
      return {
        id: "e",
        title: `Scale: ${Progress.int(jobs)} future jobs, ${Progress.int(schedules)} cron schedules`,
        method: `Stored once: ${Progress.int(jobs)} jobs due one to eight days ahead (bulk enqueue) and, for ` +
          `clockwork (\`Scheduler.scheduleMany\`, 10,000 a call) and pg-boss (\`schedule\`), ${Progress.int(schedules)} cron ` +
          `schedules (daily, in five time zones, next due 12 to 13 hours on) (graphile-worker's crontab lives in code, ` +
          `not in a table: no schedules for it). Then, per repetition, a new worker process per system: ` +
          `2 s to settle, CPU over ${windowMs / 1000} s, RSS and heap after a GC, then ${claims} times: enqueue ` +
          `one due job and time until it starts (median). ${repetitionsText(measured)}\n\n${seeding.map((s) => `- ${s}`).join("\n")}`,
        rows: [
          { metric: "idle CPU", unit: "%", better: "lower", values: cpu },
          { metric: "RSS", unit: "MB", better: "lower", values: medians(samples, (r) => r.rssMb) },
          { metric: "heap", unit: "MB", better: "lower", values: heap },
          { metric: "claim next due run", unit: "ms", better: "lower", values: medians(samples, (r) => r.claimMs) }
        ],
        ...(starved.length === 0 ? {} : {
          notes: starved.map(([name, reps]) =>
            `${name}: in ${reps.filter((r) => Number.isNaN(r.heapMb)).length} of ${reps.length} repetitions its ` +
            `event loop was still too busy to end the window ${overdueMs / 1000} s after it should have ended; ` +
            `its CPU (over 5 s) and RSS were then read from /proc, with no heap or claim figure.`
          ).join("\n\n")
        }),
        targets: [{
          label: "idle worker with 1M future jobs: CPU < 2 %, heap < 200 MB",
          measured: `${cpu["clockwork"]!.toFixed(2)} %, ${heap["clockwork"]!.toFixed(1)} MB`,
          goal: "< 2 %, < 200 MB",
          met: cpu["clockwork"]! < 2 && heap["clockwork"]! < 200
        }]
      }
    } finally {
      // a million rows per system are no use to anyone afterwards
      for (const system of ctx.systems) await system.empty()
    }
  }
}
