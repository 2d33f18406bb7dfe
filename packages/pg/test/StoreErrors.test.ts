import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { PgliteStore } from "../src/index.js"
import { classify } from "../src/internal/errors.js"
import { client, dropOnClose, freshSchema, hasDatabase, sharedPgliteClient, useSharedPglite } from "./utils.js"

useSharedPglite()

const t0 = Date.UTC(2026, 0, 1)

/** The kind of the error `effect` fails with, as the store would report it. */
const kindOf = (effect: Effect.Effect<unknown, unknown, SqlClient.SqlClient>) =>
  Effect.map(Effect.flip(effect), classify)

describe("store errors say whether trying again can help", () => {
  it.scopedLive("a refused connection is transient", () =>
    Effect.gen(function*() {
      // nothing listens on port 1: node-postgres fails with ECONNREFUSED under @effect/sql-pg's error
      const error = yield* Effect.flip(Layer.build(PgClient.layer({ host: "127.0.0.1", port: 1 })))
      expect(classify(error)).toBe("transient")
    }), 30_000)

  const dataErrors = (sql: SqlClient.SqlClient) =>
    Effect.gen(function*() {
      expect(yield* kindOf(sql`select 1 / 0`)).toBe("permanent")
      expect(yield* kindOf(sql`select ${JSON.stringify({ text: "a\u0000b" })}::jsonb`)).toBe("permanent")
      expect(yield* kindOf(sql`select ${"a\u0000b"}::text`)).toBe("permanent")
      expect(yield* kindOf(sql`select 2147483648::int`)).toBe("permanent")
      const duplicate = sql.withTransaction(Effect.zipRight(
        sql`create temporary table unique_ids (id int primary key) on commit drop`,
        sql`insert into unique_ids values (1), (1)`
      ))
      expect(yield* kindOf(duplicate)).toBe("permanent")
      expect(yield* kindOf(sql`select * from no_such_table`)).toBe("unknown")
    })

  it.scopedLive("data errors are permanent on PGlite; a missing table is neither", () =>
    Effect.flatMap(SqlClient.SqlClient, dataErrors).pipe(Effect.provide(sharedPgliteClient)), 30_000)

  it.scopedLive.runIf(hasDatabase)("on PostgreSQL too; a cancelled statement is transient", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* dataErrors(sql)
      const cancelled = sql.withTransaction(
        Effect.zipRight(sql`set local statement_timeout = 50`, sql`select pg_sleep(5)`)
      )
      expect(yield* kindOf(cancelled)).toBe("transient")
    }).pipe(Effect.provide(client)), 30_000)

  it.scopedLive("a batch of outcomes with one the store cannot hold fails whole, as a permanent StoreError", () =>
    Effect.gen(function*() {
      const schema = freshSchema()
      yield* dropOnClose(schema)
      const store = yield* PgliteStore.make({ schema })
      const ids = yield* store.enqueue([
        { jobName: "a", payload: 1, runAt: t0, scheduledFor: t0 },
        { jobName: "b", payload: 2, runAt: t0, scheduledFor: t0 }
      ], t0)
      const claimed = yield* store.claim({ now: t0, limit: 10, workerId: "w", leaseMs: 60_000 })
      const error = yield* Effect.flip(store.complete(claimed.map((c) => ({
        runId: c.id,
        jobName: c.jobName,
        attempt: c.attempt,
        status: "succeeded" as const,
        scheduledFor: c.scheduledFor,
        scheduleId: undefined,
        startedAt: t0,
        finishedAt: t0 + 1,
        workerId: "w",
        result: c.jobName === "b" ? "x\u0000y" : "fine"
      }))))
      assert(error._tag === "StoreError")
      expect(error.operation).toBe("complete")
      expect(error.kind).toBe("permanent")
      expect(error.message).toContain("unsupported Unicode escape sequence")
      for (const id of ids) expect((yield* store.getRun(id)).state).toBe("running")
      expect(yield* store.history({})).toEqual([])
    }).pipe(Effect.provide(sharedPgliteClient)), 30_000)
})
