/**
 * The multi-node example as it runs: the launcher (src/multinode/main.ts)
 * starts a scheduler and two workers as real processes on a fresh schema of
 * the PostgreSQL at DATABASE_URL; the test reads the store once it is done.
 */
import { PgStore } from "@clockwork/pg"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Config, DateTime, Deferred, Effect, Exit } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { purgeSessionsScheduleId } from "../src/multinode/jobs.js"

const hasDatabase = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ""

const burstSize = 8

const launcher = fileURLToPath(new URL("../src/multinode/main.ts", import.meta.url))
const examplesDir = fileURLToPath(new URL("..", import.meta.url))

/**
 * Runs the launcher for `seconds` on `schema`; returns its exit code and output.
 * It leads its own process group, so a test that fails half-way kills it and
 * its children together.
 */
const launch = (schema: string, seconds: number) =>
  Effect.gen(function*() {
    const exited = yield* Deferred.make<{ readonly code: number | null; readonly output: string }>()
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        let output = ""
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "--conditions=source", launcher, "--seconds", String(seconds)],
          {
            cwd: examplesDir,
            env: { ...process.env, CLOCKWORK_SCHEMA: schema, BURST_SIZE: String(burstSize), BURST_INTERVAL: "3 seconds" },
            detached: true,
            stdio: "pipe"
          }
        )
        child.stdout.on("data", (chunk) => (output += String(chunk)))
        child.stderr.on("data", (chunk) => (output += String(chunk)))
        child.once("exit", (code) => Deferred.unsafeDone(exited, Exit.succeed({ code, output })))
        return child
      }),
      (child) =>
        Effect.sync(() => {
          if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL")
        })
    )
    return yield* Deferred.await(exited).pipe(
      Effect.timeoutFail({
        duration: `${seconds + 90} seconds`,
        onTimeout: () => new Error(`the launcher (pid ${child.pid}) did not finish`)
      })
    )
  })

const countBy = <A>(items: ReadonlyArray<A>, key: (a: A) => string) => {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return counts
}

describe.runIf(hasDatabase)("the multi-node example", () => {
  it.scopedLive("one scheduler and two workers run every job once, and every cron tick once", () =>
    Effect.gen(function*() {
      const schema = `cw_multinode_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
      const sql = yield* PgClient.PgClient
      yield* Effect.addFinalizer(() => Effect.orDie(sql`drop schema if exists ${sql(schema)} cascade`))

      const { code, output } = yield* launch(schema, 12)
      expect(code, output).toBe(0)
      expect(output).toContain("each fired once")

      const store = yield* PgStore.make({ schema, migrate: false })
      const runs = yield* store.listRuns({ limit: 100_000 })
      const history = yield* store.history({ limit: 100_000 })

      // every enqueued run ran once and succeeded; nothing is left queued or running
      expect(runs.length).toBeGreaterThan(0)
      expect(runs.filter((run) => run.state !== "succeeded")).toEqual([])
      expect(history.filter((record) => record.status !== "succeeded" || record.attempt !== 1)).toEqual([])
      const attempts = countBy(history, (record) => record.runId)
      expect([...attempts].filter(([, n]) => n > 1)).toEqual([])
      expect(new Set(attempts.keys())).toEqual(new Set(runs.map((run) => run.id)))

      // whole bursts, each payload once: burst n enqueues photo-n-1..8.jpg and orders n01..n04
      const payloads = (job: string) => runs.filter((run) => run.jobName === job).map((run) => run.payload)
      const images = payloads("resize-image") as ReadonlyArray<{ readonly image: string }>
      const bursts = Math.ceil(images.length / burstSize)
      expect(bursts).toBeGreaterThanOrEqual(2)
      const each = (f: (burst: number, i: number) => unknown, perBurst: number) =>
        Array.from({ length: bursts * perBurst }, (_, k) => f(Math.floor(k / perBurst) + 1, (k % perBurst) + 1))
      expect(images.map(({ image }) => image).sort()).toEqual(each((n, i) => `photo-${n}-${i}.jpg`, burstSize).sort())
      const orders = payloads("send-receipt") as ReadonlyArray<{ readonly order: number }>
      expect(orders.map(({ order }) => order).sort()).toEqual(each((n, i) => n * 100 + i, burstSize / 2).sort())

      // both workers ran some, and only they ran anything
      const byWorker = countBy(history, (record) => record.workerId ?? "none")
      expect([...byWorker.keys()].sort()).toEqual(["worker-1", "worker-2"])

      // the cron job: one run per tick, ticks 5 seconds apart with none missed (12 s hold at least two)
      const ticks = runs
        .filter((run) => run.scheduleId === purgeSessionsScheduleId)
        .map((run) => DateTime.toEpochMillis(run.scheduledFor))
        .sort((a, b) => a - b)
      expect(ticks.length).toBeGreaterThanOrEqual(2)
      expect(new Set(ticks).size).toBe(ticks.length)
      expect(ticks.slice(1).map((tick, i) => tick - ticks[i]!)).toEqual(ticks.slice(1).map(() => 5000))
    }).pipe(
      // the test's scope (the launcher, the schema) closes while the client is still up
      Effect.scoped,
      Effect.provide(PgClient.layerConfig({ url: Config.redacted("DATABASE_URL"), ...PgStore.clientConfig }))
    ), 180_000)
})
