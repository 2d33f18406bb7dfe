import {
  type ScheduleInput,
  ScheduleNotFound,
  type ScheduleRecord,
  StoreError,
  type UpsertResult
} from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import {
  encodeJson,
  encodeMisfire,
  encodeTrigger,
  instant,
  json,
  millisOf,
  optionalInstant,
  scheduleColumns,
  type ScheduleRow,
  toSchedule
} from "../rows.js"
import type { Tables } from "../tables.js"
import { scheduleChanged } from "./feed.js"
import { notify } from "./notify.js"

/**
 * Creates or updates a schedule, in one transaction. Registering the same
 * definition again (every process does it at start) changes nothing; a changed
 * payload or policy keeps the next fire time, and only a changed trigger
 * (compared as jsonb, so key order does not matter) restarts it at
 * `firstFireAt`. A paused schedule stays paused.
 */
export const upsert = (t: Tables, input: ScheduleInput): Effect.Effect<UpsertResult, SqlError | StoreError> =>
  Effect.gen(function*() {
    const { sql } = t
    const columns = sql.literal(scheduleColumns("s"))
    const encoded = yield* encodeJson("upsertSchedule", () => ({
      payload: json(input.payload),
      trigger: JSON.stringify(encodeTrigger(input.trigger)),
      misfire: JSON.stringify(encodeMisfire(input.misfire))
    }))
    const now = instant(input.now)
    // stored as whole milliseconds (bigint), so compared rounded too
    const graceMs = Math.round(input.misfireGraceMs)
    const attempt = sql.withTransaction(Effect.gen(function*() {
      const [created] = yield* sql<ScheduleRow>`
        insert into ${t.schedules} as s (id, job_name, payload, trigger, misfire, overlap, misfire_grace_ms, paused,
          next_fire_at, created_at, updated_at)
        values (${input.id}, ${input.jobName}, ${encoded.payload}::jsonb, ${encoded.trigger}::jsonb,
          ${encoded.misfire}::jsonb, ${input.overlap}, ${graceMs}, false, ${instant(input.firstFireAt)},
          ${now}, ${now})
        on conflict (id) do nothing
        returning ${columns}`
      if (created !== undefined) {
        yield* notify(t, "schedules")
        yield* scheduleChanged(t, input.id, input.jobName, "created", input.now)
        return { outcome: "created", row: created } as const
      }
      const [existing] = yield* sql<ScheduleRow & { readonly same_trigger: boolean; readonly same_rest: boolean }>`
        select ${columns},
          s.trigger = ${encoded.trigger}::jsonb as same_trigger,
          (s.job_name = ${input.jobName} and s.payload is not distinct from ${encoded.payload}::jsonb
            and s.misfire = ${encoded.misfire}::jsonb and s.overlap = ${input.overlap}
            and s.misfire_grace_ms = ${graceMs}) as same_rest
        from ${t.schedules} s
        where s.id = ${input.id}
        for update`
      // removed between the two statements: go round again
      if (existing === undefined) return undefined
      if (existing.same_trigger && existing.same_rest) return { outcome: "unchanged", row: existing } as const
      const [updated] = yield* sql<ScheduleRow>`
        update ${t.schedules} s
        set job_name = ${input.jobName}, payload = ${encoded.payload}::jsonb, trigger = ${encoded.trigger}::jsonb,
          misfire = ${encoded.misfire}::jsonb, overlap = ${input.overlap}, misfire_grace_ms = ${graceMs},
          updated_at = ${now},
          next_fire_at = case when ${existing.same_trigger} then s.next_fire_at else ${
        instant(input.firstFireAt)
      }::timestamptz end
        where s.id = ${input.id}
        returning ${columns}`
      yield* notify(t, "schedules")
      yield* scheduleChanged(t, input.id, input.jobName, "updated", input.now)
      return { outcome: "updated", row: updated! } as const
    }))
    for (let round = 0; round < 3; round++) {
      const result = yield* attempt
      if (result !== undefined) {
        const schedule = yield* toSchedule("upsertSchedule")(result.row)
        return { outcome: result.outcome, schedule }
      }
    }
    return yield* new StoreError({
      operation: "upsertSchedule",
      message: `schedule "${input.id}" kept being removed while it was registered; try again`,
      kind: "transient"
    })
  })

export const get = (t: Tables, id: string): Effect.Effect<ScheduleRecord, ScheduleNotFound | SqlError | StoreError> =>
  t.sql<ScheduleRow>`select ${t.sql.literal(scheduleColumns("s"))} from ${t.schedules} s where s.id = ${id}`.pipe(
    Effect.flatMap(([row]): Effect.Effect<ScheduleRecord, ScheduleNotFound | StoreError> =>
      row === undefined ? Effect.fail(new ScheduleNotFound({ id })) : toSchedule("getSchedule")(row)
    )
  )

export const list = (t: Tables): Effect.Effect<ReadonlyArray<ScheduleRecord>, SqlError | StoreError> =>
  t.sql<ScheduleRow>`select ${t.sql.literal(scheduleColumns("s"))} from ${t.schedules} s order by s.id`.pipe(
    Effect.flatMap(Effect.forEach(toSchedule("listSchedules")))
  )

/** Pausing keeps the stored next fire time (resuming a one-shot needs it); resuming sets it. */
export const setPaused = (
  t: Tables,
  id: string,
  paused: boolean,
  nextFireAt: number | undefined,
  now: number
): Effect.Effect<ScheduleRecord, ScheduleNotFound | SqlError | StoreError> =>
  t.sql.withTransaction(Effect.gen(function*() {
    const [row] = yield* t.sql<ScheduleRow>`
      update ${t.schedules} s
      set paused = ${paused},
        next_fire_at = case when ${paused} then s.next_fire_at else ${optionalInstant(nextFireAt)}::timestamptz end,
        updated_at = ${instant(now)}
      where s.id = ${id}
      returning ${t.sql.literal(scheduleColumns("s"))}`
    if (row === undefined) return yield* new ScheduleNotFound({ id })
    yield* notify(t, "schedules")
    yield* scheduleChanged(t, id, row.job_name, paused ? "paused" : "resumed", now)
    return yield* toSchedule("setPaused")(row)
  }))

export const remove = (t: Tables, id: string, now: number): Effect.Effect<void, ScheduleNotFound | SqlError> =>
  t.sql.withTransaction(Effect.gen(function*() {
    const [deleted] = yield* t.sql<{ readonly job_name: string }>`
      delete from ${t.schedules} where id = ${id} returning job_name`
    if (deleted === undefined) return yield* new ScheduleNotFound({ id })
    yield* notify(t, "schedules")
    yield* scheduleChanged(t, id, deleted.job_name, "removed", now)
  }))

export const due = (
  t: Tables,
  now: number,
  limit: number
): Effect.Effect<ReadonlyArray<ScheduleRecord>, SqlError | StoreError> =>
  t.sql<ScheduleRow>`
    select ${t.sql.literal(scheduleColumns("s"))} from ${t.schedules} s
    where not s.paused and s.next_fire_at <= ${instant(now)}
    order by s.next_fire_at, s.id
    limit ${limit}`.pipe(Effect.flatMap(Effect.forEach(toSchedule("dueSchedules"))))

export const nextFireAt = (t: Tables): Effect.Effect<number | undefined, SqlError> =>
  t.sql<{ readonly next: string | number | null }>`
    select ${t.sql.literal(millisOf("min(next_fire_at)"))} as next from ${t.schedules} where not paused`.pipe(
    Effect.map(([row]) => row?.next === null || row?.next === undefined ? undefined : Number(row.next))
  )
