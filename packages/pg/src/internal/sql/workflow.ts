import type { ChildStart, SignalDelivery, StoreError, Suspension } from "@clockwork/core/JobStore"
import { ChildState, type Journal, type SignalResult, StepRecord, untilWoken } from "@clockwork/core/Journal"
import type { RunId, RunState } from "@clockwork/core/Run"
import { RunError } from "@clockwork/core/Run"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { encodeJson, fromMillis, instant, type Int8, isRunId, json, millisOf, millisParam, parsed } from "../rows.js"
import type { Tables } from "../tables.js"
import { cancellingDependents } from "./dependents.js"
import { insertRuns } from "./enqueue.js"
import { notify } from "./notify.js"
import { wakingParents } from "./wake.js"

interface StepRow {
  readonly name: string
  readonly kind: StepRecord["kind"]
  readonly status: StepRecord["status"]
  readonly position: string
  readonly attempt: number
  readonly started_at: Int8
  readonly finished_at: Int8 | null
  readonly wake_at: Int8 | null
  readonly child_run_id: string | null
  readonly result: string | null
  readonly error: string | null
  readonly child_state?: RunState | null
  readonly child_result?: string | null
  readonly child_error?: string | null
}

const stepColumns = (a: string) =>
  `${a}.name, ${a}.kind, ${a}.status, ${a}.position, ${a}.attempt, ${millisOf(`${a}.started_at`)} as started_at, ` +
  `${millisOf(`${a}.finished_at`)} as finished_at, ${millisOf(`${a}.wake_at`)} as wake_at, ` +
  `${a}.child_run_id::text as child_run_id, ${a}.result::text as result, ${a}.error::text as error`

const errorOf = (text: string | null | undefined) => {
  const error = parsed(text) as { tag: string; message: string; cause: string } | undefined
  return error === undefined ? undefined : new RunError(error, true)
}

const toStep = (runId: RunId, row: StepRow): StepRecord => {
  const result = parsed(row.result)
  const error = errorOf(row.error)
  const childResult = parsed(row.child_result)
  const childError = errorOf(row.child_error)
  return new StepRecord({
    runId,
    name: row.name,
    kind: row.kind,
    status: row.status,
    position: row.position,
    attempt: row.attempt,
    startedAt: Number(row.started_at),
    ...(row.finished_at === null ? {} : { finishedAt: Number(row.finished_at) }),
    ...(row.wake_at === null ? {} : { wakeAt: Number(row.wake_at) }),
    ...(row.child_run_id === null ? {} : { childRunId: row.child_run_id as RunId }),
    ...(result === undefined ? {} : { result }),
    ...(error === undefined ? {} : { error }),
    ...(row.child_state === null || row.child_state === undefined ? {} : {
      child: new ChildState({
        state: row.child_state,
        ...(childResult === undefined ? {} : { result: childResult }),
        ...(childError === undefined ? {} : { error: childError })
      }, true)
    })
  }, true)
}

/**
 * A run's journal, its child entries joined with their runs' state. The count
 * of wakes is read first: a wake between the two reads then shows as a wake
 * the attempt has not seen, never the other way round.
 */
export const journal = (t: Tables, runId: RunId): Effect.Effect<Journal, SqlError> => {
  if (!isRunId(runId)) return Effect.succeed({ steps: [], wakes: 0 })
  return Effect.gen(function*() {
    const [run] = yield* t.sql<{ readonly wakes: number }>`select wakes from ${t.runs} where id = ${runId}`
    const rows = yield* t.sql<StepRow>`
      select ${t.sql.literal(stepColumns("s"))},
        c.state as child_state, c.result::text as child_result, c.error::text as child_error
      from ${t.steps} s
      left join ${t.runs} c on c.id = s.child_run_id
      where s.run_id = ${runId}
      order by s.seq`
    return { steps: rows.map((row) => toStep(runId, row)), wakes: run?.wakes ?? 0 }
  })
}

/**
 * Writes entries of one run, as one attempt saw them, while that attempt
 * holds the run (its row is locked for share, so the reaper cannot take it
 * back meanwhile); an entry that succeeded is kept. Returns every entry as
 * stored, in input order, or undefined when the attempt no longer holds the
 * run.
 */
export const recordSteps = (
  t: Tables,
  steps: ReadonlyArray<StepRecord>
): Effect.Effect<ReadonlyArray<StepRecord> | undefined, SqlError | StoreError> =>
  Effect.gen(function*() {
    const first = steps[0]
    if (first === undefined) return []
    // one row per name (the last given), as one statement can write a row only once
    const unique = [...new Map(steps.map((step) => [step.name, step])).values()]
    const document = yield* encodeJson("recordSteps", () =>
      JSON.stringify(unique.map((step) => ({
        n: step.name,
        k: step.kind,
        s: step.status,
        p: step.position,
        b: millisParam(step.startedAt),
        f: step.finishedAt === undefined ? undefined : millisParam(step.finishedAt),
        w: step.wakeAt === undefined ? undefined : millisParam(step.wakeAt),
        c: step.childRunId,
        r: step.result,
        e: step.error === undefined ? undefined : { tag: step.error.tag, message: step.error.message, cause: step.error.cause }
      }))))
    const rows = yield* t.sql<StepRow>`
      with holder as (
        select id from ${t.runs} where id = ${first.runId} and state = 'running' and attempt = ${first.attempt} for share
      ),
      input as (
        select x.e->>'n' as name, x.e->>'k' as kind, x.e->>'s' as status, x.e->>'p' as position,
          ${t.sql.literal(fromMillis("(x.e->>'b')::int8"))} as started_at,
          ${t.sql.literal(fromMillis("(x.e->>'f')::int8"))} as finished_at,
          ${t.sql.literal(fromMillis("(x.e->>'w')::int8"))} as wake_at,
          (x.e->>'c')::uuid as child_run_id, x.e->'r' as result, x.e->'e' as error
        from jsonb_array_elements(${document}::jsonb) as x(e)
      ),
      written as (
        insert into ${t.steps} as s (run_id, name, kind, status, position, attempt, started_at, finished_at, wake_at,
          child_run_id, result, error)
        select holder.id, i.name, i.kind, i.status, i.position, ${first.attempt}, i.started_at, i.finished_at, i.wake_at,
          i.child_run_id, i.result, i.error
        from input i cross join holder
        on conflict (run_id, name) do update
        set kind = excluded.kind, status = excluded.status, position = excluded.position, attempt = excluded.attempt,
          started_at = excluded.started_at, finished_at = excluded.finished_at, wake_at = excluded.wake_at,
          child_run_id = excluded.child_run_id, result = excluded.result, error = excluded.error
        where s.status <> 'succeeded'
        returning s.*
      )
      select ${t.sql.literal(stepColumns("w"))} from written w
      union all
      -- the entries kept (they had succeeded), as they were
      select ${t.sql.literal(stepColumns("s"))}
      from ${t.steps} s
      join input i on i.name = s.name
      where s.run_id = ${first.runId} and exists (select 1 from holder)
        and not exists (select 1 from written w where w.name = s.name)`
    if (rows.length === 0) return undefined
    const stored = new Map(rows.map((row) => [row.name, toStep(first.runId, row)]))
    return steps.map((step) => stored.get(step.name)!)
  })

/**
 * Starts a workflow's children in one transaction: the parent's row is
 * locked for share while its attempt holds it, the entries already in the
 * journal keep their children, and the others get a new run each (enqueued
 * as any run is, with the parent named) and their entry.
 */
export const startChildren = (
  t: Tables,
  start: ChildStart
): Effect.Effect<ReadonlyArray<RunId> | undefined, SqlError | StoreError> => {
  const names = start.children.map((c) => c.step)
  return t.sql.withTransaction(Effect.gen(function*() {
    const held = yield* t.sql`
      select 1 from ${t.runs}
      where id = ${start.parentRunId} and state = 'running' and attempt = ${start.attempt}
      for share`
    if (held.length === 0) return undefined
    const existing = yield* t.sql<{ readonly name: string; readonly child_run_id: string | null }>`
      select name, child_run_id::text as child_run_id from ${t.steps}
      where run_id = ${start.parentRunId} and name = any(${names}::text[])`
    const known = new Map(existing.map((row) => [row.name, row.child_run_id as RunId | null]))
    const fresh = start.children.filter((c) => !known.has(c.step))
    if (fresh.length > 0) {
      const ids = yield* insertRuns(
        t,
        "startChildren",
        fresh.map((c) => ({ ...c.run, parentRunId: start.parentRunId })),
        start.now,
        "runs"
      )
      const document = yield* encodeJson("startChildren", () =>
        JSON.stringify(fresh.map((c, i) => ({ n: c.step, p: c.position, c: ids[i] }))))
      yield* t.sql`
        insert into ${t.steps} (run_id, name, kind, status, position, attempt, started_at, child_run_id)
        select ${start.parentRunId}, x.e->>'n', 'child', 'waiting', x.e->>'p', ${start.attempt}, ${instant(start.now)},
          (x.e->>'c')::uuid
        from jsonb_array_elements(${document}::jsonb) as x(e)`
      fresh.forEach((c, i) => known.set(c.step, ids[i]!))
    }
    return start.children.map((c) => known.get(c.step)!)
  }))
}

/**
 * Ends a waiting attempt: while it holds the run, the run is queued again for
 * its wake-up (at once if woken since the journal was read) with its attempt
 * given back; a run whose cancellation was requested meanwhile ends
 * cancelled instead, with its history row (its then-jobs recorded cancelled),
 * and wakes its parent as a child that ends does.
 */
export const suspend = (
  t: Tables,
  s: Suspension
): Effect.Effect<{ readonly held: boolean; readonly cancelled: boolean }, SqlError> => {
  const now = instant(s.now)
  return Effect.map(
    t.sql<{ readonly held: boolean; readonly cancelled: boolean }>`
      with target as (
        select id, cancel_requested, wakes from ${t.runs}
        where id = ${s.runId} and state = 'running' and attempt = ${s.attempt}
        for update
      ),
      cancelled as (
        update ${t.runs} r
        set state = 'cancelled', finished_at = ${now}, lease_until = null
        from target
        where r.id = target.id and target.cancel_requested
        returning r.id, r.job_name, r.schedule_id, r.attempt, r.scheduled_for, r.worker_id, r.parent_run_id, r.then_jobs
      ),
      -- a workflow waiting for the run that ended here, as its child, looks again
      ${wakingParents(t, "cancelled", now)},
      recorded as (
        insert into ${t.history} (run_id, job_name, schedule_id, attempt, status, scheduled_for, started_at, finished_at,
          worker_id)
        select id, job_name, schedule_id, attempt, 'cancelled', scheduled_for, ${now}, ${now}, worker_id from cancelled
      ),
      ${cancellingDependents(t, "cancelled", now)},
      waiting as (
        update ${t.runs} r
        set state = 'queued', attempt = r.attempt - 1, worker_id = null, lease_until = null,
          run_at = case when target.wakes > ${s.wakes} then ${now}::timestamptz
            else ${instant(s.wakeAt ?? untilWoken)}::timestamptz end
        from target
        where r.id = target.id and not target.cancel_requested
        returning r.id
      )
      -- runners everywhere look at the queue again (the run's or its parent's next instant changed), at the commit
      select exists (select 1 from target) as held, exists (select 1 from cancelled) as cancelled,
        (select count(pg_notify(${t.channel}, 'runs'))
          from (select 1 from waiting union all select 1 from woken where queued limit 1) changed) as notified`,
    ([row]) => ({ held: row?.held ?? false, cancelled: row?.cancelled ?? false })
  )
}

/**
 * Stores a signal as its journal entry, unless the entry holds a value
 * already or timed out, and wakes the run; the run's row is locked first, as
 * `suspend` locks it, so a wake is never lost between the two.
 */
export const signal = (t: Tables, d: SignalDelivery): Effect.Effect<SignalResult, SqlError | StoreError> => {
  if (!isRunId(d.runId)) return Effect.succeed("not_found")
  const name = `signal:${d.name}`
  const now = instant(d.now)
  return Effect.gen(function*() {
    const value = yield* encodeJson("signal", () => json(d.value))
    const [row] = yield* t.sql<{ readonly state: RunState; readonly existing: string | null; readonly stored: boolean }>`
      with target as (
        select id, state from ${t.runs} where id = ${d.runId} for update
      ),
      existing as (
        select status from ${t.steps} where run_id = ${d.runId} and name = ${name}
      ),
      stored as (
        insert into ${t.steps} as s (run_id, name, kind, status, position, attempt, started_at, finished_at, result)
        select target.id, ${name}, 'signal', 'succeeded', '', 0, ${now}, ${now}, ${value}::jsonb
        from target
        where target.state in ('queued', 'running')
        on conflict (run_id, name) do update
        set status = 'succeeded', finished_at = excluded.finished_at, result = excluded.result
        where s.status = 'waiting' and s.kind = 'signal'
        returning 1
      ),
      woken as (
        update ${t.runs} r
        set wakes = r.wakes + 1, run_at = case when r.state = 'queued' and r.run_at > ${now} then ${now} else r.run_at end
        from target
        where r.id = target.id and exists (select 1 from stored)
        returning 1
      )
      select target.state, (select status from existing) as existing, exists (select 1 from stored) as stored
      from target`
    if (row === undefined) return "not_found"
    if (row.state !== "queued" && row.state !== "running") return "finished"
    if (row.stored) {
      if (row.state === "queued") yield* notify(t, "runs")
      return "delivered"
    }
    return row.existing === "failed" ? "expired" : "duplicate"
  })
}
