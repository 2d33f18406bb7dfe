/**
 * The PostgreSQL store shared by real processes: workers and schedulers are
 * child processes (test/multiprocess/process.ts) on one fresh schema; the test
 * process enqueues through the store and asserts on the tables.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { live, scalar, setup, start, until } from "./support/processes.js"
import { hasDatabase } from "./utils.js"

describe.runIf(hasDatabase)("PgStore across processes", () => {
  it.scopedLive("a. 3 worker processes drain 10,000 jobs, each once unless its lease expired", () =>
    live(Effect.gen(function*() {
      const { schema, store, sql } = yield* setup
      const total = 10_000
      const now = Date.now()
      for (let i = 0; i < total; i += 1000) {
        yield* store.enqueue(
          Array.from({ length: 1000 }, (_, j) => ({ jobName: "noop", payload: { n: i + j }, runAt: now, scheduledFor: now })),
          now
        )
      }
      const started = Date.now()
      yield* Effect.all(
        ["w1", "w2", "w3"].map((id) => start("worker", schema, id, "8", "30000")),
        { concurrency: "unbounded" }
      )
      yield* until(
        "all runs to succeed",
        Effect.map(sql`select count(*) as n from ${sql(schema)}.runs where state = 'succeeded'`, (r) => scalar(r) === total),
        "100 seconds",
        "500 millis"
      )
      const seconds = (Date.now() - started) / 1000
      console.log(`a. drained ${total} jobs in ${seconds.toFixed(1)} s: ${(total / seconds).toFixed(0)} jobs/s (incl. process start)`)

      expect(scalar(yield* sql`select count(*) as n from ${sql(schema)}.runs where state <> 'succeeded'`)).toBe(0)
      expect(scalar(yield* sql`select count(distinct run_id) as n from ${sql(schema)}.executions`)).toBe(total)
      // a run executed more than once must have lost a lease in between: one interrupted attempt per extra execution
      const extra = scalar(yield* sql`select count(*) - count(distinct run_id) as n from ${sql(schema)}.executions`)
      const interrupted = scalar(
        yield* sql`select count(*) as n from ${sql(schema)}.run_history where status = 'interrupted' and error_tag = 'LeaseExpired'`
      )
      expect(extra).toBe(interrupted)
      const lost = yield* sql`select h.run_id, h.worker_id, h.started_at, h.finished_at, h.error_message,
          (select array_agg(e.worker || '@' || e.at::text order by e.at) from ${sql(schema)}.executions e where e.run_id = h.run_id::text) as execs
        from ${sql(schema)}.run_history h where h.status = 'interrupted'`
      console.log(`a. lease expiries: ${JSON.stringify(lost)}`)
      const perWorker = yield* sql`select worker, count(*) as n from ${sql(schema)}.executions group by worker order by worker`
      console.log(`a. per worker: ${perWorker.map((r: any) => `${r.worker}=${r.n}`).join(" ")}; re-runs after lease expiry: ${extra}`)
    })), 120_000)

  it.scopedLive("b. a worker killed mid-job: another re-runs it after the lease, history has both attempts", () =>
    live(Effect.gen(function*() {
      const { schema, store, sql } = yield* setup
      const victim = yield* start("worker", schema, "victim", "1", "2000")
      const now = Date.now()
      const [runId] = yield* store.enqueue([{ jobName: "slow", payload: { seconds: 20 }, runAt: now, scheduledFor: now }], now)
      yield* until(
        "the victim to start the slow job",
        Effect.map(sql`select count(*) as n from ${sql(schema)}.executions where worker = 'victim'`, (r) => scalar(r) === 1),
        "30 seconds",
        "100 millis"
      )
      // the job outlasts the survivor's start-up (seconds on a loaded machine), so the victim dies mid-job
      yield* start("worker", schema, "survivor", "1", "2000")
      victim.kill("SIGKILL")
      const killedAt = Date.now()
      yield* until(
        "the survivor to re-run it",
        Effect.map(sql`select count(*) as n from ${sql(schema)}.executions where worker = 'survivor'`, (r) => scalar(r) === 1),
        // seconds when the machine is quiet; a loaded CI machine may need longer
        "60 seconds",
        "100 millis"
      )
      console.log(`b. kill to re-run: ${Date.now() - killedAt} ms (lease 2 s, reaper every 1 s)`)
      yield* until(
        "the re-run to succeed",
        Effect.map(sql`select count(*) as n from ${sql(schema)}.runs where state = 'succeeded'`, (r) => scalar(r) === 1),
        "60 seconds"
      )
      const history = yield* store.history({ runId: runId! })
      const attempts = [...history].sort((a, b) => a.attempt - b.attempt)
      expect(attempts.map((r) => [r.attempt, r.status, r.error?.tag, r.workerId])).toEqual([
        [1, "interrupted", "LeaseExpired", "victim"],
        [2, "succeeded", undefined, "survivor"]
      ])
    })), 150_000)

  it.scopedLive("c. 3 scheduler processes fire every tick of a 1-second cron exactly once for 30 s, while two of them are killed", () =>
    live(Effect.gen(function*() {
      const { schema, store } = yield* setup
      const [first, second] = yield* Effect.all(
        [1, 2, 3].map(() => start("scheduler", schema, "* * * * * *")),
        { concurrency: "unbounded" }
      )
      // no leader: ticks go on while schedulers die (kill -9), until one is left
      yield* Effect.sleep("10 seconds")
      first!.kill("SIGKILL")
      yield* Effect.sleep("10 seconds")
      second!.kill("SIGKILL")
      yield* Effect.sleep("10 seconds")
      const runs = yield* store.listRuns({ scheduleId: "tick" })
      const seconds = runs.map((r) => r.scheduledFor.epochMillis).sort((a, b) => a - b)
      console.log(`c. ${seconds.length} ticks in 30 s from 3 schedulers, two of them killed at 10 s and 20 s`)
      expect(seconds.length).toBeGreaterThanOrEqual(27)
      expect(new Set(seconds).size).toBe(seconds.length)
      for (const s of seconds) expect(s % 1000).toBe(0)
      expect((seconds.at(-1)! - seconds[0]!) / 1000 + 1).toBe(seconds.length)
    })), 90_000)

  it.scopedLive("e. a job no worker registers waits for one, said once; a bad payload ends with its reason", () =>
    live(Effect.gen(function*() {
      const { schema, store, sql } = yield* setup
      const worker = yield* start("worker", schema, "w1", "2", "5000")
      const now = Date.now()
      const [unknown, bad, good] = yield* store.enqueue([
        { jobName: "nobody-registered-this", payload: {}, runAt: now, scheduledFor: now },
        { jobName: "noop", payload: { n: "not a number" }, runAt: now, scheduledFor: now },
        { jobName: "noop", payload: { n: 1 }, runAt: now + 500, scheduledFor: now + 500 }
      ], now)
      yield* until(
        "the good job to succeed",
        Effect.map(sql`select count(*) as n from ${sql(schema)}.runs where id = ${good!} and state = 'succeeded'`, (r) => scalar(r) === 1),
        "20 seconds"
      )
      const [badRecord] = yield* store.history({ runId: bad! })
      expect(badRecord?.status).toBeOneOf(["failed", "dead"])
      expect(badRecord?.error?.tag).toBe("ParseError")
      // no worker has "nobody-registered-this" registered: none takes it (a worker of a later
      // deploy may), and the worker's reaper says why, once
      yield* until(
        "the reaper to say why the run waits",
        Effect.sync(() => worker.output().includes("no live worker registers that job")),
        "20 seconds"
      )
      yield* Effect.sleep("3 seconds")
      expect((yield* store.getRun(unknown!)).state).toBe("queued")
      expect(yield* store.history({ runId: unknown! })).toEqual([])
      const said = worker.output().split("\n").filter((line) => line.includes("no live worker registers"))
      expect(said).toHaveLength(1)
      expect(said[0]).toContain("1 due run(s) of job")
      expect(said[0]).toContain("nobody-registered-this")
    })), 60_000)

  it.scopedLive("d. workers recover when PostgreSQL terminates all their connections during a load", () =>
    live(Effect.gen(function*() {
      const { schema, store, sql } = yield* setup
      const workers = yield* Effect.all(
        ["w1", "w2"].map((id) => start("worker", schema, id, "4", "10000")),
        { concurrency: "unbounded" }
      )
      const listenBackends = Effect.map(
        sql<{ readonly pid: number }>`select pid from pg_stat_activity
          where application_name = ${`clockwork-worker-${schema} (clockwork listen)`}`,
        (rows) => rows.map((row) => row.pid)
      )
      const listenersBefore = yield* listenBackends
      expect(listenersBefore).toHaveLength(2)
      const total = 2_000
      const now = Date.now()
      yield* store.enqueue(
        Array.from({ length: total }, (_, n) => ({ jobName: "noop", payload: { n }, runAt: now, scheduledFor: now })),
        now
      )
      yield* until(
        "some progress",
        Effect.map(sql`select count(*) as n from ${sql(schema)}.executions`, (r) => scalar(r) > 100),
        "30 seconds"
      )
      // every backend but the test process's own: the workers' pools and LISTEN connections
      const killed = yield* sql`select count(pg_terminate_backend(pid)) as n from pg_stat_activity
        where application_name like ${`clockwork-worker-${schema}%`}`
      console.log(`d. terminated ${scalar(killed)} backends`)
      // enqueued after the kill: only a worker that reconnected can run these
      const later = Date.now()
      yield* store.enqueue(
        Array.from({ length: 100 }, (_, n) => ({ jobName: "noop", payload: { n }, runAt: later, scheduledFor: later })),
        later
      ).pipe(Effect.retry({ times: 5 }))
      yield* until(
        "all runs to succeed after the kill",
        Effect.map(sql`select count(*) as n from ${sql(schema)}.runs where state = 'succeeded'`, (r) => scalar(r) === total + 100),
        "60 seconds",
        "500 millis"
      )
      // each worker opened a new LISTEN connection, and said so once: lost, then back
      yield* until(
        "both workers to LISTEN again",
        Effect.map(listenBackends, (pids) => pids.length === 2 && pids.every((pid) => !listenersBefore.includes(pid))),
        "20 seconds"
      )
      for (const worker of workers) {
        const lines = worker.output().split("\n")
        expect(lines.filter((line) => line.includes("lost its connection"))).toHaveLength(1)
        expect(lines.filter((line) => line.includes("is back after"))).toHaveLength(1)
        // the pool's connections died too: said at most once, however many calls failed
        expect(lines.filter((line) => line.includes("the store does not answer")).length).toBeLessThanOrEqual(1)
      }
    })), 120_000)
  it.scopedLive("f. two consumer processes share one name: one handles the feed; killed mid-batch, the other resumes, losing nothing", () =>
    live(Effect.gen(function*() {
      const { schema, store, sql } = yield* setup
      yield* sql`create table ${sql(schema)}.consumed (
        consumer text not null, cursor text not null, run_id text, at timestamptz not null default clock_timestamp())`
      const total = 60
      const now = Date.now()
      yield* store.enqueue(
        Array.from({ length: total }, (_, n) => ({ jobName: "noop", payload: { n }, runAt: now, scheduledFor: now })),
        now
      )
      const [c1, c2] = yield* Effect.all([
        start("consumer", schema, "audit", "c1", "--pause=100"),
        start("consumer", schema, "audit", "c2", "--pause=100")
      ], { concurrency: "unbounded" })
      yield* start("worker", schema, "w1", "8", "30000")
      const distinct = Effect.map(
        sql`select count(distinct run_id) as n from ${sql(schema)}.consumed where run_id is not null`,
        scalar
      )
      yield* until("a third of the attempts to be consumed", Effect.map(distinct, (n) => n >= total / 3), "60 seconds", "100 millis")
      // one instance holds the name: every entry so far was handled by the same consumer
      const holders = (yield* sql<{ consumer: string }>`select distinct consumer from ${sql(schema)}.consumed`)
        .map((r) => r.consumer)
      expect(holders).toHaveLength(1)
      const [victim, survivor] = holders[0] === "c1" ? [c1, "c2"] : [c2, "c1"]
      // killed mid-batch (it pauses 100 ms after each of its 10 entries)
      victim!.kill("SIGKILL")
      const killedAt = scalar(yield* sql`select count(*) as n from ${sql(schema)}.consumed`)
      yield* until("every attempt to be consumed", Effect.map(distinct, (n) => n === total), "90 seconds", "200 millis")
      const rows = yield* sql<{ consumer: string; cursor: string; n: string }>`
        select consumer, cursor, count(*) as n from ${sql(schema)}.consumed group by consumer, cursor`
      const byCursor = new Map<string, number>()
      for (const row of rows) byCursor.set(row.cursor, (byCursor.get(row.cursor) ?? 0) + Number(row.n))
      const repeated = [...byCursor.values()].filter((n) => n > 1).length
      console.log(`f. ${killedAt} entries handled before the kill; ${repeated} handled again by ${survivor}`)
      // at least once: what the killed consumer handled after its last stored cursor is handed again, at most a batch
      expect(repeated).toBeLessThanOrEqual(10)
      expect([...byCursor.values()].every((n) => n <= 2)).toBe(true)
      const after = yield* sql<{ consumer: string }>`
        select distinct consumer from ${sql(schema)}.consumed order by consumer`
      expect(after.map((r) => r.consumer).sort()).toEqual(["c1", "c2"])
    })), 180_000)

  it.scopedLive("g. a workflow killed in step 3 of 4 resumes there on another worker (steps 1-2 ran once); a signal from another process ends its wait", () =>
    live(Effect.gen(function*() {
      const { schema, store, sql } = yield* setup
      const victim = yield* start("worker", schema, "victim", "2", "2000")
      const now = Date.now()
      const [runId] = yield* store.enqueue([{ jobName: "checkout", payload: { seconds: 20 }, runAt: now, scheduledFor: now }], now)
      const executions = (job: string) =>
        Effect.map(sql`select count(*) as n from ${sql(schema)}.executions where job = ${job}`, scalar)
      yield* until("the victim to reach step 3", Effect.map(executions("checkout-3"), (n) => n === 1), "30 seconds", "100 millis")
      yield* start("worker", schema, "survivor", "2", "2000")
      victim.kill("SIGKILL")
      // the attempt journals its wait, then ends, and the run is queued again for its wake-up: two
      // statements, so the run is waiting once both are done (reading the run after the first alone races)
      yield* until(
        "the survivor to wait for the signal, the run queued again",
        Effect.map(
          sql`select count(*) as n from ${sql(schema)}.workflow_steps s join ${sql(schema)}.runs r on r.id = s.run_id
            where s.name = 'signal:approved' and s.status = 'waiting' and r.state = 'queued'`,
          (r) => scalar(r) === 1
        ),
        "90 seconds",
        "200 millis"
      )
      expect(yield* store.signal({ runId: runId!, name: "approved", value: { by: "ada" }, now: Date.now() })).toBe("delivered")
      yield* until(
        "the workflow to succeed",
        Effect.map(sql`select count(*) as n from ${sql(schema)}.runs where id = ${runId!} and state = 'succeeded'`, (r) => scalar(r) === 1),
        "60 seconds",
        "100 millis"
      )
      const ran = yield* sql<{ job: string; worker: string; n: string }>`
        select job, worker, count(*) as n from ${sql(schema)}.executions group by job, worker order by job, worker`
      expect(ran.map((r) => `${r.job} ${r.worker} ${r.n}`)).toEqual([
        "checkout-1 victim 1",
        "checkout-2 victim 1",
        "checkout-3 survivor 1",
        "checkout-3 victim 1",
        "checkout-4 survivor 1",
        "checkout-approved survivor 1"
      ])
      expect((yield* store.getRun(runId!)).result).toBe("ada")
      // the crash is the only attempt the history shows besides the success: waits are not attempts
      const history = [...(yield* store.history({ runId: runId! }))].sort((a, b) => a.attempt - b.attempt)
      expect(history.map((r) => [r.attempt, r.status, r.workerId])).toEqual([
        [1, "interrupted", "victim"],
        [2, "succeeded", "survivor"]
      ])
    })), 180_000)
})
