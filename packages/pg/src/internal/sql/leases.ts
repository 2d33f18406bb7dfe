import type { HeartbeatResult, HeldRun } from "@clockwork/core/JobStore"
import type { RunId } from "@clockwork/core/Run"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { instant, isRunId } from "../rows.js"
import type { Tables } from "../tables.js"
import { cancellingDependents } from "./dependents.js"
import { notify } from "./notify.js"
import { wakingParents } from "./wake.js"

/**
 * Extends the leases of the runs this worker still holds at the attempts it
 * names (the claim's fencing token), and returns them with their cancellation
 * requests; every other named run is lost to this worker. Rows are locked in
 * id order, as `complete` locks them, so a heartbeat and a completion of one
 * worker never deadlock.
 */
export const heartbeat = (
  t: Tables,
  workerId: string,
  held: ReadonlyArray<HeldRun>,
  leaseUntil: number
): Effect.Effect<HeartbeatResult, SqlError> => {
  const valid = held.filter((run) => isRunId(run.runId))
  const lostOutright = held.filter((run) => !isRunId(run.runId)).map((run) => run.runId)
  if (valid.length === 0) return Effect.succeed({ lost: lostOutright, cancelRequested: [] })
  return t.sql<{ readonly id: string; readonly cancel_requested: boolean }>`
    with held as (
      select * from unnest(${valid.map((run) => run.runId)}::uuid[], ${valid.map((run) => run.attempt)}::int[])
        as h(id, attempt)
    ),
    locked as (
      select r.id from ${t.runs} r join held h on r.id = h.id and r.attempt = h.attempt
      where r.state = 'running' and r.worker_id = ${workerId}
      order by r.id
      for update of r
    ),
    renewed as (
      update ${t.runs} r set lease_until = ${instant(leaseUntil)}
      from locked l
      where r.id = l.id
      returning r.id::text as id, r.cancel_requested
    )
    select id, cancel_requested from renewed`.pipe(
    Effect.map((rows): HeartbeatResult => {
      const renewed = new Set(rows.map((row) => row.id))
      return {
        lost: [...lostOutright, ...valid.filter((run) => !renewed.has(run.runId)).map((run) => run.runId)],
        cancelRequested: rows.filter((row) => row.cancel_requested).map((row) => row.id as RunId)
      }
    })
  )
}

/**
 * Takes back, in one statement, the runs whose lease ran out: each is queued
 * again after `leaseExpiryBackoff` (1 s doubling per expiry up to 5 minutes,
 * times a random factor in [0.5, 1.5), drawn per row) with its count of
 * expiries raised, and its lost attempt recorded as interrupted (error tag
 * `LeaseExpired`, started when it was claimed). A run whose cancellation was
 * requested ends `cancelled` instead, as `cancel` ends a queued one: its
 * then-jobs recorded cancelled, a workflow parent woken. `skip locked` leaves
 * a run whose worker is completing it right now to that worker (and never
 * waits, so the reaper takes no part in a lock cycle); any number of reapers
 * may run.
 */
export const reapExpired = (t: Tables, now: number): Effect.Effect<number, SqlError> => {
  const at = instant(now)
  return t.sql<{ readonly reaped: number }>`
    with expired as (
      select id, worker_id, claimed_at from ${t.runs}
      where state = 'running' and lease_until < ${at}
      order by id
      for update skip locked
    ),
    taken as (
      update ${t.runs} r
      set state = case when r.cancel_requested then 'cancelled' else 'queued' end,
        run_at = case
            when r.cancel_requested then r.run_at
            else ${at}::timestamptz
              + floor(least(1000 * power(2, r.lease_expiries), 300000) * (0.5 + random())) * interval '1 millisecond'
          end,
        finished_at = case when r.cancel_requested then ${at}::timestamptz end,
        worker_id = case when r.cancel_requested then r.worker_id end,
        lease_until = null,
        lease_expiries = r.lease_expiries + 1,
        cancel_requested = false
      from expired e
      where r.id = e.id
      returning r.id, r.job_name, r.schedule_id, r.attempt, r.scheduled_for, r.state, r.run_at, r.lease_expiries,
        r.then_jobs, r.parent_run_id, e.worker_id, e.claimed_at
    ),
    recorded as (
      insert into ${t.history} (run_id, job_name, schedule_id, attempt, status, scheduled_for, started_at, finished_at,
        worker_id, error_tag, error_message, error_cause, retry_at)
      select id, job_name, schedule_id, attempt, case when state = 'queued' then 'interrupted' else 'cancelled' end,
        scheduled_for, coalesce(claimed_at, ${at}), ${at}, worker_id,
        case when state = 'queued' then 'LeaseExpired' end,
        case when state = 'queued' then
          'worker ' || coalesce(worker_id, '?') || ' stopped renewing its lease (' || lease_expiries ||
          case when lease_expiries = 1 then ' time' else ' times' end || ' for this run)'
        end,
        case when state = 'queued' then '' end,
        case when state = 'queued' then run_at end
      from taken
    ),
    -- the runs ended here (their cancellation was requested): their then-jobs are recorded cancelled,
    -- and a workflow waiting for one as its child looks again
    cancelled as (
      select id, job_name, then_jobs, parent_run_id from taken where state = 'cancelled'
    ),
    ${cancellingDependents(t, "cancelled", at)},
    ${wakingParents(t, "cancelled", at)}
    select count(*)::int as reaped from taken`.pipe(
    Effect.flatMap(([row]) => {
      const reaped = row?.reaped ?? 0
      // after the commit: the runs are visible by the time anyone wakes
      return reaped > 0 ? Effect.as(notify(t, "runs"), reaped) : Effect.succeed(reaped)
    })
  )
}
