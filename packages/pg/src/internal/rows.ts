/**
 * How rows cross between PostgreSQL and the core models, in one place.
 *
 * Instants are `timestamptz` columns (readable by people querying the
 * history). They go in as `Date` parameters and come out as epoch
 * milliseconds computed by the server (`extract(epoch ...)`), and jsonb comes
 * out as text parsed here: so the store does not depend on the type parsers the
 * app configured on its pool, and a stored JSON `null` stays distinct from an
 * absent value (SQL NULL, read back as `undefined`).
 */
import type { ClaimedRun } from "@clockwork/core/JobStore"
import { ScheduleRecord, StoreError } from "@clockwork/core/JobStore"
import { Misfire, type Overlap } from "@clockwork/core/Policy"
import type { Metrics, RunId, RunState, RunStatus } from "@clockwork/core/Run"
import { isFinalAttempt, Run, RunError, RunRecord } from "@clockwork/core/Run"
import { Trigger } from "@clockwork/core/Trigger"
import { DateTime, Effect, Either, ParseResult, Schema } from "effect"

/** An int8 as any pool type parser may hand it over. */
export type Int8 = string | number | bigint

// ---------------------------------------------------------------------------
// parameters
// ---------------------------------------------------------------------------

/** An epoch-millisecond instant as a `timestamptz` parameter (exact to the millisecond). */
export const instant = (millis: number): Date => new Date(millis)

/**
 * An epoch-millisecond instant as an int8 parameter, for arrays of many
 * instants: node-postgres formats a number far faster than a `Date`. The
 * statement turns it into a `timestamptz` with `fromMillis`.
 */
export const millisParam = (millis: number): number => Math.trunc(millis)

/** SQL for an int8 epoch-millisecond expression as a `timestamptz`, exactly. */
export const fromMillis = (expression: string) => `('epoch'::timestamptz + (${expression}) * interval '1 millisecond')`

export const optionalInstant = (millis: number | undefined): Date | null =>
  millis === undefined ? null : new Date(millis)

/** A value as a jsonb parameter (text, cast in SQL); `undefined` becomes SQL NULL. */
export const json = (value: unknown): string | null => value === undefined ? null : JSON.stringify(value)

/** Encodes values to jsonb parameters, failing (not throwing) on values JSON cannot hold. */
export const encodeJson = <A>(operation: string, encode: () => A): Effect.Effect<A, StoreError> =>
  Effect.try({
    try: encode,
    catch: (cause) =>
      new StoreError({
        operation,
        message: `a value could not be stored as JSON: ${String(cause)}`,
        kind: "permanent",
        cause
      })
  })

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Run ids are uuids; anything else names no run (and must not reach a `uuid` parameter). */
export const isRunId = (id: string): boolean => uuidPattern.test(id)

// ---------------------------------------------------------------------------
// column lists
// ---------------------------------------------------------------------------

/** SQL for a timestamptz column as epoch milliseconds. */
export const millisOf = (column: string) => `(extract(epoch from ${column}) * 1000)::int8`

const millis = (value: Int8): number => Number(value)
const optionalMillis = (value: Int8 | null): number | undefined => value === null ? undefined : Number(value)
const utc = (value: Int8) => DateTime.unsafeMake(Number(value))
/** A jsonb column read as text: SQL NULL (or a column the query left out) is `undefined`, a JSON `null` stays `null`. */
export const parsed = (text: string | null | undefined): unknown =>
  text === null || text === undefined ? undefined : JSON.parse(text)

export const runColumns = (a: string) =>
  `${a}.id::text as id, ${a}.job_name, ${a}.payload::text as payload, ${a}.schedule_id, ${a}.state, ${a}.attempt, ` +
  `${millisOf(`${a}.run_at`)} as run_at, ${millisOf(`${a}.scheduled_for`)} as scheduled_for, ${a}.priority, ` +
  `${a}.key, ${a}.then_jobs, ${a}.result::text as result, ${a}.error::text as error, ${a}.worker_id, ` +
  `${millisOf(`${a}.created_at`)} as created_at`

export interface RunRow {
  readonly id: string
  readonly job_name: string
  readonly payload: string | null
  readonly schedule_id: string | null
  readonly state: RunState
  readonly attempt: number
  readonly run_at: Int8
  readonly scheduled_for: Int8
  readonly priority: number
  readonly key: string | null
  readonly then_jobs: ReadonlyArray<string>
  readonly result: string | null
  readonly error: string | null
  readonly worker_id: string | null
  readonly created_at: Int8
}

export const toRun = (row: RunRow): Run => {
  const result = parsed(row.result)
  const error = parsed(row.error) as { tag: string; message: string; cause: string } | undefined
  return new Run({
    id: row.id as RunId,
    jobName: row.job_name,
    payload: parsed(row.payload),
    ...(row.schedule_id === null ? {} : { scheduleId: row.schedule_id }),
    state: row.state,
    attempt: row.attempt,
    runAt: utc(row.run_at),
    scheduledFor: utc(row.scheduled_for),
    priority: row.priority,
    ...(row.key === null ? {} : { key: row.key }),
    then: row.then_jobs,
    ...(result === undefined ? {} : { result }),
    ...(error === undefined ? {} : { error: new RunError(error, true) }),
    ...(row.worker_id === null ? {} : { workerId: row.worker_id }),
    createdAt: utc(row.created_at)
  }, true)
}

/** A row of `claim_runs_v1` (sql/claim.ts): the claimed run, instants as epoch milliseconds. */
export interface ClaimedRow {
  readonly id: string
  readonly job_name: string
  readonly payload: string | null
  readonly attempt: number
  readonly scheduled_for: Int8
  readonly schedule_id: string | null
  readonly then_jobs: ReadonlyArray<string>
  readonly lease_expiries: number
  readonly traceparent: string | null
}

export const toClaimed = (row: ClaimedRow): ClaimedRun => ({
  id: row.id as RunId,
  jobName: row.job_name,
  payload: parsed(row.payload),
  attempt: row.attempt,
  scheduledFor: millis(row.scheduled_for),
  scheduleId: row.schedule_id ?? undefined,
  then: row.then_jobs,
  leaseExpiries: row.lease_expiries,
  ...(row.traceparent === null ? {} : { traceparent: row.traceparent })
})

export const historyColumns = (a: string) =>
  `${a}.run_id::text as run_id, ${a}.job_name, ${a}.schedule_id, ${a}.attempt, ${a}.status, ` +
  `${millisOf(`${a}.scheduled_for`)} as scheduled_for, ${millisOf(`${a}.started_at`)} as started_at, ` +
  `${millisOf(`${a}.finished_at`)} as finished_at, ${a}.error_tag, ${a}.error_message, ${a}.error_cause, ` +
  `${a}.result::text as result, ${a}.metrics::text as metrics, ${millisOf(`${a}.retry_at`)} as retry_at, ${a}.worker_id`

export interface HistoryRow {
  readonly run_id: string
  readonly job_name: string
  readonly schedule_id: string | null
  readonly attempt: number
  readonly status: RunStatus
  readonly scheduled_for: Int8
  readonly started_at: Int8
  readonly finished_at: Int8
  readonly error_tag: string | null
  readonly error_message: string | null
  readonly error_cause: string | null
  readonly result: string | null
  readonly metrics: string | null
  readonly retry_at: Int8 | null
  readonly worker_id: string | null
}

export const toRecord = (row: HistoryRow): RunRecord => {
  const result = parsed(row.result)
  const metrics = parsed(row.metrics) as Metrics | undefined
  const retryAt = optionalMillis(row.retry_at)
  return new RunRecord({
    runId: row.run_id as RunId,
    jobName: row.job_name,
    ...(row.schedule_id === null ? {} : { scheduleId: row.schedule_id }),
    attempt: row.attempt,
    status: row.status,
    scheduledFor: utc(row.scheduled_for),
    startedAt: utc(row.started_at),
    finishedAt: utc(row.finished_at),
    durationMs: millis(row.finished_at) - millis(row.started_at),
    ...(row.error_tag === null ? {} : {
      error: new RunError({ tag: row.error_tag, message: row.error_message ?? "", cause: row.error_cause ?? "" }, true)
    }),
    ...(result === undefined ? {} : { result }),
    ...(metrics === undefined ? {} : { metrics }),
    ...(retryAt === undefined ? {} : { retryAt: DateTime.unsafeMake(retryAt) }),
    ...(row.worker_id === null ? {} : { workerId: row.worker_id }),
    final: isFinalAttempt(row.status, retryAt)
  }, true)
}

export const scheduleColumns = (a: string) =>
  `${a}.id, ${a}.job_name, ${a}.payload::text as payload, ${a}.trigger::text as trigger, ` +
  `${a}.misfire::text as misfire, ${a}.overlap, ${a}.misfire_grace_ms, ${a}.paused, ` +
  `${millisOf(`${a}.next_fire_at`)} as next_fire_at, ${millisOf(`${a}.last_fire_at`)} as last_fire_at, ` +
  `${millisOf(`${a}.created_at`)} as created_at, ${millisOf(`${a}.updated_at`)} as updated_at`

export interface ScheduleRow {
  readonly id: string
  readonly job_name: string
  readonly payload: string | null
  readonly trigger: string
  readonly misfire: string
  readonly overlap: Overlap
  readonly misfire_grace_ms: Int8
  readonly paused: boolean
  readonly next_fire_at: Int8 | null
  readonly last_fire_at: Int8 | null
  readonly created_at: Int8
  readonly updated_at: Int8
}

export const encodeTrigger = Schema.encodeSync(Trigger)
export const encodeMisfire = Schema.encodeSync(Misfire)
const decodeTrigger = Schema.decodeUnknownEither(Trigger)
const decodeMisfire = Schema.decodeUnknownEither(Misfire)

/** A stored schedule; its trigger and misfire policy are decoded with their Schemas. */
export const toSchedule = (operation: string) => (row: ScheduleRow): Effect.Effect<ScheduleRecord, StoreError> => {
  const decoded = Either.all({
    trigger: decodeTrigger(JSON.parse(row.trigger)),
    misfire: decodeMisfire(JSON.parse(row.misfire))
  })
  if (Either.isLeft(decoded)) {
    return Effect.fail(
      new StoreError({
        operation,
        message: `schedule "${row.id}" holds a trigger or misfire policy that does not decode: ${
          ParseResult.TreeFormatter.formatErrorSync(decoded.left)
        }`,
        kind: "permanent",
        cause: decoded.left
      })
    )
  }
  const nextFireAt = optionalMillis(row.next_fire_at)
  const lastFireAt = optionalMillis(row.last_fire_at)
  return Effect.succeed(
    new ScheduleRecord({
      id: row.id,
      jobName: row.job_name,
      payload: parsed(row.payload),
      trigger: decoded.right.trigger,
      misfire: decoded.right.misfire,
      overlap: row.overlap,
      misfireGraceMs: millis(row.misfire_grace_ms),
      paused: row.paused,
      ...(nextFireAt === undefined ? {} : { nextFireAt: DateTime.unsafeMake(nextFireAt) }),
      ...(lastFireAt === undefined ? {} : { lastFireAt: DateTime.unsafeMake(lastFireAt) }),
      createdAt: utc(row.created_at),
      updatedAt: utc(row.updated_at)
    }, true)
  )
}
