/**
 * Faults that a job or a deploy inflicts on workers sharing PostgreSQL, with
 * real processes: runs that kill or block their process, a rolling deploy
 * that adds a job, a cancel from another process, and workers killed with
 * SIGKILL again and again.
 */
import { Clockwork, JobStore, Scheduler } from "@clockwork/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import { live, scalar, setup, supervise, type Supervised, until } from "./support/processes.js"
import { hasDatabase } from "./utils.js"

/** How many incarnations printed `ready`. */
const readies = (supervised: Supervised) => supervised.output().match(/^ready$/gm)?.length ?? 0

const waitReady = (supervised: Supervised) =>
  until("the worker to be ready", Effect.sync(() => readies(supervised) > 0), "120 seconds")

const enqueueNow = (store: JobStore.JobStore, jobName: string, payloads: ReadonlyArray<unknown>) => {
  const now = Date.now()
  return store.enqueue(payloads.map((payload) => ({ jobName, payload, runAt: now, scheduledFor: now })), now)
}

describe.runIf(hasDatabase)("faults across processes", () => {
  it.scopedLive("poison runs (one exits its process, one blocks its loop) end dead; every innocent run succeeds", () =>
    live(Effect.gen(function*() {
      const { schema, sql, store } = yield* setup
      const workers = yield* Effect.all(
        ["w1", "w2"].map((id) => supervise(schema, id, "8", "3000", "--watchdog=1500")),
        { concurrency: "unbounded" }
      )
      yield* Effect.forEach(workers, waitReady)
      const innocent = yield* enqueueNow(store, "slow", Array.from({ length: 10 }, () => ({ seconds: 0.3 })))
      const [exit] = yield* enqueueNow(store, "exit", [{}])
      const [block] = yield* enqueueNow(store, "block", [{}])
      const more = yield* enqueueNow(store, "slow", Array.from({ length: 10 }, () => ({ seconds: 0.3 })))

      const final = (id: string) =>
        Effect.map(store.getRun(id as never), (run) => run.state === "dead" || run.state === "succeeded")
      yield* until(
        "both poison runs and every innocent run to end",
        Effect.map(
          Effect.all([exit!, block!, ...innocent, ...more].map(final)),
          (done) => done.every(Boolean)
        ),
        "200 seconds"
      )
      for (const poison of [exit!, block!]) {
        const run = yield* store.getRun(poison)
        expect(run.state).toBe("dead")
        const attempts = yield* store.history({ runId: poison })
        // three attempts allowed (recurs(2)): three lost leases, then dead at the next claim
        expect(attempts.map((r) => r.status)).toEqual(["dead", "interrupted", "interrupted", "interrupted"])
        expect(attempts[0]!.error?.tag).toBe("LeaseExpired")
        expect(attempts[0]!.error?.message).toContain("stopped renewing its lease 3 times")
      }
      for (const id of [...innocent, ...more]) expect((yield* store.getRun(id)).state).toBe("succeeded")
      // each poison run executed at most as often as its retry policy allows (a claimed run waiting to
      // run alone loses its lease too when another run takes its worker down), and each execution
      // took its worker down
      const executions = scalar(
        yield* sql`select count(*) as n from ${sql(schema)}.executions where job in ('exit', 'block')`
      )
      for (const job of ["exit", "block"]) {
        const n = scalar(yield* sql`select count(*) as n from ${sql(schema)}.executions where job = ${job}`)
        expect(n).toBeGreaterThanOrEqual(1)
        expect(n).toBeLessThanOrEqual(3)
      }
      const restarts = workers.reduce((n, w) => n + w.restarts(), 0)
      // (two poison runs may take one process down together)
      expect(restarts).toBeGreaterThanOrEqual(2)
      expect(restarts).toBeLessThanOrEqual(executions)
      const output = workers.map((w) => w.output()).join("\n")
      expect(output).toContain("has been blocked for")
      console.log(`poison: ${restarts} restarts; innocent attempts: ${
        JSON.stringify(
          yield* sql`select attempt, count(*)::int as n from ${sql(schema)}.runs where job_name = 'slow' group by attempt order by attempt`
        )
      }`)
    })), 300_000)

  it.scopedLive("rolling deploy: runs of a job only the new worker has all run there; none fails UnknownJob", () =>
    live(Effect.gen(function*() {
      const { schema, sql, store } = yield* setup
      const old = yield* supervise(schema, "old", "4", "5000", "--jobs=noop")
      yield* waitReady(old)
      // the new version's runs arrive before its worker is up: the old worker must leave them alone
      const ids = yield* enqueueNow(store, "slow", Array.from({ length: 20 }, () => ({ seconds: 0.05 })))
      yield* Effect.sleep("2 seconds")
      const fresh = yield* supervise(schema, "new", "4", "5000", "--jobs=noop,slow")
      yield* waitReady(fresh)
      yield* until(
        "every run to end",
        Effect.map(
          sql`select count(*) as n from ${sql(schema)}.runs where job_name = 'slow' and state not in ('queued', 'running')`,
          (rows) => scalar(rows) === 20
        ),
        "90 seconds"
      )
      for (const id of ids) expect((yield* store.getRun(id)).state).toBe("succeeded")
      const workers = yield* sql<{ worker: string }>`select distinct worker from ${sql(schema)}.executions`
      expect(workers.map((row) => row.worker)).toEqual(["new"])
      expect(scalar(yield* sql`select count(*) as n from ${sql(schema)}.run_history where error_tag = 'UnknownJob'`))
        .toBe(0)
    })), 240_000)

  it.scopedLive("a run held by a worker in another process is cancelled there: interrupted at once, recorded cancelled", () =>
    live(Effect.gen(function*() {
      const { schema, sql, store } = yield* setup
      const worker = yield* supervise(schema, "a", "4", "30000")
      yield* waitReady(worker)
      const [id] = yield* enqueueNow(store, "long", [{ seconds: 30 }])
      yield* until(
        "the run to start",
        Effect.map(sql`select count(*) as n from ${sql(schema)}.executions where job = 'long'`, (r) => scalar(r) === 1),
        "60 seconds"
      )
      // this test process is the third: a scheduler without a runner
      const scheduler = Clockwork.layerScheduler({ reaper: false, retention: false }).pipe(
        Layer.provide(Layer.succeed(JobStore.JobStore, store))
      )
      const started = Date.now()
      const answer = yield* Scheduler.cancel(id!).pipe(Effect.provide(scheduler))
      const tookMs = Date.now() - started
      expect(answer).toBe("cancelled")
      expect((yield* store.getRun(id!)).state).toBe("cancelled")
      expect((yield* store.history({ runId: id! })).map((r) => r.status)).toEqual(["cancelled"])
      // its interruption ran in the worker's process (the finalizer recorded it), and it never finished
      const traces = yield* sql<{ job: string }>`select job from ${sql(schema)}.executions order by at`
      expect(traces.map((row) => row.job)).toEqual(["long", "long-interrupted"])
      console.log(`cancel across processes answered in ${tookMs} ms`)
      expect(tookMs).toBeLessThan(10_000)
    })), 120_000)

  it.scopedLive("kill -9 churn: a worker killed 10 times while 20,000 runs drain loses none; no deadlock", () =>
    live(Effect.gen(function*() {
      const { schema, sql, store } = yield* setup
      const deadlocks = Effect.map(
        sql`select deadlocks as n from pg_stat_database where datname = current_database()`,
        scalar
      )
      const deadlocksBefore = yield* deadlocks
      const steady = yield* supervise(schema, "steady", "50", "3000")
      const churned = yield* supervise(schema, "churned", "50", "3000")
      yield* Effect.forEach([steady, churned], waitReady)
      const total = 20_000
      for (let i = 0; i < total; i += 5_000) {
        yield* enqueueNow(store, "noop", Array.from({ length: 5_000 }, (_, j) => ({ n: i + j })))
      }
      const kills = yield* Ref.make(0)
      for (let k = 0; k < 10; k++) {
        // kill it each time it is back and has taken runs
        yield* until(
          "the churned worker to be running again",
          Effect.sync(() => churned.restarts() === k && readies(churned) === k + 1),
          "120 seconds"
        )
        yield* Effect.sleep("700 millis")
        churned.kill()
        yield* Ref.update(kills, (n) => n + 1)
      }
      yield* until(
        "all runs to succeed",
        Effect.map(
          sql`select count(*) as n from ${sql(schema)}.runs where state = 'succeeded'`,
          (rows) => scalar(rows) === total
        ),
        "240 seconds"
      )
      expect(yield* Ref.get(kills)).toBe(10)
      expect(scalar(yield* sql`select count(*) as n from ${sql(schema)}.runs where state <> 'succeeded'`)).toBe(0)
      // every execution beyond the first of a run follows a lease that expired, each counted as an attempt
      const extra = scalar(yield* sql`select count(*) - count(distinct run_id) as n from ${sql(schema)}.executions`)
      const interrupted = scalar(
        yield* sql`select count(*) as n from ${sql(schema)}.run_history where status = 'interrupted'`
      )
      expect(extra).toBeLessThanOrEqual(interrupted)
      expect(scalar(yield* sql`select count(*) as n from ${sql(schema)}.run_history where status = 'succeeded'`))
        .toBe(total)
      expect(yield* deadlocks).toBe(deadlocksBefore)
      console.log(`kill -9 churn: ${interrupted} lease expiries, ${extra} re-executions`)
    })), 420_000)
})
