import type { CancelResult } from "@clockwork/core/JobStore"
import type { RunId, RunState } from "@clockwork/core/Run"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { instant, isRunId } from "../rows.js"
import type { Tables } from "../tables.js"

/**
 * Cancels a queued run and records it in the history, in one statement. A run
 * a worker claims meanwhile is not cancelled: the UPDATE waits for that claim,
 * re-reads the row and finds it no longer queued, and the answer is "running".
 */
export const cancel = (t: Tables, runId: RunId, now: number): Effect.Effect<CancelResult, SqlError> => {
  if (!isRunId(runId)) return Effect.succeed("not_found")
  const at = instant(now)
  return t.sql<{ readonly state: RunState; readonly cancelled: boolean }>`
    with target as (
      select id, state from ${t.runs} where id = ${runId}
    ),
    cancelled as (
      update ${t.runs} r
      set state = 'cancelled', finished_at = ${at}
      from target
      where r.id = target.id and r.state = 'queued'
      returning r.id, r.job_name, r.schedule_id, r.attempt, r.scheduled_for
    ),
    recorded as (
      insert into ${t.history} (run_id, job_name, schedule_id, attempt, status, scheduled_for, started_at, finished_at)
      select id, job_name, schedule_id, attempt, 'cancelled', scheduled_for, ${at}, ${at} from cancelled
    )
    select target.state, exists (select 1 from cancelled) as cancelled from target`.pipe(
    Effect.map(([row]): CancelResult => {
      if (row === undefined) return "not_found"
      if (row.cancelled) return "cancelled"
      // still "queued" in this statement's snapshot, yet not cancelled: a worker claimed it meanwhile
      return row.state === "running" || row.state === "queued" ? "running" : "finished"
    })
  )
}
