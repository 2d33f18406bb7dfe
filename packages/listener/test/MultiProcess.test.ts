/**
 * One listener in two app processes on PostgreSQL: each batch is handled once;
 * when the process holding the listener is killed (kill -9), the other takes
 * it over from the stored params once the lease expires.
 */
import { PgStore } from "@clockwork/pg"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { type Duration, Effect, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { ListenerStore } from "../src/index.js"
import { createTables } from "./multiprocess/listener.js"
import { dropOnClose, freshSchema, hasDatabase, pgClient } from "./utils.js"

const script = fileURLToPath(new URL("./multiprocess/process.ts", import.meta.url))
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))

interface Started extends ChildProcess {
  readonly name: string
  readonly output: () => string
}

/** Starts an app process; resolves once it prints `ready`; SIGKILLs it when the scope closes. */
const start = (schema: string, name: string) =>
  Effect.acquireRelease(
    Effect.async<Started, Error>((resume) => {
      const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", script, schema, name], {
        cwd: repoRoot,
        env: process.env,
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      let stdout = ""
      child.stderr!.on("data", (chunk) => (stderr += String(chunk)))
      child.stdout!.on("data", (chunk) => {
        stdout += String(chunk)
        if (stdout.includes("ready\n")) resume(Effect.succeed(Object.assign(child, { name, output: () => stdout })))
      })
      child.once("exit", (code, signal) => resume(Effect.fail(new Error(`${name} exited (${code ?? signal}): ${stderr}`))))
      return Effect.sync(() => child.kill("SIGKILL"))
    }).pipe(Effect.timeout("60 seconds")),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGKILL")
      })
  )

/** Polls `check` until it holds, failing after `within`. */
const until = <E, R>(what: string, check: Effect.Effect<boolean, E, R>, within: Duration.DurationInput) =>
  Effect.gen(function*() {
    while (!(yield* check)) yield* Effect.sleep("100 millis")
  }).pipe(Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`timed out waiting for ${what}`) }))

const live = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient | Scope.Scope>) =>
  effect.pipe(Effect.scoped, Effect.provide(pgClient))

describe.runIf(hasDatabase)("a listener across processes on PostgreSQL", () => {
  it.scopedLive("each batch is handled once; kill -9 the holder and the other continues from the stored params", () =>
    live(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const schema = freshSchema()
      const batches = 12
      yield* dropOnClose(schema)
      yield* PgStore.migrate({ schema })
      yield* ListenerStore.makeSql({ schema })
      yield* createTables(schema, batches)
      const count = (query: Effect.Effect<ReadonlyArray<{ readonly n: number }>, unknown>) =>
        Effect.map(query, (rows) => Number(rows[0]?.n ?? 0))
      const handled = count(sql<{ readonly n: number }>`select count(*)::int as n from ${sql(`${schema}.handled`)}`)
      const owner = Effect.map(
        sql<{ readonly owner: string | null }>`select owner from ${sql(`${schema}.listener_state`)}`,
        (rows) => rows[0]?.owner ?? null
      )

      const processes = yield* Effect.all([start(schema, "alpha"), start(schema, "beta")], { concurrency: "unbounded" })
      yield* until("three batches", Effect.map(handled, (n) => n >= 3), "60 seconds")

      // kill the holder right after it stored a batch's params: between two of its ticks
      const holderName = yield* owner
      const holder = processes.find((p) => p.name === holderName)!
      const survivor = processes.find((p) => p.name !== holderName)!
      const stored = () => holder.output().split("\n").filter((line) => line.startsWith("stored")).length
      const before = stored()
      yield* until("the holder to store one more batch", Effect.sync(() => stored() > before), "30 seconds")
      holder.kill("SIGKILL")
      const killedAt = Date.now()
      const storedByHolder = stored()

      yield* until("the survivor to take the listener over", Effect.map(owner, (o) => o === survivor.name), "30 seconds")
      const takeover = Date.now() - killedAt
      yield* until("every batch", Effect.map(handled, (n) => n >= batches), "90 seconds")
      yield* Effect.sleep("1 second") // a batch handled twice would show up by now

      const rows = yield* sql<{ readonly batch_id: number; readonly n: number; readonly reviews: number }>`
        select batch_id, count(*)::int as n, min(reviews) as reviews from ${sql(`${schema}.handled`)}
        group by batch_id order by batch_id`
      expect(rows.map((row) => [row.batch_id, row.n, row.reviews])).toEqual(
        Array.from({ length: batches }, (_, batch) => [batch, 1, 3])
      )
      // the survivor went on from the params the holder stored last
      const survivorLines = survivor.output().split("\n").filter((line) => line.startsWith("stored"))
      expect(survivorLines[0]).toBe(`stored batch ${storedByHolder} -> ${storedByHolder + 1}`)
      expect(storedByHolder + survivorLines.length).toBe(batches)
      const [state] = yield* sql<{ readonly params: unknown; readonly succeeded: number }>`
        select params, succeeded::int as succeeded from ${sql(`${schema}.listener_state`)}`
      expect(state?.params).toEqual({ batch_id: batches })
      expect(state?.succeeded).toBe(batches)
      const runs = yield* count(sql<{ readonly n: number }>`select count(*)::int as n from ${sql(`${schema}.run_history`)}
        where job_name = 'uber-reviews' and status = 'succeeded'`)
      expect(runs).toBe(batches)
      console.log(
        `listener takeover after kill -9: ${takeover} ms (lease 2 s); the holder stored ${storedByHolder} batches, ` +
          `the survivor ${survivorLines.length}`
      )
    })), 180_000)
})
