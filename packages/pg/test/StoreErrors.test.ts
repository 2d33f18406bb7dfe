import { Clockwork, Job, JobStore, Run, Scheduler } from "@clockwork/core"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Schedule, Schema } from "effect"
import { PgliteStore, PgStore } from "../src/index.js"
import { classify } from "../src/internal/errors.js"
import { client, dropOnClose, freshSchema, hasDatabase, sharedPgliteClient, useSharedPglite } from "./utils.js"

useSharedPglite()

const t0 = Date.UTC(2026, 0, 1)

/** The kind of the error `effect` fails with, as the store would report it. */
const kindOf = (effect: Effect.Effect<unknown, unknown, SqlClient.SqlClient>) =>
  Effect.map(Effect.flip(effect), classify)

/** Log lines at info level and above, as "LEVEL message". */
const captureLogs = (lines: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
  )

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
      const { runs: claimed } = yield* store.claim({ now: t0, limit: 10, workerId: "w", leaseMs: 60_000 })
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

/**
 * A store whose history refuses one error message, as a constraint a DBA added
 * would: what the storable check cannot foresee, the store refuses.
 */
const refusingStore = (driver: "PostgreSQL" | "PGlite") =>
  Layer.scoped(
    JobStore.JobStore,
    Effect.gen(function*() {
      const schema = freshSchema()
      yield* dropOnClose(schema)
      const store = driver === "PGlite" ? yield* PgliteStore.make({ schema }) : yield* PgStore.make({ schema })
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(
        `alter table ${schema}.run_history add constraint refuse_poison check (error_message is distinct from 'poison')`
      )
      return store
    })
  ).pipe(Layer.provide(driver === "PGlite" ? sharedPgliteClient : client))

const onStore = (driver: "PostgreSQL" | "PGlite") =>
  it.scopedLive("an outcome the store refuses is recorded without its data; every other outcome is written", () => {
    // every run waits at the gate, so their outcomes come together, in one batch with the poisoned one
    const gate = Effect.runSync(Effect.makeLatch(false))
    const poison = Job.make({
      name: "poison",
      payload: Schema.Struct({}),
      retry: Job.noRetry,
      run: () => Effect.zipRight(gate.await, Effect.fail(new Error("poison")))
    })
    const count = Job.make({
      name: "count",
      payload: Schema.Struct({ n: Schema.Number }),
      success: Schema.Number,
      run: ({ n }) => Effect.as(gate.await, n)
    })
    const lines: Array<string> = []
    const App = Clockwork.layer([poison, count]).pipe(
      Layer.provideMerge(refusingStore(driver)),
      Layer.provide(captureLogs(lines))
    )
    return Effect.gen(function*() {
      const bad = yield* Scheduler.enqueue(poison, {})
      const ordinary = yield* Scheduler.enqueueMany(count, Array.from({ length: 20 }, (_, n) => ({ n })))
      const store = yield* JobStore.JobStore
      yield* store.listRuns({ state: "running" }).pipe(
        Effect.filterOrFail((running) => running.length === 21, () => "not all started yet"),
        Effect.retry(Schedule.spaced("20 millis")),
        Effect.timeout("30 seconds")
      )
      yield* gate.open
      const results = yield* Effect.forEach(ordinary, Scheduler.result).pipe(Effect.timeout("30 seconds"))
      expect(results).toEqual(Array.from({ length: 20 }, (_, n) => n))

      const failure = yield* Effect.flip(Scheduler.result(bad)).pipe(Effect.timeout("30 seconds"))
      assert(failure._tag === "RunFailed")
      expect(failure.state).toBe("failed")
      expect(failure.error?.tag).toBe("UnstorableOutcome")
      expect(failure.error?.message).toMatch(
        /^the run's outcome cannot be stored: the store refused it \(.*refuse_poison.*\); the job failed with Error: poison$/
      )
      const rows = yield* Scheduler.history({ runId: bad.id })
      expect(rows.map((row) => row.status)).toEqual(["failed"])
      expect(rows[0]!.error).toEqual((yield* Scheduler.getRun(bad.id)).error)
      expect(new Run.RunError(rows[0]!.error!).tag).toBe("UnstorableOutcome")

      // said once, as what it is: no outage
      expect(lines.filter((line) => line.startsWith("WARN") || line.startsWith("ERROR"))).toEqual([
        expect.stringMatching(
          new RegExp(`^WARN clockwork: the store refused the outcome of run ${bad.id} \\(poison\\): .*refuse_poison`)
        )
      ])
    }).pipe(Effect.provide(App))
  }, 60_000)

describe.runIf(hasDatabase)("refused outcomes on PostgreSQL", () => {
  onStore("PostgreSQL")
})

describe("refused outcomes on PGlite", () => {
  onStore("PGlite")
})
