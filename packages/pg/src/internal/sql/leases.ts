import type { RunId } from "@clockwork/core/Run"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { instant, isRunId } from "../rows.js"
import type { Tables } from "../tables.js"
import { notify } from "./notify.js"

/** Extends the leases of the runs this worker still holds; others' runs are left alone. */
export const heartbeat = (
  t: Tables,
  workerId: string,
  runIds: ReadonlyArray<RunId>,
  leaseUntil: number
): Effect.Effect<void, SqlError> => {
  const ids = runIds.filter(isRunId)
  if (ids.length === 0) return Effect.void
  return Effect.asVoid(t.sql`
    update ${t.runs}
    set lease_until = ${instant(leaseUntil)}
    where id = any(${ids}::uuid[]) and state = 'running' and worker_id = ${workerId}`)
}

/**
 * Queues again, at `now`, the runs whose lease ran out, and records each lost
 * attempt as interrupted (error tag `LeaseExpired`, started when it was
 * claimed), in one statement. `skip locked` leaves a run whose worker is
 * completing it right now to that worker; any number of reapers may run.
 */
export const reapExpired = (t: Tables, now: number): Effect.Effect<number, SqlError> => {
  const at = instant(now)
  return t.sql<{ readonly reaped: number }>`
    with expired as (
      select id, worker_id, claimed_at from ${t.runs}
      where state = 'running' and lease_until < ${at}
      for update skip locked
    ),
    requeued as (
      update ${t.runs} r
      set state = 'queued', run_at = ${at}, worker_id = null, lease_until = null
      from expired e
      where r.id = e.id
      returning r.id, r.job_name, r.schedule_id, r.attempt, r.scheduled_for, e.worker_id, e.claimed_at
    ),
    recorded as (
      insert into ${t.history} (run_id, job_name, schedule_id, attempt, status, scheduled_for, started_at, finished_at,
        worker_id, error_tag, error_message, error_cause, retry_at)
      select id, job_name, schedule_id, attempt, 'interrupted', scheduled_for, coalesce(claimed_at, ${at}), ${at},
        worker_id, 'LeaseExpired', 'worker ' || coalesce(worker_id, '?') || ' stopped renewing its lease', '', ${at}
      from requeued
    )
    select count(*)::int as reaped from requeued`.pipe(
    Effect.flatMap(([row]) => {
      const reaped = row?.reaped ?? 0
      // after the commit: the runs are visible by the time anyone wakes
      return reaped > 0 ? Effect.as(notify(t, "runs"), reaped) : Effect.succeed(reaped)
    })
  )
}
