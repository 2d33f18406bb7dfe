import type { ClaimedRun, ClaimRequest, ClaimResult } from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import type { Statement } from "@effect/sql/Statement"
import { Effect } from "effect"
import { type ClaimedRow, type Int8, instant, toClaimed } from "../rows.js"
import type { Tables } from "../tables.js"

/**
 * Claims due runs in one statement: the highest priority first, then the
 * earliest `run_at`, then the order they were queued (`seq`).
 *
 * `for update skip locked` sits in the scan itself (not in an outer query over
 * already chosen ids), so two workers claiming at once each walk past the rows
 * the other has locked and both fill their batch instead of colliding on the
 * same first rows.
 *
 * `jobCapacity`: PostgreSQL allows neither window functions nor UNION together
 * with FOR UPDATE, so a capped job gets its own locked scan limited to its
 * capacity (a LATERAL subquery per capped job), the other jobs one scan that
 * leaves the capped ones out, and the union of both is cut to the limit in claim
 * order. That is exactly "the first `limit` runs in claim order, taking at most
 * `capacity` runs of a capped job"; each scan reads only as far as it needs.
 *
 * A serial run is eligible only while no serial run of its schedule is running
 * and no earlier one (by run_at, seq) is queued, so one claim cannot start two
 * of them either.
 *
 * `EXPLAIN (ANALYZE, COSTS OFF)` on PostgreSQL 15, 20,000 queued runs of four
 * jobs (10,000 due; every tenth serial, over 50 schedules) and 2,000 running,
 * limit 100. The scan walks `runs_claim` in claim order and stops at the
 * limit; the running-serial check is a hashed subplan computed once per claim
 * (over the running runs), the earlier-serial check an index-only probe of
 * `runs_serial_queued` (measured when the statement was sent as it is; inside
 * `claim_runs_v1` the plan has the same shape, as `npm run explain -w
 * @clockwork/bench` shows):
 *
 * ```
 * Sort (actual time=5.591..5.600 rows=100 loops=1)
 *   Sort Key: claimed.priority DESC, claimed.run_at, claimed.seq
 *   Sort Method: quicksort  Memory: 40kB
 *   CTE picked
 *     ->  Limit (actual time=1.936..2.214 rows=100 loops=1)
 *           ->  LockRows (actual time=1.935..2.199 rows=100 loops=1)
 *                 ->  Index Scan using runs_claim on runs r (actual time=1.924..2.089 rows=100 loops=1)
 *                       Index Cond: (run_at <= '2026-01-01 00:00:00+00'::timestamp with time zone)
 *                       Filter: ((state = 'queued'::text) AND ((NOT serial) OR (schedule_id IS NULL) OR ((NOT (hashed SubPlan 2)) AND (NOT (SubPlan 3)))))
 *                       Rows Removed by Filter: 104
 *                       SubPlan 2
 *                         ->  Index Scan using runs_lease on runs o (actual time=0.623..0.623 rows=0 loops=1)
 *                               Filter: serial
 *                               Rows Removed by Filter: 2000
 *                       SubPlan 3
 *                         ->  Index Only Scan using runs_serial_queued on runs o_1 (actual time=0.009..0.009 rows=1 loops=109)
 *                               Index Cond: ((schedule_id = r.schedule_id) AND (ROW(run_at, seq) < ROW(r.run_at, r.seq)))
 *                               Heap Fetches: 104
 *   CTE claimed
 *     ->  Update on runs r_1 (actual time=2.130..5.456 rows=100 loops=1)
 *           ->  Nested Loop (actual time=1.969..2.874 rows=100 loops=1)
 *                 ->  CTE Scan on picked p (actual time=1.956..2.331 rows=100 loops=1)
 *                 ->  Index Scan using runs_pkey on runs r_1 (actual time=0.005..0.005 rows=1 loops=100)
 *                       Index Cond: (id = p.id)
 *   ->  CTE Scan on claimed (actual time=2.134..5.548 rows=100 loops=1)
 * Planning Time: 1.154 ms
 * Execution Time: 5.754 ms
 * ```
 *
 * With `jobCapacity` { send-email: 0, build-report: 10 }:
 *
 * ```
 * Sort (actual time=4.077..4.093 rows=100 loops=1)
 *   Sort Key: claimed.priority DESC, claimed.run_at, claimed.seq
 *   Sort Method: quicksort  Memory: 40kB
 *   CTE uncapped
 *     ->  (as the plain plan, with Filter: job_name <> ALL ('{send-email,build-report}'))
 *   CTE capped
 *     ->  Nested Loop (actual time=0.099..0.688 rows=10 loops=1)
 *           ->  Function Scan on c (actual time=0.010..0.011 rows=1 loops=1)
 *                 Filter: (capacity > 0)
 *                 Rows Removed by Filter: 1
 *           ->  Subquery Scan on r_1 (actual time=0.086..0.672 rows=10 loops=1)
 *                 ->  Limit (actual time=0.084..0.668 rows=10 loops=1)
 *                       ->  LockRows (actual time=0.083..0.666 rows=10 loops=1)
 *                             ->  Index Scan using runs_claim on runs r_2 (actual time=0.080..0.651 rows=10 loops=1)
 *                                   Index Cond: (run_at <= '2026-01-01 00:00:00+00'::timestamp with time zone)
 *                                   Filter: ((state = 'queued'::text) AND (job_name = c.job_name) AND ((NOT serial) OR (schedule_id IS NULL) OR ((NOT (hashed SubPlan 6)) AND (NOT (SubPlan 7)))))
 *                                   Rows Removed by Filter: 128
 *                                   SubPlan 6
 *                                     ->  Index Scan using runs_lease on runs o_2 (actual time=0.524..0.524 rows=0 loops=1)
 *                                           Filter: serial
 *                                           Rows Removed by Filter: 2000
 *                                   SubPlan 7
 *                                     ->  Index Only Scan using runs_serial_queued on runs o_3 (actual time=0.009..0.009 rows=0 loops=2)
 *                                           Index Cond: ((schedule_id = r_2.schedule_id) AND (ROW(run_at, seq) < ROW(r_2.run_at, r_2.seq)))
 *                                           Heap Fetches: 0
 *   CTE claimed
 *     ->  Update on runs r_3 (actual time=1.398..3.951 rows=100 loops=1)
 *           ->  Nested Loop (actual time=1.266..1.878 rows=100 loops=1)
 *                 ->  Subquery Scan on p (actual time=1.252..1.332 rows=100 loops=1)
 *                       ->  Limit (actual time=1.245..1.271 rows=100 loops=1)
 *                             ->  Sort (actual time=1.243..1.259 rows=100 loops=1)
 *                                   Sort Key: uncapped.priority DESC, uncapped.run_at, uncapped.seq
 *                                   Sort Method: quicksort  Memory: 33kB
 *                                   ->  Append (actual time=0.213..1.168 rows=110 loops=1)
 *                                         ->  CTE Scan on uncapped (actual time=0.212..0.463 rows=100 loops=1)
 *                                         ->  CTE Scan on capped (actual time=0.100..0.692 rows=10 loops=1)
 *                 ->  Index Scan using runs_pkey on runs r_3 (actual time=0.005..0.005 rows=1 loops=100)
 *                       Index Cond: (id = p.id)
 *   ->  CTE Scan on claimed (actual time=1.401..4.037 rows=100 loops=1)
 * Planning Time: 1.147 ms
 * Execution Time: 4.288 ms
 * ```
 */
export const claim = (t: Tables, request: ClaimRequest): Effect.Effect<ClaimResult, SqlError> =>
  Effect.map(claimCall(t, request), (rows) => {
    const runs: Array<ClaimedRun> = []
    let nextRunAt: number | undefined = undefined
    let suspectWaiting = false
    for (const row of rows) {
      if (row.id !== null) runs.push(toClaimed(row as ClaimedRow))
      else {
        nextRunAt = row.next_run_at === null ? undefined : Number(row.next_run_at)
        suspectWaiting = row.suspect_waiting === true
      }
    }
    return { runs, nextRunAt, suspectWaiting }
  })

/**
 * A row of `claim_runs_v2`: a claimed run, or (id null, the last row) when the
 * next queued run becomes due and whether a suspect waits.
 */
type ClaimAnswerRow =
  | ClaimedRow & { readonly next_run_at: null; readonly suspect_waiting: null }
  | { readonly id: null; readonly next_run_at: Int8 | null; readonly suspect_waiting: boolean }

/**
 * The claim through `claim_runs_v2` (created by migration 0009), which claims
 * through `claim_runs_v1` (migration 0008): PL/pgSQL keeps both plans per
 * connection, where sent as it is the statement was planned anew each time
 * (0.3 ms, five times its own run time when one run is due).
 */
const claimCall = (t: Tables, request: ClaimRequest): Statement<ClaimAnswerRow> => {
  const capped = request.jobCapacity === undefined ? undefined : Array.from(request.jobCapacity)
  return t.sql<ClaimAnswerRow>`
    select * from ${t.sql(`${t.schema}.claim_runs_v2`)}(
      ${instant(request.now)}, ${Math.max(0, request.limit)}, ${request.workerId},
      ${instant(request.now + request.leaseMs)}, ${request.jobNames ?? null}::text[],
      ${request.maxLeaseExpiries ?? null}::int,
      ${capped === undefined ? null : capped.map(([name]) => name)}::text[],
      ${capped === undefined ? null : capped.map(([, capacity]) => Math.max(0, Math.floor(capacity)))}::int[],
      ${request.suspectIfNoneDue === true}
    )`
}

/**
 * Creates `<schema>.claim_runs_v2(claim_now, claim_limit, worker, lease_until,
 * job_names, max_lease_expiries, capped_names, capacities,
 * suspect_if_none_due)`: the claim of `claim_runs_v1`; then, when it took
 * nothing and `suspect_if_none_due`, the claim of one run of any lease
 * expiries (a suspect, or an ordinary run due meanwhile); then one last row
 * with a null id: the earliest `run_at` after `claim_now` of a queued run
 * (`runs_queued_run_at`), and whether a due run beyond `max_lease_expiries`
 * of the requested jobs is still queued (`runs_suspects`, a partial index that
 * holds only queued runs that lost a lease). One round trip where the runner
 * sent up to three statements.
 *
 * Frozen once shipped, as `claim_runs_v1` (see there).
 */
export const createClaimRunsV2 = (schema: string) => `
  create function ${schema}.claim_runs_v2(
    claim_now timestamptz, claim_limit int, worker text, lease_until timestamptz,
    job_names text[], max_lease_expiries int, capped_names text[], capacities int[], suspect_if_none_due boolean
  ) returns table (
    id text, job_name text, payload text, attempt int, scheduled_for int8, schedule_id text, then_jobs text[],
    lease_expiries int, traceparent text, next_run_at int8, suspect_waiting boolean
  )
  language plpgsql as $body$
  #variable_conflict use_column
  declare
    taken int;
  begin
    -- in the order claim_runs_v1 returns them (claim order)
    return query select c.id, c.job_name, c.payload, c.attempt, c.scheduled_for, c.schedule_id, c.then_jobs,
        c.lease_expiries, c.traceparent, null::int8, null::boolean
      from ${schema}.claim_runs_v1(
        claim_now, claim_limit, worker, lease_until, job_names, max_lease_expiries, capped_names, capacities
      ) with ordinality c
      order by c.ordinality;
    get diagnostics taken = row_count;
    if taken = 0 and suspect_if_none_due and claim_limit > 0 and max_lease_expiries is not null then
      return query select c.id, c.job_name, c.payload, c.attempt, c.scheduled_for, c.schedule_id, c.then_jobs,
          c.lease_expiries, c.traceparent, null::int8, null::boolean
        from ${schema}.claim_runs_v1(claim_now, 1, worker, lease_until, job_names, null, capped_names, capacities) c;
    end if;
    return query select null::text, null::text, null::text, null::int, null::int8, null::text, null::text[],
      null::int, null::text,
      (select (extract(epoch from min(r.run_at)) * 1000)::int8
        from ${schema}.runs r where r.state = 'queued' and r.run_at > claim_now),
      max_lease_expiries is not null and exists (
        select 1 from ${schema}.runs r
        where r.state = 'queued' and r.lease_expiries > 0 and r.lease_expiries > max_lease_expiries
          and r.run_at <= claim_now and (job_names is null or r.job_name = any(job_names))
      );
  end
  $body$`

/**
 * Creates `<schema>.claim_runs_v1(claim_now, claim_limit, worker, lease_until,
 * job_names, max_lease_expiries, capped_names, capacities)`: the claim
 * statement, in its two shapes (without and with capped jobs). `job_names`
 * null claims any job; `max_lease_expiries` null takes suspects too.
 *
 * Frozen once shipped, as the migration that creates it: a change is a new
 * function (`claim_runs_v2`) created by a new migration, so a process of the
 * previous version still finds the one it calls during a rolling deploy. Its
 * text uses no helper shared with other statements, so nothing changes it by
 * accident; `ClaimedRow` (rows.ts) reads the columns it returns.
 */
export const createClaimRunsV1 = (schema: string) => `
  create function ${schema}.claim_runs_v1(
    claim_now timestamptz, claim_limit int, worker text, lease_until timestamptz,
    job_names text[], max_lease_expiries int, capped_names text[], capacities int[]
  ) returns table (
    id text, job_name text, payload text, attempt int, scheduled_for int8, schedule_id text, then_jobs text[],
    lease_expiries int, traceparent text
  )
  language plpgsql as $body$
  #variable_conflict use_column
  begin
    if capped_names is null then
      return query ${claimQuery(schema, false)};
    else
      return query ${claimQuery(schema, true)};
    end if;
  end
  $body$`

/** The claim statement over the function's arguments, without or with capped jobs. */
const claimQuery = (schema: string, withCapped: boolean) => {
  const runs = `${schema}.runs`
  const eligible = `r.state = 'queued' and r.run_at <= claim_now
    and (job_names is null or r.job_name = any(job_names))
    and (max_lease_expiries is null or r.lease_expiries <= max_lease_expiries)
    and (not r.serial or r.schedule_id is null or (
      not exists (
        select 1 from ${runs} o
        where o.schedule_id = r.schedule_id and o.serial and o.state = 'running'
      )
      and not exists (
        select 1 from ${runs} o
        where o.schedule_id = r.schedule_id and o.serial and o.state = 'queued' and (o.run_at, o.seq) < (r.run_at, r.seq)
      )
    ))`
  const picked = withCapped
    ? `uncapped as (
        select r.id, r.priority, r.run_at, r.seq from ${runs} r
        where ${eligible} and r.job_name <> all(capped_names)
        order by r.priority desc, r.run_at, r.seq
        limit claim_limit
        for update skip locked
      ),
      capped as (
        select r.id, r.priority, r.run_at, r.seq
        from unnest(capped_names, capacities) as c(job_name, capacity)
        cross join lateral (
          select r.id, r.priority, r.run_at, r.seq from ${runs} r
          where ${eligible} and r.job_name = c.job_name
          order by r.priority desc, r.run_at, r.seq
          limit least(c.capacity, claim_limit)
          for update skip locked
        ) r
        where c.capacity > 0
      ),
      picked as (
        select u.id from (select * from uncapped union all select * from capped) u
        order by u.priority desc, u.run_at, u.seq
        limit claim_limit
      )`
    : `picked as (
        select r.id from ${runs} r
        where ${eligible}
        order by r.priority desc, r.run_at, r.seq
        limit claim_limit
        for update skip locked
      )`
  return `
    with ${picked},
    claimed as (
      update ${runs} r
      set state = 'running', attempt = r.attempt + 1, worker_id = worker,
        lease_until = claim_runs_v1.lease_until, claimed_at = claim_now
      from picked p
      where r.id = p.id
      returning r.priority, r.run_at, r.seq, r.id::text as id, r.job_name, r.payload::text as payload, r.attempt,
        (extract(epoch from r.scheduled_for) * 1000)::int8 as scheduled_for, r.schedule_id, r.then_jobs,
        r.lease_expiries, r.traceparent
    )
    -- the ordering columns stay in the database: a timestamptz read back costs a date parse a run
    select c.id, c.job_name, c.payload, c.attempt, c.scheduled_for, c.schedule_id, c.then_jobs, c.lease_expiries,
      c.traceparent
    from claimed c order by c.priority desc, c.run_at, c.seq`
}
