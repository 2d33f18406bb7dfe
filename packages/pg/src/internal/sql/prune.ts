import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { instant } from "../rows.js"
import type { Tables } from "../tables.js"

/** Rows deleted per statement, so a large prune holds its locks briefly and never blocks claims for long. */
const batch = 5_000

/**
 * Deletes, in batches, the history rows that finished before `before` (except
 * those of runs still queued or running) and then the runs that reached a
 * final state before it (with their journals), and the schedule changes made before it. Returns how many history
 * rows went. `each` wraps
 * every batch's statement (the store bounds each wait, not the whole prune).
 */
export const pruneHistory = <E = never>(
  t: Tables,
  before: number,
  each: <A>(statement: Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError | E> = (statement) => statement
): Effect.Effect<number, SqlError | E> => {
  const at = instant(before)
  const history = t.sql<{ readonly n: number }>`
    with doomed as (
      select h.seq from ${t.history} h
      where h.finished_at < ${at}
        and not exists (select 1 from ${t.runs} r where r.id = h.run_id and r.state in ('queued', 'running'))
      limit ${batch}
    ),
    deleted as (delete from ${t.history} h using doomed d where h.seq = d.seq returning 1)
    select count(*)::int as n from deleted`
  const runs = t.sql<{ readonly n: number }>`
    with doomed as (
      select id from ${t.runs}
      where finished_at < ${at} and state not in ('queued', 'running')
      limit ${batch}
    ),
    deleted as (delete from ${t.runs} r using doomed d where r.id = d.id returning 1),
    -- a workflow run's journal goes with it
    steps as (delete from ${t.steps} s using doomed d where s.run_id = d.id)
    select count(*)::int as n from deleted`
  const scheduleChanges = t.sql<{ readonly n: number }>`
    with doomed as (select seq from ${t.scheduleChanges} where at < ${at} limit ${batch}),
    deleted as (delete from ${t.scheduleChanges} c using doomed d where c.seq = d.seq returning 1)
    select count(*)::int as n from deleted`
  const drain = (statement: typeof history, total: number): Effect.Effect<number, SqlError | E> =>
    Effect.flatMap(each(statement), ([row]) => {
      const n = row?.n ?? 0
      return n === batch ? drain(statement, total + n) : Effect.succeed(total + n)
    })
  return Effect.flatMap(
    drain(history, 0),
    (pruned) => Effect.as(Effect.zipRight(drain(runs, 0), drain(scheduleChanges, 0)), pruned)
  )
}
