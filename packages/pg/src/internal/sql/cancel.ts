import type { CancelResult } from "@clockwork/core/JobStore"
import type { RunId, RunState } from "@clockwork/core/Run"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { instant, isRunId } from "../rows.js"
import type { Tables } from "../tables.js"
import { cancellingDependents } from "./dependents.js"
import { notify } from "./notify.js"
import { wakingParents } from "./wake.js"

/**
 * Cancels a queued run and records it in the history, in one statement; for a
 * running run, requests its cancellation (its worker hears of it through its
 * heartbeat, woken at once by the "cancels" notification) and answers
 * "running". A run a worker claims meanwhile is not cancelled: the first
 * UPDATE waits for that claim, re-reads the row and finds it no longer queued;
 * the request then applies to it.
 */
export const cancel = (t: Tables, runId: RunId, now: number): Effect.Effect<CancelResult, SqlError> => {
  if (!isRunId(runId)) return Effect.succeed("not_found")
  const at = instant(now)
  return t.sql<
    { readonly state: RunState; readonly cancelled: boolean; readonly requested: boolean; readonly woke: boolean }
  >`
    with target as (
      select id, state from ${t.runs} where id = ${runId}
    ),
    ${cancelling(t, "target", at)},
    -- a workflow waiting for this run as its child looks again
    ${wakingParents(t, "cancelled", at)}
    select target.state, exists (select 1 from cancelled) as cancelled, exists (select 1 from requested) as requested,
      exists (select 1 from woken where queued) as woke
    from target`.pipe(
    Effect.flatMap(([row]) => {
      if (row === undefined) return Effect.succeed<CancelResult>("not_found")
      if (row.cancelled) return Effect.as(row.woke ? notify(t, "runs") : Effect.void, "cancelled" as const)
      // still "queued" in this statement's snapshot, yet not cancelled: a worker claimed it meanwhile
      const result: CancelResult = row.state === "running" || row.state === "queued" ? "running" : "finished"
      // after the commit, so the worker's heartbeat finds the request
      return row.requested ? Effect.as(notify(t, "cancels"), result) : Effect.succeed(result)
    })
  )
}

/**
 * The CTEs that cancel the runs whose ids the CTE `targets` holds: `cancelled`
 * (queued ones, at once), `requested` (running ones: their workers interrupt
 * them), `recorded` (the history rows of the cancelled) and the cancelled
 * runs' then-jobs, recorded cancelled (`cancellingDependents`).
 */
const cancelling = (t: Tables, targets: "target" | "tree", at: Date) =>
  t.sql`
    cancelled as (
      update ${t.runs} r
      set state = 'cancelled', finished_at = ${at}
      from ${t.sql.literal(targets)} x
      where r.id = x.id and r.state = 'queued'
      returning r.id, r.job_name, r.schedule_id, r.attempt, r.scheduled_for, r.parent_run_id, r.then_jobs
    ),
    requested as (
      update ${t.runs} r
      set cancel_requested = true
      from ${t.sql.literal(targets)} x
      where r.id = x.id and r.state = 'running' and not r.cancel_requested
      returning r.id
    ),
    recorded as (
      insert into ${t.history} (run_id, job_name, schedule_id, attempt, status, scheduled_for, started_at, finished_at)
      select id, job_name, schedule_id, attempt, 'cancelled', scheduled_for, ${at}, ${at} from cancelled
    ),
    ${cancellingDependents(t, "cancelled", at)}`

/**
 * Cancels a workflow run's descendants (its children, theirs…) as `cancel`
 * cancels a run. Its own statement, after the run's: children are locked
 * after their parent nowhere else.
 */
export const cancelChildren = (
  t: Tables,
  runId: RunId,
  now: number
): Effect.Effect<{ readonly cancelled: number; readonly requested: number }, SqlError> => {
  const at = instant(now)
  return Effect.map(
    t.sql<{ readonly cancelled: string | number; readonly requested: string | number }>`
      with recursive tree as (
        select id from ${t.runs} where parent_run_id = ${runId}
        union
        select r.id from ${t.runs} r join tree on r.parent_run_id = tree.id
      ),
      ${cancelling(t, "tree", at)}
      select (select count(*) from cancelled) as cancelled, (select count(*) from requested) as requested`,
    ([row]) => ({ cancelled: Number(row?.cancelled ?? 0), requested: Number(row?.requested ?? 0) })
  )
}
