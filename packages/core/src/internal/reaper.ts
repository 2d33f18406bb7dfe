import { Clock, type Duration, Effect } from "effect"
import type { JobStore } from "../JobStore.js"
import * as Outage from "./outage.js"

/**
 * The reaper queues again the runs whose worker stopped renewing its lease
 * (it crashed, or lost the store). `reapExpired` is one atomic step, so any
 * number of reapers can run against one store.
 */
export const make = (store: JobStore, interval: Duration.Duration) =>
  Outage.every(
    store,
    "reapExpired",
    interval,
    Effect.gen(function*() {
      const reapedCount = yield* store.reapExpired(yield* Clock.currentTimeMillis)
      if (reapedCount > 0) {
        yield* Effect.logWarning(`clockwork: re-queued ${reapedCount} run(s) whose worker stopped renewing its lease`)
      }
    })
  )
