import type { FireResult, ScheduleFire, StoreError } from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { instant, optionalInstant } from "../rows.js"
import type { Tables } from "../tables.js"
import { insertRuns } from "./enqueue.js"
import { notify } from "./notify.js"

const notFired: FireResult = { fired: false, runIds: [], skipped: 0 }

/**
 * One schedule tick, in one transaction. The compare-and-set on
 * `next_fire_at` is what makes a tick fire exactly once across any number of
 * tickers: the first to move it from the expected time wins, the others' UPDATE
 * (which waits on the row lock, then re-reads it) matches nothing. Only the
 * winner inserts the runs, unless `skipIfActive` and the schedule already has a
 * queued or running run.
 */
export const fire = (t: Tables, fire: ScheduleFire): Effect.Effect<FireResult, SqlError | StoreError> =>
  t.sql.withTransaction(Effect.gen(function*() {
    const expected = instant(fire.expectedNextFireAt)
    const [moved] = yield* t.sql<{ readonly active: boolean }>`
      update ${t.schedules}
      set next_fire_at = ${optionalInstant(fire.nextFireAt)}, last_fire_at = ${expected}, updated_at = ${instant(fire.now)}
      where id = ${fire.scheduleId} and next_fire_at = ${expected} and not paused
      returning exists (
        select 1 from ${t.runs} where schedule_id = ${fire.scheduleId} and state in ('queued', 'running')
      ) as active`
    if (moved === undefined) return notFired
    if (fire.skipIfActive && moved.active) return { fired: true, runIds: [], skipped: fire.runs.length }
    if (fire.runs.length === 0) return { fired: true, runIds: [], skipped: 0 }
    const runIds = yield* insertRuns(t, "fire", fire.runs, fire.now)
    yield* notify(t, "runs")
    return { fired: true, runIds, skipped: 0 }
  }))
