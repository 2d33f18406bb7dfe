import { Clock, type Duration, Effect } from "effect"
import { jobQueues } from "../JobQueue.js"
import type { JobStore } from "../JobStore.js"
import * as Outage from "./outage.js"
import * as Telemetry from "./telemetry.js"

/**
 * The reaper takes back the runs whose worker stopped renewing its lease (it
 * crashed, blocked its thread, or lost the store): `reapExpired` is one atomic
 * step, so any number of reapers can run against one store. It also says, once
 * per job until that changes (a worker registers it, or none of its runs is
 * queued), when a job's due runs wait because no live worker registers the
 * job; and sets the queue depth gauges from the same count.
 */
export const make = (store: JobStore, interval: Duration.Duration) =>
  Effect.gen(function*() {
    const waiting = new Set<string>()
    // jobs whose queue depth gauges were set: set to 0 once their queue is empty
    const counted = new Set<string>()
    const warnUnclaimable = (now: number) =>
      Effect.gen(function*() {
        const queues = jobQueues(yield* store.queueDepth(now), yield* store.listWorkers(now))
        const present = new Set<string>()
        for (const q of queues) {
          present.add(q.jobName)
          counted.add(q.jobName)
          Telemetry.queueCounted(q.jobName, q.due, q.later, q.running)
        }
        for (const name of counted) {
          if (present.has(name)) continue
          Telemetry.queueCounted(name, 0, 0, 0)
          counted.delete(name)
        }
        // jobs with queued runs that no live worker registers; said once each, when runs of it are due, and
        // told until a worker registers the job or none of its runs is queued any more (not when its runs
        // only look not yet due for a round, a wall clock stepped back, which would say it again)
        const unattended = queues.filter((q) => q.due + q.later > 0 && q.workers.length === 0)
        for (const q of unattended) {
          if (q.due === 0 || waiting.has(q.jobName)) continue
          waiting.add(q.jobName)
          yield* Effect.logWarning(
            `clockwork: ${q.due} due run(s) of job "${q.jobName}" wait: no live worker registers that job`
          )
        }
        const names = new Set(unattended.map((q) => q.jobName))
        for (const name of waiting) if (!names.has(name)) waiting.delete(name)
      })
    return yield* Outage.every(
      store,
      "reapExpired",
      interval,
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const reapedCount = yield* store.reapExpired(now)
        if (reapedCount > 0) {
          Telemetry.leasesExpired(reapedCount)
          yield* Effect.logWarning(
            `clockwork: took back ${reapedCount} run(s) whose worker stopped renewing its lease; ` +
              `each is queued again after a backoff, and the lost attempt counts against its job's retry policy`
          )
        }
        yield* warnUnclaimable(now)
      })
    )
  })
