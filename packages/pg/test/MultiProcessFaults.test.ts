/**
 * Faults an operator meets, with real worker processes: PostgreSQL restarting
 * or stopping (on a private cluster, so other test files are not disturbed)
 * and a network path that goes silent (a frozen TCP proxy in front of the
 * server at DATABASE_URL).
 */
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Config, Effect, Logger, Redacted } from "effect"
import { PgStore } from "../src/index.js"
import * as Cluster from "./support/cluster.js"
import { exited, type Line, live, scalar, setup, startWith, type Started, until } from "./support/processes.js"
import * as Proxy from "./support/proxy.js"
import { hasDatabase } from "./utils.js"

const outageStarts = (worker: Started) => worker.lines().filter((line) => line.text.includes("the store does not answer"))
const outageEnds = (worker: Started) => worker.lines().filter((line) => line.text.includes("the store answers again"))
const said = (worker: Started, text: string) => worker.lines().filter((line) => line.text.includes(text))
const first = (lines: ReadonlyArray<Line>) => Math.min(...lines.map((line) => line.at))

/** A client on the private cluster, for the test process. */
const clientOn = (cluster: Cluster.Cluster) =>
  PgClient.layerConfig({ url: Config.succeed(Redacted.make(cluster.url)), ...PgStore.clientConfig })

/** A check that counts as false while the server is away. */
const tolerant = <E, R>(check: Effect.Effect<boolean, E, R>) => Effect.orElseSucceed(check, () => false)

describe.runIf(hasDatabase && Cluster.available())("PostgreSQL restarting under worker processes", () => {
  it.scopedLive(
    "a restart during a load, and a stop 10 s later: every run succeeds; each worker logs each outage once, its start and its end",
    () =>
      Effect.gen(function*() {
        const cluster = yield* Cluster.make
        yield* live(
          Effect.gen(function*() {
            const { schema, sql, store } = yield* setup
            const workers = yield* Effect.all(
              ["w1", "w2"].map((id) => startWith({ DATABASE_URL: cluster.url }, "worker", schema, id, "4", "10000")),
              { concurrency: "unbounded" }
            )
            const total = 300
            const now = Date.now()
            yield* store.enqueue(
              Array.from({ length: total }, () => ({ jobName: "nap", payload: { millis: 100 }, runAt: now, scheduledFor: now })),
              now
            )
            const succeeded = Effect.map(
              sql`select count(*) as n from ${sql(schema)}.runs where state = 'succeeded'`,
              scalar
            )
            const outage = Effect.gen(function*() {
              yield* cluster.stop
              yield* Effect.sleep("5 seconds")
              yield* cluster.start
            })
            const lines = (text: string) => workers.map((worker) => said(worker, text).length)

            yield* until("some progress", tolerant(Effect.map(succeeded, (n) => n >= 20)), "30 seconds")
            // a restart under load, the server away for 5 s: every worker makes calls meanwhile
            yield* outage
            yield* until("every run to succeed", tolerant(Effect.map(succeeded, (n) => n === total)), "60 seconds", "500 millis")
            yield* until("both workers to say the store answers again", Effect.sync(() => lines("answers again").every((n) => n >= 1)), "20 seconds")
            const ended = Date.now()
            expect(lines("answers again")).toEqual([1, 1])
            expect(lines("the store does not answer")).toEqual([1, 1])
            expect(lines("lost its connection")).toEqual([1, 1])
            yield* until("both workers to LISTEN again", Effect.sync(() => lines("is back after").every((n) => n >= 1)), "20 seconds")

            // idle workers now: their claims (the 2 s poll) and beats meet the next stop, 10 s after the last
            yield* Effect.sleep(Math.max(0, 10_000 - (Date.now() - ended)))
            yield* outage
            yield* until("both workers to say so again", Effect.sync(() => lines("answers again").every((n) => n >= 2)), "30 seconds")
            yield* until("both workers to LISTEN again", Effect.sync(() => lines("is back after").every((n) => n >= 2)), "30 seconds")
            for (const worker of workers) {
              expect(outageStarts(worker).length, worker.output()).toBe(2)
              expect(outageEnds(worker).length, worker.output()).toBe(2)
              expect(said(worker, "lost its connection").length, worker.output()).toBe(2)
              // one after the other: the second outage began after the first was over
              expect(outageStarts(worker)[1]!.at).toBeGreaterThan(outageEnds(worker)[0]!.at)
            }
            const lasted = workers.flatMap((worker) => outageEnds(worker).map((line) => line.text.replace(/^.*after ([^"]*)".*$/, "$1")))
            console.log(`restarts: ${total} runs succeeded; the workers' outages lasted ${lasted.join(", ")}`)
          }).pipe(Effect.provide(Logger.remove(Logger.defaultLogger))),
          clientOn(cluster)
        )
      }),
    180_000
  )
})

describe.runIf(hasDatabase)("a worker behind a network path that goes silent", () => {
  it.scopedLive(
    "it logs the lost path and its end; the other worker re-runs its runs, each succeeds once; SIGTERM during a freeze is bounded",
    () =>
      live(Effect.gen(function*() {
        const { schema, sql, store } = yield* setup
        const server = new URL(process.env.DATABASE_URL!)
        const proxy = yield* Proxy.make({ host: server.hostname, port: Number(server.port || 5432) })
        const lease = 9_000
        const statementTimeout = 1_500
        const shutdownGrace = 2_000
        const settings = {
          CLOCKWORK_STATEMENT_TIMEOUT: `${statementTimeout} millis`,
          CLOCKWORK_SHUTDOWN_GRACE: `${shutdownGrace} millis`
        }
        const frozen = yield* startWith(
          { ...settings, DATABASE_URL: proxy.via(server.toString()) },
          "worker",
          schema,
          "frozen",
          "4",
          String(lease)
        )
        const executions = (worker: string, runIds: ReadonlyArray<string>) =>
          Effect.map(
            sql`select count(distinct run_id) as n from ${sql(schema)}.executions
              where worker = ${worker} and run_id = any(${runIds})`,
            scalar
          )
        const slow = (n: number, seconds: number) => {
          const now = Date.now()
          return store.enqueue(
            Array.from({ length: n }, () => ({ jobName: "slow", payload: { seconds }, runAt: now, scheduledFor: now })),
            now
          )
        }

        // the frozen worker holds four runs of 6 s when its path goes silent
        const held = yield* slow(4, 6)
        yield* until("the frozen worker to start its runs", Effect.map(executions("frozen", held), (n) => n === 4), "30 seconds")
        yield* proxy.freeze
        const frozenAt = Date.now()
        // started now, so it cannot take the runs before the freeze; its reaper re-queues them once their leases expire
        const steady = yield* startWith(settings, "worker", schema, "steady", "4", String(lease))
        const lostPath = () => [...said(frozen, "the store does not answer"), ...said(frozen, "lost its connection")]
        yield* until("the frozen worker to notice", Effect.sync(() => lostPath().length > 0), "20 seconds", "50 millis")
        const noticed = first(lostPath()) - frozenAt
        console.log(`silent path: noticed after ${noticed} ms (lease ${lease} ms, statementTimeout ${statementTimeout} ms)`)
        // a third of the lease, and some room for a loaded machine
        expect(noticed).toBeLessThan(lease / 3 + 1_000)

        // its leases expire: the other worker re-runs the four runs
        yield* until("the steady worker to re-run them", Effect.map(executions("steady", held), (n) => n === 4), "60 seconds")
        console.log(`silent path: re-run on the other worker ${Date.now() - frozenAt} ms after the freeze`)
        yield* proxy.thaw
        const thawedAt = Date.now()
        yield* until("the frozen worker to say the store answers again", Effect.sync(() => outageEnds(frozen).length > 0), "30 seconds")
        console.log(`silent path: its end said ${first(outageEnds(frozen)) - thawedAt} ms after the thaw`)
        expect(outageStarts(frozen)).toHaveLength(1)
        expect(said(frozen, "is back after").length).toBeGreaterThanOrEqual(1)

        // SIGTERM while the path is silent: shutdown grace, then one bounded write, then exit
        const more = yield* slow(8, 20)
        yield* until("the frozen worker to start new runs", Effect.map(executions("frozen", more), (n) => n > 0), "30 seconds")
        yield* proxy.freeze
        const terminatedAt = Date.now()
        frozen.kill("SIGTERM")
        yield* exited(frozen).pipe(Effect.timeout("60 seconds"))
        const shutdown = Date.now() - terminatedAt
        console.log(
          `silent path: SIGTERM to exit ${shutdown} ms (shutdownGrace ${shutdownGrace} ms, statementTimeout ${statementTimeout} ms)`
        )
        expect(said(frozen, "whose outcome is not written").length, frozen.output()).toBe(1)
        // grace and write bound, and up to 1 s each to give up closing the LISTEN connection and the pool
        expect(shutdown).toBeLessThan(shutdownGrace + statementTimeout + 4_000)
        yield* proxy.thaw

        // fencing: the frozen worker's late outcomes are refused, never recorded beside the re-run's
        yield* until(
          "the re-runs to succeed",
          Effect.map(
            sql`select count(*) as n from ${sql(schema)}.runs where id = any(${held}) and state = 'succeeded'`,
            (rows) => scalar(rows) === 4
          ),
          "30 seconds"
        )
        yield* Effect.sleep("5 seconds")
        const succeeded = yield* sql<{ readonly run_id: string; readonly worker_id: string }>`
          select run_id::text, worker_id from ${sql(schema)}.run_history
          where run_id = any(${held}) and status = 'succeeded' order by run_id`
        expect(succeeded.map((row) => row.worker_id)).toEqual(["steady", "steady", "steady", "steady"])
        expect(steady.exitCode).toBeNull()
      })),
    180_000
  )
})
