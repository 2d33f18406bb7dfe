/**
 * EXPLAIN (ANALYZE, BUFFERS) of the two statements a drain repeats: clockwork's
 * claim and its completion, captured from the store's own calls (a statement
 * transformer records the SQL and parameters), then run again with those
 * parameters in a transaction that is rolled back. Both are calls of
 * server-side functions (claim_runs_v2, complete_runs_v2), so the plans shown are
 * those of the statements inside, as `auto_explain` logs them (loaded for the
 * transaction; its log lines reach the client as notices). Once over a full queue,
 * once halfway through draining it, and again after an ANALYZE of the runs
 * table (a table filled in bulk has no statistics until autovacuum comes by).
 *
 *   node --import tsx --conditions=source src/explain.ts [runs] [batch]
 */
import { JobStore } from "@clockwork/core"
import { PgStore } from "@clockwork/pg"
import * as Statement from "@effect/sql/Statement"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import * as Db from "./db.js"

const runs = Number(process.argv[2] ?? 100_000)
const batch = Number(process.argv[3] ?? 500)
const url = process.env["DATABASE_URL"] ?? Db.defaultUrl
const schema = "bench_explain"

interface Captured {
  readonly sql: string
  readonly params: ReadonlyArray<unknown>
}

// capture: remember the next statement; abort: remember it and do not run it
let mode: "off" | "capture" | "abort" = "off"
let captured: Captured | undefined

const transformer = Statement.setTransformer((statement, _sql, _refs, _span) => {
  if (mode === "off") return Effect.succeed(statement)
  const [sql, params] = statement.compile()
  // the store's other statements meanwhile (the background ANALYZE after a bulk enqueue) pass
  if (!/_runs_v\d+"?\(/.test(sql)) return Effect.succeed(statement)
  captured = { sql, params }
  const abort = mode === "abort"
  mode = "off"
  return abort ? Effect.dieMessage("captured, not run") : Effect.succeed(statement)
})

const explain = async (admin: Db.Admin, title: string, statement: Captured, before?: Captured) => {
  const client = await admin.connect()
  try {
    await client.query("begin")
    if (before !== undefined) await client.query(before.sql, [...before.params])
    // once without logging, undone: the function is compiled on a connection's first call, and a
    // running worker's connections have theirs already
    await client.query("savepoint warm")
    await client.query(statement.sql, [...statement.params])
    await client.query("rollback to savepoint warm")
    await client.query("load 'auto_explain'")
    for (
      const setting of [
        "auto_explain.log_min_duration = 0",
        "auto_explain.log_analyze = on",
        "auto_explain.log_buffers = on",
        "auto_explain.log_nested_statements = on",
        "client_min_messages = log"
      ]
    ) await client.query(`set local ${setting}`)
    const plans: Array<string> = []
    const onNotice = (notice: { readonly message?: string | undefined }) => {
      // the statement inside the function; the call itself (a Function Scan of the function) is left out
      const message = notice.message ?? ""
      if (message.includes("Query Text:") && !/Query Text: select (\* |ord, requeued )from/.test(message)) {
        plans.push(message)
      }
    }
    client.on("notice", onNotice)
    try {
      await client.query(statement.sql, [...statement.params])
    } finally {
      client.off("notice", onNotice)
    }
    console.log(`\n=== ${title}\n${plans.join("\n")}`)
  } finally {
    await client.query("rollback")
    client.release()
  }
}

const program = Effect.gen(function*() {
  const store = yield* JobStore.JobStore
  const admin = Db.connect(url)
  const now = Date.now()
  for (let from = 0; from < runs; from += 20_000) {
    const count = Math.min(20_000, runs - from)
    yield* store.enqueue(
      Array.from({ length: count }, (_, k) => ({
        jobName: "noop",
        payload: { i: from + k },
        runAt: now,
        scheduledFor: now
      })),
      now
    )
  }
  const request = { now: Date.now(), limit: batch, workerId: "explain", leaseMs: 300_000 }
  const outcomesOf = (claimed: ReadonlyArray<JobStore.ClaimedRun>) =>
    claimed.map((c): JobStore.RunOutcome => ({
      runId: c.id,
      jobName: c.jobName,
      scheduleId: c.scheduleId,
      attempt: c.attempt,
      scheduledFor: c.scheduledFor,
      startedAt: request.now,
      finishedAt: request.now + 1,
      workerId: "explain",
      status: "succeeded",
      result: null
    }))

  const round = (label: string) =>
    Effect.gen(function*() {
      mode = "capture"
      const claimed = (yield* store.claim(request)).runs
      const claim = captured!
      mode = "abort"
      yield* Effect.exit(store.complete(outcomesOf(claimed)))
      const complete = captured!
      yield* Effect.promise(() => explain(admin, `claim of ${batch}, ${label}`, claim))
      yield* Effect.promise(() => explain(admin, `complete of ${batch}, ${label}`, complete))
      yield* store.complete(outcomesOf(claimed))
    })

  yield* round(`${runs} queued`)
  for (let done = batch; done < runs / 2; done += batch) {
    yield* Effect.flatMap(store.claim(request), (claimed) => store.complete(outcomesOf(claimed.runs)))
  }
  yield* round(`halfway: ${runs / 2} finished, ${runs / 2} queued`)
  yield* Effect.promise(() => admin.query(`analyze ${schema}.runs`))
  yield* round(`halfway, after ANALYZE of runs`)
  yield* Effect.promise(() => Db.dropSchema(admin, schema).then(() => admin.end()))
})

const main = async () => {
  const admin = Db.connect(url)
  await Db.dropSchema(admin, schema)
  await admin.end()
  await Effect.runPromise(
    program.pipe(
      Effect.provide(PgStore.layer({ schema }).pipe(
        Layer.provide(PgClient.layer({ url: Redacted.make(url) })),
        Layer.provide(transformer)
      ))
    )
  )
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
