import type { Tables } from "../tables.js"

/**
 * The CTEs `dependent` and `dependent_recorded`: each then-job of the runs in
 * the CTE `cancelled` (rows with `id`, `job_name`, `then_jobs`), which were
 * cancelled here without an attempt of their own to record it, becomes a run
 * that never ran, cancelled with a ParentFailed error (the message as
 * Run.ParentFailed words it), with its history row, as the completion records
 * the then-jobs of a run that ends without success.
 */
export const cancellingDependents = (t: Tables, cancelled: "cancelled", at: Date) =>
  t.sql`
    dependent as (
      insert into ${t.runs} as d (id, job_name, state, attempt, run_at, scheduled_for, created_at, finished_at, error)
      select gen_random_uuid(), j.job_name, 'cancelled', 0, ${at}, ${at}, ${at}, ${at},
        jsonb_build_object(
          'tag', 'ParentFailed',
          'message', 'its parent run ' || c.id || ' (' || c.job_name || ') ended cancelled',
          'cause', ''
        )
      from ${t.sql.literal(cancelled)} c
      cross join unnest(c.then_jobs) as j(job_name)
      returning d.id, d.job_name, d.finished_at, d.error
    ),
    dependent_recorded as (
      insert into ${t.history} (run_id, job_name, attempt, status, scheduled_for, started_at, finished_at,
        error_tag, error_message, error_cause)
      select id, job_name, 0, 'cancelled', finished_at, finished_at, finished_at,
        error->>'tag', error->>'message', error->>'cause'
      from dependent
    )`
