import { ScheduleNotFound, type ScheduleRecord, type StoreError } from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { instant, millisOf, optionalInstant, scheduleColumns, type ScheduleRow, toSchedule } from "../rows.js"
import type { Tables } from "../tables.js"
import { scheduleChanged } from "./feed.js"
import { notify } from "./notify.js"

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
