import { Effect, type Scope } from "effect"
import { toTheEnd } from "../statements.js"
import type { Tables } from "../tables.js"

/** Runs inserted by one call from which the planner's statistics on `runs` are refreshed. */
export const bulk = 5_000

/**
 * After a bulk enqueue, `analyze` the runs table in the background. The
 * claim's plan depends on it: on a table just filled with many queued runs
 * and no statistics yet (autovacuum analyzes up to a minute later), the
 * planner expects a few rows and reads and sorts the whole queue for every
 * claim (67 ms for 100,000 queued runs) instead of walking `runs_claim` in
 * claim order (9 ms). One `analyze` at a time; its failure is only logged.
 */
export const refresher = (t: Tables): Effect.Effect<(inserted: number) => Effect.Effect<void>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    let running = false
    // not cancelled when the store's scope closes during it: a cancel could hit the connection's next statement
    const analyze = toTheEnd(t.sql`analyze ${t.runs}`).pipe(
      Effect.catchAll((error) => Effect.logDebug("clockwork: analyze of the runs table failed", error)),
      Effect.ensuring(Effect.sync(() => (running = false)))
    )
    return (inserted: number) =>
      Effect.suspend(() => {
        if (inserted < bulk || running) return Effect.void
        running = true
        return Effect.asVoid(Effect.forkIn(analyze, scope))
      })
  })
