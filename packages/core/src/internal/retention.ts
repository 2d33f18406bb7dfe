import { Clock, Duration, Effect } from "effect"
import type { JobStore } from "../JobStore.js"
import * as Outage from "./outage.js"

/**
 * Prunes the history now and then every `interval`: rows (and final runs)
 * that ended more than `keep` ago. Idempotent, so any number of processes may
 * prune one store.
 */
export const make = (store: JobStore, keep: Duration.Duration, interval: Duration.Duration) =>
  Outage.every(
    store,
    "pruneHistory",
    interval,
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const pruned = yield* store.pruneHistory(now - Duration.toMillis(keep))
      if (pruned > 0) {
        yield* Effect.logInfo(`clockwork: pruned ${pruned} history row(s) older than ${Duration.format(keep)}`)
      }
    })
  )
