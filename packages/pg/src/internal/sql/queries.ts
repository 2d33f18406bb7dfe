import { QueueDepth, RunNotFound } from "@clockwork/core/JobStore"
import type { RunQuery } from "@clockwork/core/JobStore"
import type { HistoryQuery, Run, RunId, RunRecord } from "@clockwork/core/Run"
import type { SqlError } from "@effect/sql/SqlError"
import { DateTime, Effect } from "effect"
import {
  historyColumns,
  type HistoryRow,
  instant,
  isRunId,
  millisOf,
  runColumns,
  type RunRow,
  toRecord,
  toRun
} from "../rows.js"
import type { Tables } from "../tables.js"

const defaultLimit = 100

const asArray = <A>(filter: A | ReadonlyArray<A>): ReadonlyArray<A> =>
  Array.isArray(filter) ? filter : [filter as A]

/**
 * Per job, its due, later and running runs (the partial indexes on queued and
 * running runs keep finished ones out of the scan).
 */
export const queueDepth = (t: Tables, now: number): Effect.Effect<ReadonlyArray<QueueDepth>, SqlError> => {
  const at = instant(now)
  return t.sql<{
    readonly job_name: string
    readonly due: number
    readonly later: number
    readonly running: number
    readonly oldest_due_at: string | number | null
  }>`
    select job_name, due, later, running, ${t.sql.literal(millisOf("oldest_due"))} as oldest_due_at
    from (
      select job_name,
        count(*) filter (where state = 'queued' and run_at <= ${at})::int as due,
        count(*) filter (where state = 'queued' and run_at > ${at})::int as later,
        count(*) filter (where state = 'running')::int as running,
        min(run_at) filter (where state = 'queued' and run_at <= ${at}) as oldest_due
      from ${t.runs}
      where state in ('queued', 'running')
      group by job_name
    ) d
    order by job_name`.pipe(
    Effect.map((rows) =>
      rows.map((row) =>
        new QueueDepth({
          jobName: row.job_name,
          due: row.due,
          later: row.later,
          running: row.running,
          ...(row.oldest_due_at === null ? {} : { oldestDueAt: DateTime.unsafeMake(Number(row.oldest_due_at)) })
        }, true)
      )
    )
  )
}

export const getRun = (t: Tables, runId: RunId): Effect.Effect<Run, RunNotFound | SqlError> => {
  if (!isRunId(runId)) return Effect.fail(new RunNotFound({ runId }))
  return t.sql<RunRow>`select ${t.sql.literal(runColumns("r"))} from ${t.runs} r where r.id = ${runId}`.pipe(
    Effect.flatMap(([row]) => row === undefined ? Effect.fail(new RunNotFound({ runId })) : Effect.succeed(toRun(row)))
  )
}

/** Runs matching the query, newest first. */
export const listRuns = (t: Tables, query: RunQuery): Effect.Effect<ReadonlyArray<Run>, SqlError> => {
  const { sql } = t
  const where = sql.and([
    ...(query.state === undefined ? [] : [sql`r.state = any(${asArray(query.state)}::text[])`]),
    ...(query.jobName === undefined ? [] : [sql`r.job_name = ${query.jobName}`]),
    ...(query.scheduleId === undefined ? [] : [sql`r.schedule_id = ${query.scheduleId}`])
  ])
  return sql<RunRow>`
    select ${sql.literal(runColumns("r"))} from ${t.runs} r
    where ${where}
    order by r.seq desc
    limit ${query.limit ?? defaultLimit}`.pipe(Effect.map((rows) => rows.map(toRun)))
}

/** History rows matching the query, newest first: by finish time, then by insertion. */
export const history = (t: Tables, query: HistoryQuery): Effect.Effect<ReadonlyArray<RunRecord>, SqlError> => {
  const { sql } = t
  if (query.runId !== undefined && !isRunId(query.runId)) return Effect.succeed([])
  const where = sql.and([
    ...(query.jobName === undefined ? [] : [sql`h.job_name = ${query.jobName}`]),
    ...(query.runId === undefined ? [] : [sql`h.run_id = ${query.runId}`]),
    ...(query.scheduleId === undefined ? [] : [sql`h.schedule_id = ${query.scheduleId}`]),
    ...(query.status === undefined ? [] : [sql`h.status = any(${asArray(query.status)}::text[])`]),
    ...(query.from === undefined ? [] : [sql`h.finished_at >= ${instant(query.from)}`]),
    ...(query.to === undefined ? [] : [sql`h.finished_at < ${instant(query.to)}`])
  ])
  return sql<HistoryRow>`
    select ${sql.literal(historyColumns("h"))} from ${t.history} h
    where ${where}
    order by h.finished_at desc, h.seq desc
    limit ${query.limit ?? defaultLimit}`.pipe(Effect.map((rows) => rows.map(toRecord)))
}
