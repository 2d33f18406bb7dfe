import { type WorkerBeat, WorkerInfo, WorkerRecord } from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import { DateTime, Effect } from "effect"
import { instant, json, millisOf } from "../rows.js"
import type { Tables } from "../tables.js"

interface WorkerRow {
  readonly id: string
  readonly started_at: string | number
  readonly heartbeat_at: string | number
  readonly expires_at: string | number
  readonly info: string
}

/** Creates or refreshes the runner's row. */
export const beat = (t: Tables, worker: WorkerBeat): Effect.Effect<void, SqlError> =>
  Effect.asVoid(t.sql`
    insert into ${t.workers} (id, started_at, heartbeat_at, expires_at, info)
    values (${worker.id}, ${instant(worker.startedAt)}, ${instant(worker.now)}, ${instant(worker.expiresAt)},
      ${json(worker.info)}::jsonb)
    on conflict (id) do update set
      started_at = excluded.started_at,
      heartbeat_at = excluded.heartbeat_at,
      expires_at = excluded.expires_at,
      info = excluded.info`)

export const remove = (t: Tables, id: string): Effect.Effect<void, SqlError> =>
  Effect.asVoid(t.sql`delete from ${t.workers} where id = ${id}`)

/** The rows of workers whose beat has not expired at `now`, by id. */
export const list = (t: Tables, now: number): Effect.Effect<ReadonlyArray<WorkerRecord>, SqlError> =>
  t.sql<WorkerRow>`
    select id, ${t.sql.literal(millisOf("started_at"))} as started_at,
      ${t.sql.literal(millisOf("heartbeat_at"))} as heartbeat_at,
      ${t.sql.literal(millisOf("expires_at"))} as expires_at, info::text as info
    from ${t.workers}
    where expires_at >= ${instant(now)}
    order by id`.pipe(
    Effect.map((rows) =>
      rows.map((row) => {
        const info = JSON.parse(row.info) as WorkerInfo
        return new WorkerRecord({
          id: row.id,
          startedAt: DateTime.unsafeMake(Number(row.started_at)),
          heartbeatAt: DateTime.unsafeMake(Number(row.heartbeat_at)),
          expiresAt: DateTime.unsafeMake(Number(row.expires_at)),
          info: new WorkerInfo({ concurrency: info.concurrency, jobs: info.jobs, running: info.running })
        })
      })
    )
  )

/** Forgets the workers whose beat expired before `now` (they died without saying goodbye). */
export const reap = (t: Tables, now: number): Effect.Effect<void, SqlError> =>
  Effect.asVoid(t.sql`delete from ${t.workers} where expires_at < ${instant(now)}`)
