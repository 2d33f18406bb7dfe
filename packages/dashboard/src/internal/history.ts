/**
 * Reads over the store's history for the dashboard: keyset pages and counts
 * over a window. The store answers newest first by finish time, with its own
 * order among rows that finished in the same millisecond; pages use a total
 * order (finish time, run id, attempt), so each page fetches the whole group
 * of rows sharing its boundary millisecond and sorts it.
 */
import type { JobStore, Run } from "@clockwork/core"
import { DateTime, Effect } from "effect"
import * as Cursor from "./cursor.js"

/** How many rows finishing in one millisecond a page can tell apart. */
const tieLimit = 1_000

/** At most this many attempts are counted per window. */
export const countLimit = 20_000

/** The filters of a page, in the store's terms. */
export interface PageQuery {
  readonly jobName?: string | undefined
  readonly status?: Run.RunStatus | undefined
  readonly scheduleId?: string | undefined
  readonly from?: number | undefined
  readonly to?: number | undefined
  readonly after?: Cursor.Position | undefined
  readonly limit: number
}

type History = (query: Run.HistoryQuery) => Effect.Effect<ReadonlyArray<Run.RunRecord>, JobStore.StoreError>

const key = (record: Run.RunRecord) => `${record.runId}\u0000${record.attempt}`

/** One page, newest first, and the cursor of the next when there is more. */
export const page = (
  history: History,
  query: PageQuery
): Effect.Effect<{ readonly runs: ReadonlyArray<Run.RunRecord>; readonly next: string | undefined }, JobStore.StoreError> =>
  Effect.gen(function*() {
    const filters = {
      ...(query.jobName === undefined ? {} : { jobName: query.jobName }),
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.scheduleId === undefined ? {} : { scheduleId: query.scheduleId })
    }
    const within = (from: number | undefined, to: number | undefined) => ({
      ...filters,
      ...(from === undefined && query.from === undefined ? {} : { from: Math.max(from ?? -Infinity, query.from ?? -Infinity) }),
      ...(to === undefined && query.to === undefined ? {} : { to: Math.min(to ?? Infinity, query.to ?? Infinity) })
    })
    const tiesAt = (finishedAt: number) => history({ ...within(finishedAt, finishedAt + 1), limit: tieLimit })
    const after = query.after
    const rows = new Map<string, Run.RunRecord>()
    const add = (records: ReadonlyArray<Run.RunRecord>) => {
      for (const record of records) {
        if (after === undefined || Cursor.order(after, Cursor.positionOf(record)) < 0) rows.set(key(record), record)
      }
    }
    if (after !== undefined) add(yield* tiesAt(after.finishedAt))
    const older = yield* history({ ...within(undefined, after?.finishedAt), limit: query.limit + 1 })
    add(older)
    const last = older[older.length - 1]
    if (older.length > query.limit && last !== undefined) add(yield* tiesAt(DateTime.toEpochMillis(last.finishedAt)))
    const sorted = [...rows.values()].sort((a, b) => Cursor.order(Cursor.positionOf(a), Cursor.positionOf(b)))
    const runs = sorted.slice(0, query.limit)
    const more = sorted.length > query.limit
    return { runs, next: more ? Cursor.encode(Cursor.positionOf(runs[runs.length - 1]!)) : undefined }
  })

/** Attempts that finished in [from, to), per job and status and per bucket and status. */
export const counts = (history: History, from: number, to: number) =>
  Effect.map(history({ from, to, limit: countLimit + 1 }), (records) => {
    const span = Math.max(1, to - from)
    const bucketMs = Math.max(60_000, Math.ceil(span / 60 / 60_000) * 60_000)
    const byJob = new Map<string, { jobName: string; status: Run.RunStatus; count: number }>()
    const buckets = new Map<string, { at: number; status: Run.RunStatus; count: number }>()
    for (const record of records.slice(0, countLimit)) {
      const jobKey = `${record.jobName}\u0000${record.status}`
      const job = byJob.get(jobKey) ?? { jobName: record.jobName, status: record.status, count: 0 }
      job.count++
      byJob.set(jobKey, job)
      const at = Math.floor(DateTime.toEpochMillis(record.finishedAt) / bucketMs) * bucketMs
      const bucketKey = `${at}\u0000${record.status}`
      const bucket = buckets.get(bucketKey) ?? { at, status: record.status, count: 0 }
      bucket.count++
      buckets.set(bucketKey, bucket)
    }
    return {
      bucketMs,
      byJob: [...byJob.values()].sort((a, b) => a.jobName.localeCompare(b.jobName) || a.status.localeCompare(b.status)),
      buckets: [...buckets.values()].sort((a, b) => a.at - b.at),
      truncated: records.length > countLimit,
      records: records.slice(0, countLimit)
    }
  })
