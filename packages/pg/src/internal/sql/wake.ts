import type { Tables } from "../tables.js"

/**
 * The CTE `woken`: the workflow runs whose children, in the CTE `ended`
 * (rows with a `parent_run_id`), ended here count a wake, and one waiting in
 * the queue is due at `at`. It returns, per parent, whether it is queued (so
 * the statement can tell runners to look again). The children are locked
 * before their parents, as in every statement that locks both.
 */
export const wakingParents = (t: Tables, ended: "cancelled", at: Date) =>
  t.sql`
    woken as (
      update ${t.runs} p
      set wakes = p.wakes + 1, run_at = case when p.state = 'queued' and p.run_at > ${at} then ${at} else p.run_at end
      from ${t.sql.literal(ended)} c
      where p.id = c.parent_run_id and p.state in ('queued', 'running')
      returning p.state = 'queued' as queued
    )`
