/**
 * `clockwork status`: the live workers, the queue by job (queued, due,
 * running, and the lag of the oldest due run), the schedules and the last
 * failures.
 */
import { JobStore, Scheduler } from "@clockwork/core"
import { Command } from "@effect/cli"
import { Clock, DateTime, Effect } from "effect"
import { withStore } from "./command.js"
import * as Json from "./json.js"
import { duration, instant, print, relative, short, table } from "./output.js"
import * as Store from "./store.js"

/** Runs read to count the queue; beyond it the counts are shown as lower bounds. */
const queueScanLimit = 100_000

interface Depth {
  job: string
  queued: number
  due: number
  running: number
  oldestDueAt: number | undefined
}

export const command = Command.make("status", { store: Store.options }, ({ store }) =>
  withStore(store, (target) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const jobStore = yield* JobStore.JobStore
      const workers = yield* Scheduler.workers
      const active = yield* jobStore.listRuns({ state: ["queued", "running"], limit: queueScanLimit + 1 })
      const truncated = active.length > queueScanLimit
      const schedules = yield* Scheduler.schedules
      const failures = yield* Scheduler.history({ status: ["failed", "timed_out", "dead"], limit: 5 })

      const byJob = new Map<string, Depth>()
      for (const run of active.slice(0, queueScanLimit)) {
        let depth = byJob.get(run.jobName)
        if (depth === undefined) {
          depth = { job: run.jobName, queued: 0, due: 0, running: 0, oldestDueAt: undefined }
          byJob.set(run.jobName, depth)
        }
        if (run.state === "running") {
          depth.running++
          continue
        }
        depth.queued++
        const runAt = DateTime.toEpochMillis(run.runAt)
        if (runAt <= now) {
          depth.due++
          if (depth.oldestDueAt === undefined || runAt < depth.oldestDueAt) depth.oldestDueAt = runAt
        }
      }
      const queue = [...byJob.values()].sort((a, b) => a.job.localeCompare(b.job))
      const firing = schedules.filter((s) => !s.paused && s.nextFireAt !== undefined)
      const next = firing.reduce<typeof firing[number] | undefined>(
        (first, s) =>
          first === undefined || DateTime.lessThan(s.nextFireAt!, first.nextFireAt!) ? s : first,
        undefined
      )

      yield* print(store.json, {
        store: Store.describeTarget(target),
        schema: store.schema,
        workers: workers.map(Json.worker),
        queue: queue.map((d) => ({
          job: d.job,
          queued: d.queued,
          due: d.due,
          running: d.running,
          lagMs: d.oldestDueAt === undefined ? null : now - d.oldestDueAt
        })),
        queueTruncated: truncated,
        schedules: {
          total: schedules.length,
          paused: schedules.filter((s) => s.paused).length,
          next: next === undefined ? null : { id: next.id, job: next.jobName, at: Json.schedule(next).nextFireAt }
        },
        failures: failures.map(Json.attempt)
      }, () => {
        const lines = [`store: ${Store.describeTarget(target)}, schema ${store.schema}`, ""]
        lines.push(`workers: ${workers.length}`)
        if (workers.length > 0) {
          lines.push(table(
            ["id", "started (UTC)", "last beat", "concurrency", "running", "jobs"],
            workers.map((w) => [
              w.id,
              instant(w.startedAt),
              relative(w.heartbeatAt, now),
              String(w.info.concurrency),
              String(w.info.running),
              w.info.jobs.join(", ")
            ])
          ))
        }
        lines.push("", `queue: ${queue.length === 0 ? "empty" : ""}`.trimEnd())
        if (queue.length > 0) {
          const more = truncated ? "+" : ""
          lines.push(table(
            ["job", "queued", "due", "running", "lag"],
            queue.map((d) => [
              d.job,
              `${d.queued}${more}`,
              `${d.due}${more}`,
              `${d.running}${more}`,
              d.oldestDueAt === undefined ? "-" : duration(now - d.oldestDueAt)
            ])
          ))
          if (truncated) lines.push(`(counted over the newest ${queueScanLimit} runs)`)
        }
        const paused = schedules.filter((s) => s.paused).length
        lines.push(
          "",
          `schedules: ${schedules.length}${paused > 0 ? ` (${paused} paused)` : ""}${
            next === undefined ? "" : `; next: ${next.id} (${next.jobName}) ${relative(next.nextFireAt, now)}`
          }`
        )
        lines.push("", `last failures: ${failures.length === 0 ? "none" : ""}`.trimEnd())
        if (failures.length > 0) {
          lines.push(table(
            ["finished (UTC)", "job", "status", "attempt", "run", "error"],
            failures.map((h) => [
              instant(h.finishedAt),
              h.jobName,
              h.status,
              String(h.attempt),
              h.runId,
              short(h.error?.message)
            ])
          ))
        }
        return lines.join("\n")
      })
    }))).pipe(Command.withDescription("workers, queue depth by job and state, lag, schedules and the last failures"))
