import { Feed, JobStore, Policy, Trigger } from "@clockwork/core"
import { run } from "@clockwork/core/conformance"
import { run as runAgreement } from "@clockwork/core/conformance/agreement"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Config, DateTime, Deferred, Duration, Effect, Fiber, Layer, Logger, Queue, String } from "effect"
import { PgStore } from "../src/index.js"
import * as ClockSkew from "../src/internal/clockSkew.js"
import * as Tables from "../src/internal/tables.js"
import { client, dropOnClose, freshSchema, freshStore, hasDatabase, url } from "./utils.js"

describe.runIf(hasDatabase)("on the server at DATABASE_URL", () => {
  run("PostgreSQL", freshStore())
  runAgreement("PostgreSQL", freshStore())
})

const t0 = Date.UTC(2026, 0, 1)

const newRun = (fields: Partial<JobStore.NewRun> = {}): JobStore.NewRun => ({
  jobName: "send-email",
  payload: { to: "ada@example.com" },
  runAt: t0,
  scheduledFor: t0,
  ...fields
})

/** A schedule every minute from t0: upserting it is a change to the schedules */
const digestSchedule: JobStore.ScheduleInput = {
  id: "digest",
  jobName: "send-digest",
  payload: {},
  trigger: new Trigger.Every({ interval: Duration.minutes(1) }),
  misfire: Policy.coalesce,
  overlap: "allow",
  misfireGraceMs: 60_000,
  firstFireAt: t0,
  now: t0
}

/** A store with its own pool and LISTEN connection (as another process would have), on `schema`. */
const storeOn = (schema: string, options?: Omit<PgStore.Options, "schema">) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(client)
    return yield* PgStore.make({ pollInterval: 0, ...options, schema }).pipe(Effect.provide(context))
  })

/** A SqlClient for looking at the tables directly, in a fresh schema dropped at the end. */
const freshSchemaWithClient = Effect.gen(function*() {
  const context = yield* Layer.build(client)
  const sql = SqlClient.SqlClient.pipe(Effect.provide(context))
  const schema = freshSchema()
  yield* dropOnClose(schema).pipe(Effect.provide(context))
  return { schema, sql: yield* sql }
})

/** Log lines at info level and above, as "LEVEL message". */
const captureLogs = (lines: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : globalThis.String(message)}`)
    })
  )

describe.runIf(hasDatabase)("PgStore", () => {
  describe("migrations", () => {
    it.scopedLive("are idempotent and safe when three processes start at once", () =>
      Effect.gen(function*() {
        const { schema, sql } = yield* freshSchemaWithClient
        const contexts = yield* Effect.all([1, 2, 3].map(() => Layer.build(client)))
        const applied = yield* Effect.all(
          contexts.map((context) => PgStore.migrate({ schema }).pipe(Effect.provide(context))),
          { concurrency: "unbounded" }
        )
        // one process applied the migrations; the others waited for it, then found nothing to do
        expect(applied.flat()).toEqual([
          [1, "create_tables"],
          [2, "runs_finished_index"],
          [3, "workers_expiry"],
          [4, "lease_expiries_and_cancel_requests"],
          [5, "run_feed"],
          [6, "run_traceparent"],
          [7, "workflows"],
          [8, "claim_and_complete_functions"],
          [9, "claim_v2_and_enqueue_function"],
          [10, "complete_v2"]
        ])

        const tables = yield* sql<{ table_name: string }>`
          select table_name from information_schema.tables where table_schema = ${schema} order by table_name`
        expect(tables.map((t) => t.table_name)).toEqual([
          "clockwork_migrations",
          "feed_consumers",
          "run_history",
          "runs",
          "schedule_changes",
          "schedules",
          "workers",
          "workflow_steps"
        ])
        const migrations = yield* sql`select migration_id from ${sql(`${schema}.clockwork_migrations`)}`
        expect(migrations).toHaveLength(10)
        expect(yield* PgStore.migrate({ schema }).pipe(Effect.provide(contexts[0]!))).toEqual([])
      }))

    it.scopedLive("a store started with migrate: false on an empty schema fails with StoreError", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const store = yield* storeOn(schema, { migrate: false })
        const error = yield* Effect.flip(store.listSchedules)
        expect(error).toBeInstanceOf(JobStore.StoreError)
        expect(error.operation).toBe("listSchedules")
        expect(error.message).toContain("does not exist")
      }))

    it.scopedLive("an unusable schema name is refused", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(storeOn("Robert'); drop table students;--"))
        expect(error).toBeInstanceOf(JobStore.StoreError)
        expect(error.message).toContain("a-z, 0-9 and _")
      }))
  })

  describe("changes", () => {
    it.scopedLive("a store hears of runs enqueued through another connection, and only in its own schema", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const other = yield* freshSchemaWithClient
        // no polling: only LISTEN/NOTIFY can deliver these
        const listener = yield* storeOn(schema)
        const writer = yield* storeOn(schema)
        const elsewhere = yield* storeOn(other.schema)
        const changes = yield* listener.changes
        const elsewhereChanges = yield* elsewhere.changes

        yield* writer.enqueue([newRun()], t0)
        expect(yield* Queue.take(changes).pipe(Effect.timeout("5 seconds"))).toBe("runs")

        // the other schema's listener gets its own change and nothing else: notifications reach a
        // listener in commit order, so the first one would have come before this
        yield* elsewhere.upsertSchedule(digestSchedule)
        expect(yield* Queue.take(elsewhereChanges).pipe(Effect.timeout("5 seconds"))).toBe("schedules")
        expect(yield* Queue.size(elsewhereChanges)).toBe(0)
      }))

    it.scopedLive("every subscriber of a store hears each change once, and one that left hears nothing", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const listener = yield* storeOn(schema)
        const writer = yield* storeOn(schema)
        const first = yield* listener.changes
        const second = yield* listener.changes
        const left = yield* Effect.scoped(listener.changes)

        yield* writer.enqueue([newRun()], t0)
        expect(yield* Queue.take(first).pipe(Effect.timeout("5 seconds"))).toBe("runs")
        expect(yield* Queue.take(second).pipe(Effect.timeout("5 seconds"))).toBe("runs")
        // notifications arrive in commit order: had "runs" been queued twice, the second would come first
        yield* writer.upsertSchedule(digestSchedule)
        expect(yield* Queue.take(first).pipe(Effect.timeout("5 seconds"))).toBe("schedules")
        expect(yield* Queue.take(second).pipe(Effect.timeout("5 seconds"))).toBe("schedules")
        expect(yield* Queue.isShutdown(left)).toBe(true)
      }))

    it.scopedLive("without notifications, subscribers are still woken by the poll", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const store = yield* storeOn(schema, { pollInterval: "50 millis" })
        const changes = yield* store.changes
        const woken = yield* Queue.takeBetween(changes, 2, 2).pipe(Effect.timeout("5 seconds"))
        expect(Array.from(woken).sort()).toEqual(["runs", "schedules"])
      }))
  })

  describe("connection loss", () => {
    it.scopedLive("LISTEN comes back after PostgreSQL terminates its backend, said once each way", () =>
      Effect.gen(function*() {
        const lines: Array<string> = []
        const { schema, sql } = yield* freshSchemaWithClient
        // its own application name, so this test terminates its own LISTEN connection and no other
        const name = `cw-listen-${schema}`
        const context = yield* Layer.build(
          PgClient.layerConfig({ url, applicationName: Config.succeed(name), ...PgStore.clientConfig })
        )
        // no polling: only LISTEN/NOTIFY can deliver changes
        const listener = yield* PgStore.make({ schema, pollInterval: 0 }).pipe(
          Effect.provide(context),
          Effect.provide(captureLogs(lines))
        )
        const writer = yield* storeOn(schema)
        const changes = yield* listener.changes
        const listenBackends = sql<{ readonly pid: number }>`
          select pid from pg_stat_activity where application_name = ${`${name} (clockwork listen)`}`
        const [before] = yield* listenBackends
        expect(before).toBeDefined()

        yield* sql`select pg_terminate_backend(${before!.pid})`
        // a new LISTEN connection, then the wake-up for what may have been missed meanwhile
        const woken = yield* Queue.takeBetween(changes, 4, 4).pipe(Effect.timeout("10 seconds"))
        expect(Array.from(woken).sort()).toEqual(["cancels", "feed", "runs", "schedules"])
        const after = yield* listenBackends
        expect(after.map((row) => row.pid)).not.toContain(before!.pid)
        expect(after).toHaveLength(1)

        yield* writer.enqueue([newRun()], t0)
        expect(yield* Queue.take(changes).pipe(Effect.timeout("5 seconds"))).toBe("runs")
        expect(lines.filter((line) => line.includes("LISTEN")).map((line) => line.replace(/after .*$/, "after …")))
          .toEqual([
            `WARN clockwork: LISTEN clockwork:${schema} lost its connection; reconnecting, changes from other processes are heard when it is back`,
            `INFO clockwork: LISTEN clockwork:${schema} is back after …`
          ])
      }), 30_000)
  })

  describe("clock skew", () => {
    const tablesOf = (schema: string) =>
      Effect.flatMap(Layer.build(client), (context) =>
        Effect.map(SqlClient.SqlClient, (sql) => Tables.make(sql, schema)).pipe(Effect.provide(context)))

    it.scopedLive("a machine clock 5 s behind the server's is measured and warned about", () =>
      Effect.gen(function*() {
        const lines: Array<string> = []
        const live = Clock.make()
        const behind: Clock.Clock = Object.assign(Object.create(live), {
          unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis() - 5_000
        })
        const t = yield* tablesOf("clockwork")
        const skew = yield* ClockSkew.check(t, Duration.seconds(1), behind).pipe(Effect.provide(captureLogs(lines)))
        expect(Math.abs(skew - 5_000)).toBeLessThan(500)
        expect(lines).toHaveLength(1)
        expect(lines[0]).toMatch(/^WARN clockwork: the database server's clock is \d+ ms ahead of this machine's/)
      }))

    it.scopedLive("this machine and the local server agree, and nothing is said", () =>
      Effect.gen(function*() {
        const lines: Array<string> = []
        const t = yield* tablesOf("clockwork")
        const skew = yield* ClockSkew.check(t, Duration.seconds(1)).pipe(Effect.provide(captureLogs(lines)))
        expect(Math.abs(skew)).toBeLessThan(1_000)
        expect(lines).toEqual([])
      }))
  })

  describe("several processes", () => {
    it.scopedLive("claiming at once, four workers take each run exactly once", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const stores = yield* Effect.all([1, 2, 3, 4].map(() => storeOn(schema)), { concurrency: "unbounded" })
        const count = 2000
        const ids = yield* stores[0]!.enqueue(Array.from({ length: count }, (_, n) => newRun({ payload: n })), t0)

        const drain = (store: JobStore.JobStore, workerId: string) =>
          Effect.gen(function*() {
            const mine: Array<string> = []
            for (;;) {
              const { runs: claimed } = yield* store.claim({ now: t0, limit: 25, workerId, leaseMs: 60_000 })
              if (claimed.length === 0) return mine
              for (const c of claimed) mine.push(c.id)
            }
          })
        const claimed = yield* Effect.all(stores.map((store, i) => drain(store, `worker-${i}`)), {
          concurrency: "unbounded"
        })
        const all = claimed.flat()
        expect(all).toHaveLength(count)
        expect(new Set(all)).toEqual(new Set(ids))
        const running = yield* stores[1]!.listRuns({ state: "running", limit: count })
        expect(running).toHaveLength(count)
      }), 30_000)

    it.scopedLive("three tickers firing the same ticks at once fire each tick once", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const stores = yield* Effect.all([1, 2, 3].map(() => storeOn(schema)), { concurrency: "unbounded" })
        const minute = 60_000
        yield* stores[0]!.upsertSchedule({ ...digestSchedule, firstFireAt: t0 + minute })
        for (let n = 1; n <= 20; n++) {
          const tick: JobStore.ScheduleFire = {
            scheduleId: "digest",
            expectedNextFireAt: t0 + n * minute,
            nextFireAt: t0 + (n + 1) * minute,
            runs: [newRun({ jobName: "send-digest", scheduleId: "digest", runAt: t0 + n * minute })],
            skipIfActive: false,
            now: t0 + n * minute
          }
          const results = yield* Effect.all(stores.map((store) => store.fire(tick)), { concurrency: "unbounded" })
          expect(results.filter((r) => r.fired)).toHaveLength(1)
        }
        expect(yield* stores[2]!.listRuns({ scheduleId: "digest" })).toHaveLength(20)
        const schedule = yield* stores[1]!.getSchedule("digest")
        expect(DateTime.toEpochMillis(schedule.nextFireAt!)).toBe(t0 + 21 * minute)
      }), 30_000)

    it.scopedLive("three processes registering the same 3,000 schedules at once write each once", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const stores = yield* Effect.all([1, 2, 3].map(() => storeOn(schema)), { concurrency: "unbounded" })
        const definitions = (edition: number, now: number) =>
          Array.from({ length: 3_000 }, (_, n): JobStore.ScheduleInput => ({
            id: `tenant-${n}`,
            jobName: "send-digest",
            payload: { n, edition },
            trigger: new Trigger.Every({ interval: Duration.minutes(1 + (n % 5)) }),
            misfire: Policy.coalesce,
            overlap: "allow",
            misfireGraceMs: 60_000,
            firstFireAt: now + 60_000,
            now
          }))
        // each starts with another part of the list, as processes that started a little apart would be
        const registerAtOnce = (inputs: ReadonlyArray<JobStore.ScheduleInput>) =>
          Effect.all(
            stores.map((store, i) => store.upsertSchedules([...inputs.slice(i * 1_000), ...inputs.slice(0, i * 1_000)])),
            { concurrency: "unbounded" }
          )
        const outcomesById = (results: ReadonlyArray<ReadonlyArray<JobStore.UpsertResult>>) => {
          const byId = new Map<string, Array<string>>()
          for (const { outcome, schedule } of results.flat()) {
            byId.set(schedule.id, [...(byId.get(schedule.id) ?? []), outcome].sort())
          }
          return new Set(Array.from(byId.values(), (outcomes) => outcomes.join(",")))
        }

        expect(outcomesById(yield* registerAtOnce(definitions(1, t0)))).toEqual(
          new Set(["created,unchanged,unchanged"])
        )
        expect(outcomesById(yield* registerAtOnce(definitions(2, t0 + 1_000)))).toEqual(
          new Set(["unchanged,unchanged,updated"])
        )
        const stored = yield* stores[0]!.listSchedules
        expect(stored).toHaveLength(3_000)
        expect(stored.every((s) => (s.payload as { edition: number }).edition === 2)).toBe(true)
        const feed = yield* stores[0]!.readFeed(Feed.start, 10_000)
        expect(feed.filter((e) => e._tag === "ScheduleChanged" && e.change === "created")).toHaveLength(3_000)
        expect(feed.filter((e) => e._tag === "ScheduleChanged" && e.change === "updated")).toHaveLength(3_000)
      }), 60_000)

    it.scopedLive("enqueuing one dedup key from four processes at once makes one run", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const stores = yield* Effect.all([1, 2, 3, 4].map(() => storeOn(schema)), { concurrency: "unbounded" })
        for (let round = 0; round < 10; round++) {
          const key = `welcome:${round}`
          const ids = yield* Effect.all(stores.map((store) => store.enqueue([newRun({ key })], t0)), {
            concurrency: "unbounded"
          })
          expect(new Set(ids.flat()).size).toBe(1)
        }
        expect(yield* stores[0]!.listRuns({ state: "queued" })).toHaveLength(10)
      }), 30_000)
  })

  describe("transactions", () => {
    it.scopedLive("an enqueue inside the app's own transaction commits or rolls back with it", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const context = yield* Layer.build(client)
        const store = yield* PgStore.make({ schema, pollInterval: 0 }).pipe(Effect.provide(context))
        const sql = yield* SqlClient.SqlClient.pipe(Effect.provide(context))
        const changes = yield* store.changes

        const failure = yield* sql.withTransaction(
          Effect.zipRight(store.enqueue([newRun({ payload: "rolled back" })], t0), Effect.fail("order rejected"))
        ).pipe(Effect.flip)
        expect(failure).toBe("order rejected")
        expect(yield* store.listRuns({})).toEqual([])

        yield* sql.withTransaction(store.enqueue([newRun({ payload: "committed" })], t0))
        expect((yield* store.listRuns({})).map((r) => r.payload)).toEqual(["committed"])
        // the rolled-back enqueue's notification was never sent; the committed one's was
        expect(yield* Queue.take(changes).pipe(Effect.timeout("5 seconds"))).toBe("runs")
        expect(yield* Queue.size(changes)).toBe(0)
      }))

    it.scopedLive("the feed holds back entries committed after an older transaction still open, never skipping it", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const context = yield* Layer.build(client)
        const store = yield* PgStore.make({ schema, pollInterval: 0 }).pipe(Effect.provide(context))
        const sql = yield* SqlClient.SqlClient.pipe(Effect.provide(context))
        const [early, late] = yield* store.enqueue([newRun({ jobName: "early" }), newRun({ jobName: "late" })], t0)
        const claimed = new Map((yield* store.claim({ now: t0, limit: 2, workerId: "w", leaseMs: 60_000 })).runs.map((c) => [
          c.id,
          c
        ]))
        const outcome = (id: typeof early) => {
          const c = claimed.get(id!)!
          return {
            runId: c.id,
            jobName: c.jobName,
            attempt: c.attempt,
            status: "succeeded" as const,
            scheduledFor: t0,
            scheduleId: undefined,
            startedAt: t0,
            finishedAt: t0 + 1000,
            workerId: "w"
          }
        }
        // the early outcome's transaction is written first and stays open; the late one commits meanwhile
        const release = yield* Deferred.make<void>()
        const written = yield* Deferred.make<void>()
        const open = yield* Effect.fork(sql.withTransaction(
          Effect.zipRight(
            Effect.zipRight(store.complete([outcome(early)]), Deferred.succeed(written, undefined)),
            Deferred.await(release)
          )
        ))
        yield* Deferred.await(written)
        yield* store.complete([outcome(late)])
        expect(yield* store.history({ jobName: "late" })).toHaveLength(1)
        // a reader now must not be handed the late entry: its cursor would pass the early one
        expect(yield* store.readFeed(Feed.start, 10)).toEqual([])
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(open)
        const entries = yield* store.readFeed(Feed.start, 10)
        expect(entries.map((e) => e._tag === "Attempt" ? e.record.jobName : e._tag)).toEqual(["early", "late"])
      }))
  })

  describe("representation", () => {
    it.scopedLive("instants come back exact to the millisecond", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const store = yield* storeOn(schema)
        const instants = [t0 + 1, t0 + 999, t0 + 123_456_789, -1, 0, Date.UTC(9999, 11, 31, 23, 59, 59, 999)]
        const ids = yield* store.enqueue(instants.map((at) => newRun({ runAt: at, scheduledFor: at + 7 })), t0)
        for (const [i, id] of ids.entries()) {
          const stored = yield* store.getRun(id)
          expect(DateTime.toEpochMillis(stored.runAt)).toBe(instants[i])
          expect(DateTime.toEpochMillis(stored.scheduledFor)).toBe(instants[i]! + 7)
        }
      }))

    it.scopedLive("JSON null, absent values and arrays keep their shape", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const store = yield* storeOn(schema)
        const payloads = [null, undefined, [1, "two", { three: 3 }], "text", 0, { nested: { list: [] } }]
        const ids = yield* store.enqueue(payloads.map((payload) => newRun({ payload })), t0)
        for (const [i, id] of ids.entries()) {
          expect((yield* store.getRun(id)).payload).toStrictEqual(payloads[i])
        }
      }))

    it.scopedLive("works on a pool that transforms column names", () =>
      Effect.gen(function*() {
        const { schema } = yield* freshSchemaWithClient
        const transforming = Layer.unwrapEffect(Effect.map(url, (url) =>
          PgClient.layer({
            url,
            transformResultNames: String.snakeToCamel,
            transformQueryNames: String.camelToSnake
          })))
        const store = yield* PgStore.make({ schema, pollInterval: 0 }).pipe(
          Effect.provide(yield* Layer.build(transforming))
        )
        const [id] = yield* store.enqueue([newRun({ scheduleId: "digest", then: ["log-email"] })], t0)
        const [claimed] = (yield* store.claim({ now: t0, limit: 1, workerId: "w", leaseMs: 1000 })).runs
        expect(claimed).toMatchObject({ id, scheduleId: "digest", then: ["log-email"], attempt: 1 })
        expect((yield* store.getRun(id!)).state).toBe("running")
      }))
  })
})
