import { Clock, Duration, Effect } from "effect"
import type { JobStore } from "../JobStore.js"
import * as Outage from "./outage.js"

/**
 * Prunes the history now and then every `interval`: rows (and final runs)
 * that ended more than `keep` ago. Idempotent, so any number of processes may
 * prune one store.
 */
export const make = (store: JobStore, keep: Duration.Duration, interval: Duration.Duration) => {
  const outage = Outage.of(store)
  return Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const pruned = yield* store.pruneHistory(now - Duration.toMillis(keep))
    yield* outage.answered
    if (pruned > 0) {
      yield* Effect.logInfo(`clockwork: pruned ${pruned} history row(s) older than ${Duration.format(keep)}`)
    }
  }).pipe(
    Effect.catchAllCause((cause) => outage.failed("pruneHistory", cause)),
    Effect.zipRight(Effect.sleep(interval)),
    Effect.forever,
    Effect.forkScoped,
    Effect.asVoid
  )
}
