import { type ScheduleInput, StoreError, type UpsertResult } from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import {
  encodeJson,
  encodeMisfire,
  encodeTrigger,
  fromMillis,
  millisOf,
  millisParam,
  scheduleColumns,
  type ScheduleRow,
  toSchedule
} from "../rows.js"
import type { Tables } from "../tables.js"

/** Schedules per statement: one JSON parameter of a few hundred kilobytes. */
const perStatement = 1_000

/** Rounds for the inputs another transaction wrote or removed while a statement ran. */
const rounds = 3

type Outcome = UpsertResult["outcome"]

/**
 * Creates or updates schedules, a statement per thousand, and returns a result
 * per input in input order. Registering the same definitions again (every
 * process does it at start) is one read per thousand: nothing is written,
 * locked or notified. A changed payload or policy keeps the next fire time;
 * only a changed trigger (compared as jsonb, so key order does not matter)
 * restarts it at `firstFireAt`. A paused schedule stays paused.
 *
 * One input is one statement, with no transaction around it; more run in one
 * transaction, written in id order so that processes registering the same
 * schedules at once lock them in the same order.
 */
export const upsertSchedules = (
  t: Tables,
  operation: string,
  inputs: ReadonlyArray<ScheduleInput>
): Effect.Effect<ReadonlyArray<UpsertResult>, SqlError | StoreError> =>
  Effect.suspend(() => {
    if (inputs.length === 0) return Effect.succeed([])
    const duplicate = firstDuplicate(inputs)
    if (duplicate !== undefined) {
      return Effect.fail(
        new StoreError({
          operation,
          message: `schedule id ${JSON.stringify(duplicate)} is given more than once; nothing was written`,
          kind: "permanent"
        })
      )
    }
    const all = Effect.gen(function*() {
      const byId = new Map<string, UpsertResult>()
      const sorted = [...inputs].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
      for (let start = 0; start < sorted.length; start += perStatement) {
        yield* upsertChunk(t, operation, sorted.slice(start, start + perStatement), byId)
      }
      return inputs.map((input) => byId.get(input.id)!)
    })
    return inputs.length === 1 ? all : t.sql.withTransaction(all)
  })

const firstDuplicate = (inputs: ReadonlyArray<ScheduleInput>): string | undefined => {
  const seen = new Set<string>()
  for (const { id } of inputs) {
    if (seen.has(id)) return id
    seen.add(id)
  }
  return undefined
}

/**
 * One statement for the inputs, then again for those it neither wrote nor
 * found unchanged: rows another transaction inserted, or changed to the
 * input's definition, after the statement's snapshot (the next statement
 * sees them).
 */
const upsertChunk = (
  t: Tables,
  operation: string,
  chunk: ReadonlyArray<ScheduleInput>,
  results: Map<string, UpsertResult>
): Effect.Effect<void, SqlError | StoreError> =>
  Effect.gen(function*() {
    let pending = chunk
    for (let round = 0; round < rounds && pending.length > 0; round++) {
      const document = yield* encodeJson(operation, () => toDocument(pending))
      const rows = yield* statement(t, document)
      for (const row of rows) {
        results.set(row.id, { outcome: row.outcome, schedule: yield* toSchedule(operation)(row) })
      }
      pending = pending.filter((input) => !results.has(input.id))
    }
    if (pending.length > 0) {
      return yield* new StoreError({
        operation,
        message: `schedule ${JSON.stringify(pending[0]!.id)} kept being written elsewhere while it was ` +
          `registered; try again`,
        kind: "transient"
      })
    }
  })

/**
 * The inputs as one JSON document, an object per schedule with short keys.
 * An absent payload has no `p` (SQL NULL), a JSON `null` payload is `"p": null`.
 */
const toDocument = (inputs: ReadonlyArray<ScheduleInput>) =>
  JSON.stringify(inputs.map((input) => ({
    i: input.id,
    j: input.jobName,
    p: input.payload,
    t: encodeTrigger(input.trigger),
    m: encodeMisfire(input.misfire),
    o: input.overlap,
    // stored as whole milliseconds (bigint), so compared rounded too
    g: Math.round(input.misfireGraceMs),
    f: millisParam(input.firstFireAt),
    n: millisParam(input.now)
  })))

/**
 * One statement: reads the inputs' rows as they are (its snapshot), then
 * writes, in id order, only the inputs that are new or differ. The write is an
 * insert that updates on conflict, so new and changed rows are written and
 * locked in one pass, in one order. A row changed meanwhile by another
 * transaction is compared again as it is now; one inserted meanwhile is left
 * to the next round (the outcome would otherwise say "created"). A feed entry
 * per write and one notification if anything was written go with it.
 */
const statement = (t: Tables, document: string) => {
  const { sql } = t
  const columns = sql.literal(scheduleColumns("s"))
  const same = (a: string, b: string) =>
    sql.literal(
      `${a}.trigger = ${b}.trigger and ${a}.job_name = ${b}.job_name and ${a}.payload is not distinct from ` +
        `${b}.payload and ${a}.misfire = ${b}.misfire and ${a}.overlap = ${b}.overlap ` +
        `and ${a}.misfire_grace_ms = ${b}.misfire_grace_ms`
    )
  return sql<ScheduleRow & { readonly outcome: Outcome }>`
    with input as materialized (
      select x.ord, x.e->>'i' as id, x.e->>'j' as job_name, x.e->'p' as payload, x.e->'t' as trigger,
        x.e->'m' as misfire, x.e->>'o' as overlap, (x.e->>'g')::int8 as misfire_grace_ms,
        ${sql.literal(fromMillis("(x.e->>'f')::int8"))} as first_fire_at,
        ${sql.literal(fromMillis("(x.e->>'n')::int8"))} as now
      from jsonb_array_elements(${document}::jsonb) with ordinality as x(e, ord)
    ),
    seen as materialized (
      select i.id, ${sql.literal(millisOf("s.created_at"))} as created_at, ${same("s", "i")} as same
      from input i
      join ${t.schedules} s on s.id = i.id
    ),
    written as (
      insert into ${t.schedules} as s (id, job_name, payload, trigger, misfire, overlap, misfire_grace_ms, paused,
        next_fire_at, created_at, updated_at)
      select i.id, i.job_name, i.payload, i.trigger, i.misfire, i.overlap, i.misfire_grace_ms, false,
        i.first_fire_at, i.now, i.now
      from input i
      where not exists (select 1 from seen where seen.id = i.id and seen.same)
      order by i.id
      on conflict (id) do update
      set job_name = excluded.job_name, payload = excluded.payload, trigger = excluded.trigger,
        misfire = excluded.misfire, overlap = excluded.overlap, misfire_grace_ms = excluded.misfire_grace_ms,
        updated_at = excluded.updated_at,
        next_fire_at = case when s.trigger = excluded.trigger then s.next_fire_at else excluded.next_fire_at end
      where not (${same("s", "excluded")}) and exists (select 1 from seen where seen.id = excluded.id)
      returning ${columns}
    ),
    results as (
      -- a row removed after the snapshot and inserted here anew is created, though it was seen
      select case when seen.created_at = w.created_at then 'updated' else 'created' end as outcome, w.*
      from written w
      left join seen on seen.id = w.id
    ),
    fed as (
      insert into ${t.scheduleChanges} (schedule_id, job_name, change, at)
      select r.id, r.job_name, r.outcome, i.now from results r join input i on i.id = r.id
      order by i.ord
    ),
    notified as (
      select case when exists (select 1 from written) then pg_notify(${t.channel}, 'schedules') end as done
    )
    select r.* from (
      select * from results
      union all
      select 'unchanged', ${columns} from seen join ${t.schedules} s on s.id = seen.id where seen.same
    ) r
    cross join notified`
}
