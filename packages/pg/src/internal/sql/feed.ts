import { type FeedCursor, type FeedEntry, FeedCursor as Cursor, type ScheduleChange } from "@clockwork/core/Feed"
import type { ConsumerCommit, ConsumerHold } from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { historyColumns, type HistoryRow, instant, millisOf, toRecord } from "../rows.js"
import type { Tables } from "../tables.js"

// a cursor is "<xact>.<seq>": the transaction that wrote the entry and the entry's seq
const parts = (cursor: FeedCursor) => {
  const dot = cursor.indexOf(".")
  return { xact: cursor.slice(0, dot), seq: cursor.slice(dot + 1) }
}
const cursorOf = (xact: string, seq: string | number | bigint) => Cursor.make(`${xact}.${seq}`)

type FeedRow = HistoryRow & {
  readonly kind: "attempt" | "schedule"
  readonly xact_text: string
  readonly seq_text: string
  readonly change: ScheduleChange | null
  readonly change_at: string | null
}

// the history's columns, empty, as a schedule change's row fills them
const noHistory = `null::text as run_id, c.job_name, c.schedule_id, null::int as attempt, null::text as status, ` +
  `null::int8 as scheduled_for, null::int8 as started_at, null::int8 as finished_at, null::text as error_tag, ` +
  `null::text as error_message, null::text as error_cause, null::text as result, null::text as metrics, ` +
  `null::int8 as retry_at, null::text as worker_id`

/**
 * Up to `limit` entries after `after`, from both tables in (xact, seq) order,
 * and only those written by transactions older than the oldest one still
 * running: every row before them is committed (or rolled back) by then, so
 * the order read never gains a row behind a cursor already handed out.
 */
export const read = (
  t: Tables,
  after: FeedCursor,
  limit: number
): Effect.Effect<ReadonlyArray<FeedEntry>, SqlError> => {
  const { xact, seq } = parts(after)
  return t.sql<FeedRow>`
    with horizon as (select pg_snapshot_xmin(pg_current_snapshot()) as xmin)
    select f.*, f.xact::text as xact_text, f.seq::text as seq_text
    from (
      (select 'attempt' as kind, h.xact, h.seq, ${t.sql.literal(historyColumns("h"))},
          null::text as change, null::int8 as change_at
        from ${t.history} h, horizon
        where (h.xact, h.seq) > (${xact}::xid8, ${seq}::int8) and h.xact < horizon.xmin
        order by h.xact, h.seq
        limit ${limit})
      union all
      (select 'schedule', c.xact, c.seq, ${t.sql.literal(noHistory)},
          c.change, ${t.sql.literal(millisOf("c.at"))}
        from ${t.scheduleChanges} c, horizon
        where (c.xact, c.seq) > (${xact}::xid8, ${seq}::int8) and c.xact < horizon.xmin
        order by c.xact, c.seq
        limit ${limit})
    ) f
    order by f.xact, f.seq
    limit ${limit}`.pipe(
    Effect.map((rows) =>
      rows.map((row): FeedEntry =>
        row.kind === "attempt"
          ? { _tag: "Attempt", cursor: cursorOf(row.xact_text, row.seq_text), record: toRecord(row) }
          : {
            _tag: "ScheduleChanged",
            cursor: cursorOf(row.xact_text, row.seq_text),
            scheduleId: row.schedule_id!,
            jobName: row.job_name,
            change: row.change!,
            at: Number(row.change_at)
          }
      )
    )
  )
}

/** After every entry committed so far: the oldest transaction still running writes after it. */
export const end = (t: Tables): Effect.Effect<FeedCursor, SqlError> =>
  Effect.map(
    t.sql<{ readonly xmin: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`,
    ([row]) => cursorOf(row!.xmin, 0)
  )

/** Records a schedule change in the feed (inside the change's own transaction). */
export const scheduleChanged = (
  t: Tables,
  scheduleId: string,
  jobName: string,
  change: ScheduleChange,
  at: number
): Effect.Effect<void, SqlError> =>
  Effect.asVoid(t.sql`
    insert into ${t.scheduleChanges} (schedule_id, job_name, change, at)
    values (${scheduleId}, ${jobName}, ${change}, ${instant(at)})`)

/**
 * Takes or renews a consumer's name: a new consumer is created at the feed's
 * start or end; an existing one is taken when it has no holder, its lease
 * ran out, or the holder is the same. No row back: another holder has it.
 */
export const hold = (t: Tables, request: ConsumerHold): Effect.Effect<FeedCursor | undefined, SqlError> =>
  Effect.map(
    t.sql<{ readonly xact: string; readonly seq: string }>`
      insert into ${t.feedConsumers} as c (name, cursor_xact, cursor_seq, holder, lease_until, updated_at)
      values (${request.name},
        case when ${request.startAt} = 'now' then pg_snapshot_xmin(pg_current_snapshot()) else '0'::xid8 end,
        0, ${request.holder}, ${instant(request.leaseUntil)}, ${instant(request.now)})
      on conflict (name) do update
      set holder = excluded.holder, lease_until = excluded.lease_until, updated_at = excluded.updated_at
      where c.holder is null or c.holder = excluded.holder or c.lease_until <= excluded.updated_at
      returning c.cursor_xact::text as xact, c.cursor_seq::text as seq`,
    ([row]) => row === undefined ? undefined : cursorOf(row.xact, row.seq)
  )

/**
 * Moves a consumer's cursor forward (never back) and renews its lease, while
 * the holder still holds the name (a holder whose lease ran out keeps it until
 * another takes it: nobody else read meanwhile).
 */
export const commit = (t: Tables, request: ConsumerCommit): Effect.Effect<boolean, SqlError> => {
  const { xact, seq } = parts(request.cursor)
  return Effect.map(
    t.sql`
      update ${t.feedConsumers} c
      set cursor_xact = case when (${xact}::xid8, ${seq}::int8) > (c.cursor_xact, c.cursor_seq)
            then ${xact}::xid8 else c.cursor_xact end,
        cursor_seq = case when (${xact}::xid8, ${seq}::int8) > (c.cursor_xact, c.cursor_seq)
            then ${seq}::int8 else c.cursor_seq end,
        lease_until = ${instant(request.leaseUntil)},
        updated_at = ${instant(request.now)}
      where c.name = ${request.name} and c.holder = ${request.holder}
      returning 1`,
    (rows) => rows.length > 0
  )
}

/** Lets the name go; the cursor stays. */
export const release = (t: Tables, name: string, holder: string): Effect.Effect<void, SqlError> =>
  Effect.asVoid(t.sql`
    update ${t.feedConsumers} set holder = null, lease_until = null
    where name = ${name} and holder = ${holder}`)
