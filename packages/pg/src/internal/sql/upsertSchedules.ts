import { duplicateScheduleId, type ScheduleInput, StoreError, type UpsertResult } from "@clockwork/core/JobStore"
import { firstFireAt } from "@clockwork/core/Trigger"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import {
  encodeJson,
  encodeMisfire,
  encodeTrigger,
  fromMillis,
  millisParam,
  scheduleColumns,
  type ScheduleRow,
  toSchedule
} from "../rows.js"
import type { Tables } from "../tables.js"

/** Schedules per statement: one JSON parameter of a few hundred kilobytes. */
const perStatement = 1_000

/** Rounds for the inputs another transaction wrote while they were being registered. */
const rounds = 3

/**
 * Creates or updates schedules and returns a result per input, in input order.
 * A changed payload or policy keeps the next fire time; only a changed trigger
 * (compared as jsonb, so key order does not matter) restarts it at its
 * first fire time (`firstFireAt`, or the trigger's from `now`, worked out only
 * then). A paused schedule stays paused.
 *
 * First a read, a statement per thousand: the inputs stored as they are given
 * are unchanged, and registering the same definitions again (every process
 * does it at start) ends there, with nothing written, locked or notified. Then
 * the new ones are inserted and the changed ones updated, a statement per
 * thousand in id order (processes registering the same schedules at once lock
 * them in one order), in one transaction when there is more than one. An input
 * another transaction wrote between the read and the write (inserted, removed,
 * or changed to the same definition) is read and written again.
 */
export const upsertSchedules = (
  t: Tables,
  operation: string,
  inputs: ReadonlyArray<ScheduleInput>
): Effect.Effect<ReadonlyArray<UpsertResult>, SqlError | StoreError> =>
  Effect.gen(function*() {
    if (inputs.length === 0) return []
    const duplicate = duplicateScheduleId(operation, inputs)
    if (duplicate !== undefined) return yield* duplicate
    const results = new Map<string, UpsertResult>()
    const inStatements = <A>(
      of: ReadonlyArray<ScheduleInput>,
      firstFire: (input: ScheduleInput) => number | undefined,
      statement: (document: string, count: number) => Effect.Effect<ReadonlyArray<A>, SqlError>,
      each: (row: A) => Effect.Effect<void, StoreError>
    ) =>
      Effect.gen(function*() {
        for (let start = 0; start < of.length; start += perStatement) {
          const chunk = of.slice(start, start + perStatement)
          const document = yield* encodeJson(operation, () => toDocument(chunk, firstFire))
          for (const row of yield* statement(document, chunk.length)) yield* each(row)
        }
      })
    const record = (outcome: UpsertResult["outcome"]) => (row: ScheduleRow) =>
      Effect.map(toSchedule(operation)(row), (schedule) => {
        results.set(row.id, { outcome, schedule })
      })

    // a first fire time is needed only to insert, or to update a trigger the latest read saw
    // changed (the update leaves a row whose trigger changed since then to the next round)
    const sameTrigger = new Set<string>()
    const firstFire = (input: ScheduleInput) => input.firstFireAt ?? firstFireAt(input.trigger, input.now)
    const firstFireIfNewTrigger = (input: ScheduleInput) =>
      sameTrigger.has(input.id) ? input.firstFireAt : firstFire(input)

    /** Records the unchanged; the others are to be inserted (not stored) or updated (stored otherwise). */
    const read = (of: ReadonlyArray<ScheduleInput>) =>
      Effect.gen(function*() {
        const stored = new Set<string>()
        yield* inStatements(of, () => undefined, (document, count) => readStored(t, document, count), (row) => {
          stored.add(row.id)
          if (row.same_trigger) sameTrigger.add(row.id)
          else sameTrigger.delete(row.id)
          return row.same ? record("unchanged")(row) : Effect.void
        })
        const toWrite = of.filter((input) => !results.has(input.id)).sort(byId)
        return {
          fresh: toWrite.filter((input) => !stored.has(input.id)),
          changed: toWrite.filter((input) => stored.has(input.id))
        }
      })

    let { changed, fresh } = yield* read(inputs)
    const writes = Effect.gen(function*() {
      for (let round = 1;; round++) {
        yield* inStatements(fresh, firstFire, (document, count) => insertFresh(t, document, count), record("created"))
        yield* inStatements(
          changed,
          firstFireIfNewTrigger,
          (document, count) => updateChanged(t, document, count),
          record("updated")
        )
        const pending = [...fresh, ...changed].filter((input) => !results.has(input.id))
        if (pending.length === 0) return
        if (round === rounds) {
          return yield* new StoreError({
            operation,
            message: `schedule ${JSON.stringify(pending[0]!.id)} kept being written elsewhere while it was ` +
              `registered; try again`,
            kind: "transient"
          })
        }
        ;({ changed, fresh } = yield* read(pending))
      }
    })
    const count = fresh.length + changed.length
    if (count > 0) yield* count === 1 ? writes : t.sql.withTransaction(writes)
    return inputs.map((input) => results.get(input.id)!)
  })

const byId = (a: ScheduleInput, b: ScheduleInput) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0

/**
 * The inputs as one JSON document, an object per schedule with short keys.
 * An absent payload has no `p` (SQL NULL), a JSON `null` payload is `"p": null`;
 * so for the first fire time, where the statement needs none.
 */
const toDocument = (
  inputs: ReadonlyArray<ScheduleInput>,
  firstFire: (input: ScheduleInput) => number | undefined
) =>
  JSON.stringify(inputs.map((input) => {
    const f = firstFire(input)
    return {
      i: input.id,
      j: input.jobName,
      p: input.payload,
      t: encodeTrigger(input.trigger),
      m: encodeMisfire(input.misfire),
      o: input.overlap,
      // stored as whole milliseconds (bigint), so compared rounded too
      g: Math.round(input.misfireGraceMs),
      f: f === undefined ? undefined : millisParam(f),
      n: millisParam(input.now)
    }
  }))

/** The document's `count` inputs as rows, with `ord`, their position in it (from 1), in its order. */
const inputRows = (t: Tables, document: string, count: number) =>
  t.sql`
    select x.ord, x.e->>'i' as id, x.e->>'j' as job_name, x.e->'p' as payload, x.e->'t' as trigger,
      x.e->'m' as misfire, x.e->>'o' as overlap, (x.e->>'g')::int8 as misfire_grace_ms,
      ${t.sql.literal(fromMillis("(x.e->>'f')::int8"))} as first_fire_at,
      ${t.sql.literal(fromMillis("(x.e->>'n')::int8"))} as now
    from jsonb_array_elements(${document}::jsonb) with ordinality as x(e, ord)
    -- the count, for the planner: without it, it takes a function's rows for 100 and may scan every schedule
    limit ${t.sql.literal(String(count))}`

/** Whether stored row `s` holds input `i`'s definition; jsonb compares by value. */
const same = (t: Tables) =>
  t.sql.literal(
    `s.trigger = i.trigger and s.job_name = i.job_name and s.payload is not distinct from i.payload ` +
      `and s.misfire = i.misfire and s.overlap = i.overlap and s.misfire_grace_ms = i.misfire_grace_ms`
  )

/** The stored rows of the inputs, each saying whether it holds its input's definition, and its trigger. */
const readStored = (t: Tables, document: string, count: number) =>
  t.sql<ScheduleRow & { readonly same: boolean; readonly same_trigger: boolean }>`
    select ${t.sql.literal(scheduleColumns("s"))}, ${same(t)} as same, s.trigger = i.trigger as same_trigger
    from (${inputRows(t, document, count)}) i
    join ${t.schedules} s on s.id = i.id`

/** A feed entry per written row, in input order, and one notification if any; then the rows. */
const recorded = (t: Tables, change: "created" | "updated") =>
  t.sql`
    fed as (
      insert into ${t.scheduleChanges} (schedule_id, job_name, change, at)
      select w.id, w.job_name, ${t.sql.literal(`'${change}'`)}, i.now from written w join input i on i.id = w.id
      order by i.ord
    ),
    notified as (
      select case when exists (select 1 from written) then pg_notify(${t.channel}, 'schedules') end as done
    )
    select w.* from written w cross join notified`

/**
 * Inserts the inputs, in the document's order (sorted by id); one another
 * transaction inserted meanwhile is left out (`do nothing`), to be read again.
 */
const insertFresh = (t: Tables, document: string, count: number) =>
  t.sql<ScheduleRow>`
    with input as materialized (${inputRows(t, document, count)}),
    written as (
      insert into ${t.schedules} as s (id, job_name, payload, trigger, misfire, overlap, misfire_grace_ms, paused,
        next_fire_at, created_at, updated_at)
      select i.id, i.job_name, i.payload, i.trigger, i.misfire, i.overlap, i.misfire_grace_ms, false,
        i.first_fire_at, i.now, i.now
      from input i
      order by i.ord
      on conflict (id) do nothing
      returning ${t.sql.literal(scheduleColumns("s"))}
    ),
    ${recorded(t, "created")}`

/**
 * Updates the inputs whose row still differs (a row changed meanwhile is
 * compared as it is now); a row removed or made the same meanwhile, or whose
 * trigger changed while its input carries no first fire time, is left out, to
 * be read again. Rows are locked first, in the document's order (sorted
 * by id), so that two processes updating the same rows never wait for each
 * other both ways.
 */
const updateChanged = (t: Tables, document: string, count: number) =>
  t.sql<ScheduleRow>`
    with input as materialized (${inputRows(t, document, count)}),
    locked as materialized (
      select s.id from ${t.schedules} s join input i on i.id = s.id
      order by i.ord
      for update of s
    ),
    written as (
      update ${t.schedules} s
      set job_name = i.job_name, payload = i.payload, trigger = i.trigger, misfire = i.misfire, overlap = i.overlap,
        misfire_grace_ms = i.misfire_grace_ms, updated_at = i.now,
        next_fire_at = case when s.trigger = i.trigger then s.next_fire_at else i.first_fire_at end
      from input i, locked l
      where s.id = i.id and l.id = s.id and not (${same(t)}) and (s.trigger = i.trigger or i.first_fire_at is not null)
      returning ${t.sql.literal(scheduleColumns("s"))}
    ),
    ${recorded(t, "updated")}`
