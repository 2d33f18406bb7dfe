import type { CompleteResult, NewRun, RunOutcome, StoreError } from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { encodeJson, millisParam } from "../rows.js"
import type { Tables } from "../tables.js"
import { insertRuns } from "./enqueue.js"
import { notify } from "./notify.js"

/**
 * Records a batch of outcomes in one statement (one JSON document): each run
 * still running the reported attempt is moved on (queued again at `retryAt`,
 * unless its cancellation was requested, then it ends cancelled; else to its
 * final state) and its history row inserted; every other outcome
 * is refused (fencing: a late report from a worker whose lease was reaped
 * changes nothing, and leaves no row beside the newer attempt's). The runs are
 * locked in id order, as the heartbeat locks them, so the two never deadlock.
 *
 * Follow-ups are inserted for the outcomes that still held their run, in the
 * same transaction as that move, so a chain step is never lost nor doubled. A
 * run that ends without success records its then-jobs as cancelled runs, in
 * the same statement.
 * Without follow-ups the one statement is the whole transaction (and the
 * notification for runs queued again follows its commit). The run feed's
 * readers are told by the store after the commit, at most every 100 ms
 * (`changes.ts`): a NOTIFY per completion cost a sixth of a drain's throughput.
 */
export const complete = (
  t: Tables,
  outcomes: ReadonlyArray<RunOutcome>
): Effect.Effect<CompleteResult, SqlError | StoreError> => {
  if (outcomes.length === 0) return Effect.succeed({ refused: [] })
  const body = Effect.gen(function*() {
    const document = yield* encodeJson("complete", () => toDocument(outcomes))
    const moved = yield* moveRuns(t, document)
    const followUps: Array<NewRun> = []
    const createdAt: Array<number> = []
    let requeued = false
    const held = new Set<number>()
    for (const row of moved) {
      held.add(Number(row.ord))
      const outcome = outcomes[Number(row.ord) - 1]!
      if (row.requeued) requeued = true
      for (const run of outcome.followUps ?? []) {
        followUps.push(run)
        createdAt.push(outcome.finishedAt)
      }
    }
    if (followUps.length > 0) yield* insertRuns(t, "complete", followUps, createdAt)
    if (requeued || followUps.length > 0) yield* notify(t, "runs")
    return { refused: outcomes.filter((_, i) => !held.has(i + 1)).map((o) => o.runId) }
  })
  const chains = outcomes.some((o) => o.followUps !== undefined && o.followUps.length > 0)
  return chains ? t.sql.withTransaction(body) : body
}

/**
 * The outcomes as one JSON document, an object per outcome with short keys:
 * one parameter that node-postgres sends as it is (fifteen array parameters
 * had every element escaped one by one), as the enqueue sends its runs. An
 * absent result or metrics has no key (SQL NULL), a JSON `null` result is
 * `"r": null`.
 */
const toDocument = (outcomes: ReadonlyArray<RunOutcome>) =>
  JSON.stringify(outcomes.map((o) => ({
    i: o.runId,
    j: o.jobName,
    s: o.scheduleId,
    a: o.attempt,
    t: o.status,
    f: millisParam(o.scheduledFor),
    b: millisParam(o.startedAt),
    e: millisParam(o.finishedAt),
    // the memory store's "no worker" is the empty string; here it is NULL
    w: o.workerId === "" ? undefined : o.workerId,
    g: o.error?.tag,
    m: o.error?.message,
    c: o.error?.cause,
    r: o.result,
    x: o.metrics,
    y: o.retryAt === undefined ? undefined : millisParam(o.retryAt)
  })))

/**
 * Moves the runs and records their history through `complete_runs_v2`, a
 * server-side function holding the statement below (created by migration
 * 0010; `complete_runs_v1` of migration 0008 stays for processes of the
 * version before): PL/pgSQL keeps the statement's plan per connection, where
 * sent as it is the statement was planned anew each time (0.6 ms, three times
 * its own run time for one outcome, and most of a single job's completion).
 */
const moveRuns = (t: Tables, document: string) =>
  t.sql<{ readonly ord: string | number; readonly requeued: boolean }>`
    select ord, requeued from ${t.sql(`${t.schema}.complete_runs_v2`)}(${document}::jsonb)`

/**
 * Creates `<schema>.complete_runs_v2(document jsonb)`: `complete_runs_v1`
 * (below), except that a run whose cancellation was requested while it ran
 * ends `cancelled` when its attempt would be queued again (a retry, or a
 * re-queue at shutdown): its history row says `cancelled`, without a retry,
 * and keeps the attempt's error. v1 queued it again with the request still
 * set, so the next attempt started and was interrupted at its first
 * heartbeat, or ended cancelled on its first wait (a workflow), where the
 * memory store forgot the request. A run queued again drops any request.
 *
 * Frozen once shipped, as v1.
 */
export const createCompleteRunsV2 = (schema: string) => {
  const runs = `${schema}.runs`
  const history = `${schema}.run_history`
  return `
  create function ${schema}.complete_runs_v2(document jsonb) returns table (ord bigint, requeued boolean)
  language plpgsql as $body$
  #variable_conflict use_column
  begin
    return query
    with outcome as (
      select (x.e->>'i')::uuid as run_id, x.e->>'j' as job_name, x.e->>'s' as schedule_id, (x.e->>'a')::int as attempt,
        x.e->>'t' as status,
        ('epoch'::timestamptz + (x.e->>'f')::int8 * interval '1 millisecond') as scheduled_for,
        ('epoch'::timestamptz + (x.e->>'b')::int8 * interval '1 millisecond') as started_at,
        ('epoch'::timestamptz + (x.e->>'e')::int8 * interval '1 millisecond') as finished_at,
        x.e->>'w' as worker_id, x.e->>'g' as error_tag, x.e->>'m' as error_message, x.e->>'c' as error_cause,
        x.e->'r' as result, x.e->'x' as metrics,
        ('epoch'::timestamptz + (x.e->>'y')::int8 * interval '1 millisecond') as retry_at, x.ord
      from jsonb_array_elements(document) with ordinality as x(e, ord)
    ),
    -- a run whose cancellation was requested is not queued again: the request is read with the lock
    locked as (
      select r.id, o.retry_at is not null and not r.cancel_requested as requeue,
        o.retry_at is not null and r.cancel_requested as cancel
      from ${runs} r join outcome o on r.id = o.run_id and r.attempt = o.attempt
      where r.state = 'running'
      order by r.id
      for update of r
    ),
    moved as (
      update ${runs} r
      set state = case
            when l.requeue then 'queued'
            when l.cancel then 'cancelled'
            when o.status = 'interrupted' then 'failed'
            else o.status
          end,
        run_at = case when l.requeue then o.retry_at else r.run_at end,
        result = o.result,
        error = case
            when o.error_tag is null then null
            else jsonb_build_object('tag', o.error_tag, 'message', o.error_message, 'cause', o.error_cause)
          end,
        worker_id = case when not l.requeue then r.worker_id end,
        lease_until = null,
        cancel_requested = false,
        finished_at = case when not l.requeue then o.finished_at end
      from outcome o, locked l
      where r.id = l.id and r.id = o.run_id and r.attempt = o.attempt
      returning o.ord, l.requeue as requeued, l.cancel as cancelled, r.id, r.job_name, r.state, r.then_jobs,
        o.finished_at, r.parent_run_id
    ),
    recorded as (
      insert into ${history} (run_id, job_name, schedule_id, attempt, status, scheduled_for, started_at, finished_at,
        worker_id, error_tag, error_message, error_cause, result, metrics, retry_at)
      select o.run_id, o.job_name, o.schedule_id, o.attempt, case when m.cancelled then 'cancelled' else o.status end,
        o.scheduled_for, o.started_at, o.finished_at, o.worker_id, o.error_tag, o.error_message, o.error_cause,
        o.result, o.metrics, case when m.cancelled then null else o.retry_at end
      from outcome o join moved m on m.ord = o.ord
      order by o.ord
    ),
    -- the dependents of the runs that ended without success: each then-job becomes a run that never
    -- ran, cancelled with a ParentFailed error (the message as Run.ParentFailed words it), and its history row
    dependent as (
      insert into ${runs} as d (id, job_name, state, attempt, run_at, scheduled_for, created_at, finished_at, error)
      select gen_random_uuid(), j.job_name, 'cancelled', 0, m.finished_at, m.finished_at, m.finished_at, m.finished_at,
        jsonb_build_object(
          'tag', 'ParentFailed',
          'message', 'its parent run ' || m.id || ' (' || m.job_name || ') ended ' || m.state,
          'cause', ''
        )
      from moved m
      cross join unnest(m.then_jobs) as j(job_name)
      where m.state not in ('queued', 'succeeded')
      returning d.id, d.job_name, d.finished_at, d.error
    ),
    dependent_recorded as (
      insert into ${history} (run_id, job_name, attempt, status, scheduled_for, started_at, finished_at,
        error_tag, error_message, error_cause)
      select id, job_name, 0, 'cancelled', finished_at, finished_at, finished_at,
        error->>'tag', error->>'message', error->>'cause'
      from dependent
    ),
    -- the workflow runs whose children ended: each counts a wake, and one waiting in the queue is due
    -- now. A child is locked before its parent, here as in every statement that locks both
    woken as (
      update ${runs} p
      set wakes = p.wakes + 1,
        run_at = case when p.state = 'queued' and p.run_at > w.at then w.at else p.run_at end
      from (
        select parent_run_id, min(finished_at) as at from moved
        where parent_run_id is not null and state <> 'queued'
        group by parent_run_id
      ) w
      where p.id = w.parent_run_id and p.state in ('queued', 'running')
      returning p.state = 'queued' as queued
    )
    -- the run feed grew: readers in every process wake at the commit (no row moved, no notification)
    select m.ord, m.requeued or exists (select 1 from woken where woken.queued) from moved m;
  end
  $body$`
}

/**
 * Creates `<schema>.complete_runs_v1(document jsonb)`: the completion in one
 * statement. Every outcome is parsed from the document, the runs still running
 * the reported attempt locked in id order and moved on, their history rows
 * inserted, the then-jobs of runs that ended without success recorded as
 * cancelled, and the parents of children that ended woken. It returns, per
 * moved run, its position in the document (`ord`, from 1) and whether
 * something was queued again (the run, or a woken parent).
 *
 * Frozen once shipped, as the migration that creates it: a change is a new
 * function (`complete_runs_v2`) created by a new migration, so a process of the
 * previous version still finds the one it calls during a rolling deploy. Its
 * text uses no helper shared with other statements, so nothing changes it by
 * accident.
 */
export const createCompleteRunsV1 = (schema: string) => {
  const runs = `${schema}.runs`
  const history = `${schema}.run_history`
  return `
  create function ${schema}.complete_runs_v1(document jsonb) returns table (ord bigint, requeued boolean)
  language plpgsql as $body$
  #variable_conflict use_column
  begin
    return query
    with outcome as (
      select (x.e->>'i')::uuid as run_id, x.e->>'j' as job_name, x.e->>'s' as schedule_id, (x.e->>'a')::int as attempt,
        x.e->>'t' as status,
        ('epoch'::timestamptz + (x.e->>'f')::int8 * interval '1 millisecond') as scheduled_for,
        ('epoch'::timestamptz + (x.e->>'b')::int8 * interval '1 millisecond') as started_at,
        ('epoch'::timestamptz + (x.e->>'e')::int8 * interval '1 millisecond') as finished_at,
        x.e->>'w' as worker_id, x.e->>'g' as error_tag, x.e->>'m' as error_message, x.e->>'c' as error_cause,
        x.e->'r' as result, x.e->'x' as metrics,
        ('epoch'::timestamptz + (x.e->>'y')::int8 * interval '1 millisecond') as retry_at, x.ord
      from jsonb_array_elements(document) with ordinality as x(e, ord)
    ),
    locked as (
      select r.id from ${runs} r join outcome o on r.id = o.run_id and r.attempt = o.attempt
      where r.state = 'running'
      order by r.id
      for update of r
    ),
    moved as (
      update ${runs} r
      set state = case
            when o.retry_at is not null then 'queued'
            when o.status = 'interrupted' then 'failed'
            else o.status
          end,
        run_at = coalesce(o.retry_at, r.run_at),
        result = o.result,
        error = case
            when o.error_tag is null then null
            else jsonb_build_object('tag', o.error_tag, 'message', o.error_message, 'cause', o.error_cause)
          end,
        worker_id = case when o.retry_at is null then r.worker_id end,
        lease_until = null,
        finished_at = case when o.retry_at is null then o.finished_at end
      from outcome o, locked l
      where r.id = l.id and r.id = o.run_id and r.attempt = o.attempt
      returning o.ord, o.retry_at is not null as requeued, r.id, r.job_name, r.state, r.then_jobs, o.finished_at,
        r.parent_run_id
    ),
    recorded as (
      insert into ${history} (run_id, job_name, schedule_id, attempt, status, scheduled_for, started_at, finished_at,
        worker_id, error_tag, error_message, error_cause, result, metrics, retry_at)
      select o.run_id, o.job_name, o.schedule_id, o.attempt, o.status, o.scheduled_for, o.started_at, o.finished_at,
        o.worker_id, o.error_tag, o.error_message, o.error_cause, o.result, o.metrics, o.retry_at
      from outcome o join moved m on m.ord = o.ord
      order by o.ord
    ),
    -- the dependents of the runs that ended without success: each then-job becomes a run that never
    -- ran, cancelled with a ParentFailed error (the message as Run.ParentFailed words it), and its history row
    dependent as (
      insert into ${runs} as d (id, job_name, state, attempt, run_at, scheduled_for, created_at, finished_at, error)
      select gen_random_uuid(), j.job_name, 'cancelled', 0, m.finished_at, m.finished_at, m.finished_at, m.finished_at,
        jsonb_build_object(
          'tag', 'ParentFailed',
          'message', 'its parent run ' || m.id || ' (' || m.job_name || ') ended ' || m.state,
          'cause', ''
        )
      from moved m
      cross join unnest(m.then_jobs) as j(job_name)
      where m.state not in ('queued', 'succeeded')
      returning d.id, d.job_name, d.finished_at, d.error
    ),
    dependent_recorded as (
      insert into ${history} (run_id, job_name, attempt, status, scheduled_for, started_at, finished_at,
        error_tag, error_message, error_cause)
      select id, job_name, 0, 'cancelled', finished_at, finished_at, finished_at,
        error->>'tag', error->>'message', error->>'cause'
      from dependent
    ),
    -- the workflow runs whose children ended: each counts a wake, and one waiting in the queue is due
    -- now. A child is locked before its parent, here as in every statement that locks both
    woken as (
      update ${runs} p
      set wakes = p.wakes + 1,
        run_at = case when p.state = 'queued' and p.run_at > w.at then w.at else p.run_at end
      from (
        select parent_run_id, min(finished_at) as at from moved
        where parent_run_id is not null and state <> 'queued'
        group by parent_run_id
      ) w
      where p.id = w.parent_run_id and p.state in ('queued', 'running')
      returning p.state = 'queued' as queued
    )
    -- the run feed grew: readers in every process wake at the commit (no row moved, no notification)
    select m.ord, m.requeued or exists (select 1 from woken where woken.queued) from moved m;
  end
  $body$`
}
