import { type NewRun, StoreError } from "@clockwork/core/JobStore"
import type { RunId } from "@clockwork/core/Run"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import * as Ids from "../ids.js"
import { encodeJson, fromMillis, millisParam } from "../rows.js"
import type { Tables } from "../tables.js"

/**
 * Inserts runs in one statement (one array parameter per column, so ten
 * thousand runs are still ten parameters) and returns their ids in input
 * order. Ids are made here (time-ordered UUIDs, see ids.ts), so runs without a
 * dedup key are a plain insert. With `notify` (the payload), the statement also wakes the
 * listeners (at its commit): an enqueue outside a transaction is one round
 * trip.
 *
 * A dedup `key` held by a queued or running run returns that run's id. The
 * statement looks such runs up, and `on conflict ... do nothing` on the partial
 * unique index covers a run with the key committed by another transaction
 * meanwhile; those few inputs get no id and go round again, when the next
 * statement sees the other run (or, if it finished, inserts anew).
 *
 * `createdAt` is one instant for all runs or one per run.
 */
export const insertRuns = (
  t: Tables,
  operation: string,
  runs: ReadonlyArray<NewRun>,
  createdAt: number | ReadonlyArray<number>,
  notify?: string
): Effect.Effect<ReadonlyArray<RunId>, SqlError | StoreError> =>
  Effect.gen(function*() {
    const createdAtOf = (i: number) => typeof createdAt === "number" ? createdAt : createdAt[i]!
    if (runs.every((run) => run.key === undefined)) {
      const ids = Ids.make(runs.length, createdAtOf(0))
      const document = yield* encodeJson(operation, () => toDocument(runs, ids, runs.map((_, i) => createdAtOf(i))))
      yield* plainInsert(t, document, notify)
      return ids as Array<RunId>
    }
    const ids = new Array<RunId | undefined>(runs.length)
    // the same key twice in one call: the later ones share the first one's run
    const firstWithKey = new Map<string, number>()
    const sameAs = new Map<number, number>()
    let pending: Array<number> = []
    for (let i = 0; i < runs.length; i++) {
      const key = runs[i]!.key
      const first = key === undefined ? undefined : firstWithKey.get(key)
      if (first !== undefined) sameAs.set(i, first)
      else {
        if (key !== undefined) firstWithKey.set(key, i)
        pending.push(i)
      }
    }
    for (let round = 0; pending.length > 0; round++) {
      if (round === 5) {
        return yield* new StoreError({ operation, message: "dedup keys kept changing hands; try again", kind: "transient" })
      }
      const fresh = Ids.make(pending.length, createdAtOf(pending[0]!))
      const document = yield* encodeJson(
        operation,
        () => toDocument(pending.map((i) => runs[i]!), fresh, pending.map(createdAtOf))
      )
      const rows = yield* keyedInsert(t, document, notify)
      const missing: Array<number> = []
      for (const row of rows) {
        const input = pending[Number(row.ord) - 1]!
        if (row.id === null) missing.push(input)
        else ids[input] = row.id as RunId
      }
      pending = missing
    }
    for (const [i, first] of sameAs) ids[i] = ids[first]
    return ids as Array<RunId>
  })

/**
 * The runs as one JSON document, an object per run with short keys: one
 * parameter, which node-postgres sends as it is, where arrays of columns have
 * every element escaped one by one. An absent payload has no `p` (SQL NULL),
 * a JSON `null` payload is `"p": null`.
 */
const toDocument = (runs: ReadonlyArray<NewRun>, ids: ReadonlyArray<string>, createdAt: ReadonlyArray<number>) =>
  JSON.stringify(runs.map((r, n) => ({
    i: ids[n],
    j: r.jobName,
    p: r.payload,
    s: r.scheduleId,
    r: millisParam(r.runAt),
    f: millisParam(r.scheduledFor),
    o: r.priority ?? 0,
    k: r.key,
    e: r.serial ?? false,
    t: r.then ?? [],
    x: r.traceparent,
    a: r.parentRunId,
    c: millisParam(createdAt[n]!)
  })))

/** The runs to insert as rows `i` (with `ord`, their position in the input, from 1). */
const input = (t: Tables, document: string) =>
  t.sql`(
    select (x.e->>'i')::uuid as id, x.e->>'j' as job_name, x.e->'p' as payload, x.e->>'s' as schedule_id,
      ${t.sql.literal(fromMillis("(x.e->>'r')::int8"))} as run_at,
      ${t.sql.literal(fromMillis("(x.e->>'f')::int8"))} as scheduled_for,
      (x.e->>'o')::int as priority, x.e->>'k' as key, (x.e->>'e')::boolean as serial,
      array(select jsonb_array_elements_text(x.e->'t')) as then_jobs, x.e->>'x' as traceparent,
      (x.e->>'a')::uuid as parent_run_id,
      ${t.sql.literal(fromMillis("(x.e->>'c')::int8"))} as created_at, x.ord
    from jsonb_array_elements(${document}::jsonb) with ordinality as x(e, ord)
  ) as i`

/** The insert of the rows `i`. */
const insertInput = (t: Tables) =>
  t.sql`
    insert into ${t.runs}
      (id, job_name, payload, schedule_id, state, run_at, scheduled_for, priority, key, serial, then_jobs, traceparent,
        parent_run_id, created_at)
    select i.id, i.job_name, i.payload, i.schedule_id, 'queued', i.run_at, i.scheduled_for, i.priority, i.key, i.serial,
      i.then_jobs, i.traceparent, i.parent_run_id, i.created_at`

const notifying = (t: Tables, notify: string | undefined) =>
  notify === undefined ? t.sql`null` : t.sql`pg_notify(${t.channel}, ${notify})`

/**
 * Runs without dedup keys, through `enqueue_runs_v1` (created by migration
 * 0009): PL/pgSQL keeps its plan per connection, where the statement sent as
 * it is was planned on every call (0.08 ms of its 0.14 in the server for one
 * run).
 */
const plainInsert = (t: Tables, document: string, notify: string | undefined) =>
  t.sql`select ${t.sql(`${t.schema}.enqueue_runs_v1`)}(${document}::jsonb, ${notify ?? null}::text)`

/**
 * Creates `<schema>.enqueue_runs_v1(document, notify_payload)`: inserts the
 * runs of `document` (`toDocument`, runs without a dedup key) and, unless
 * `notify_payload` is null, notifies the schema's channel with it (at commit).
 *
 * Frozen once shipped, as the migration that creates it: a change is a new
 * function (`enqueue_runs_v2`) created by a new migration, so a process of the
 * previous version still finds the one it calls during a rolling deploy. Its
 * text uses no helper shared with other statements, so nothing changes it by
 * accident.
 */
export const createEnqueueRunsV1 = (schema: string, channel: string) => `
  create function ${schema}.enqueue_runs_v1(document jsonb, notify_payload text) returns void
  language plpgsql as $body$
  begin
    insert into ${schema}.runs
      (id, job_name, payload, schedule_id, state, run_at, scheduled_for, priority, serial, then_jobs, traceparent,
        parent_run_id, created_at)
    select (x.e->>'i')::uuid, x.e->>'j', x.e->'p', x.e->>'s', 'queued',
      'epoch'::timestamptz + (x.e->>'r')::int8 * interval '1 millisecond',
      'epoch'::timestamptz + (x.e->>'f')::int8 * interval '1 millisecond',
      (x.e->>'o')::int, (x.e->>'e')::boolean, array(select jsonb_array_elements_text(x.e->'t')), x.e->>'x',
      (x.e->>'a')::uuid, 'epoch'::timestamptz + (x.e->>'c')::int8 * interval '1 millisecond'
    from jsonb_array_elements(document) as x(e);
    if notify_payload is not null then
      perform pg_notify('${channel}', notify_payload);
    end if;
  end
  $body$`

const keyedInsert = (t: Tables, document: string, notify: string | undefined) =>
  t.sql<{ readonly ord: string | number; readonly id: string | null }>`
    with input as materialized (
      select i.* from ${input(t, document)}
    ),
    existing as (
      select i.ord, r.id
      from input i
      -- spelled out in full so the planner can use the partial unique index on active keys
      join ${t.runs} r on r.key = i.key and r.key is not null and r.state in ('queued', 'running')
      where i.key is not null
    ),
    inserted as (
      ${insertInput(t)}
      from input i
      where not exists (select 1 from existing e where e.ord = i.ord)
      order by i.ord
      on conflict (key) where key is not null and state in ('queued', 'running') do nothing
      returning id
    ),
    notified as (select ${notifying(t, notify)} as done)
    select i.ord, coalesce(n.id, e.id)::text as id
    from input i
    cross join notified
    left join inserted n on n.id = i.id
    left join existing e on e.ord = i.ord
    order by i.ord`
