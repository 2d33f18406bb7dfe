import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Queue, Stream } from "effect"
import { PgliteClient } from "../src/index.js"
import { freshSchema, sharedPgliteClient, useSharedPglite } from "./utils.js"

useSharedPglite()

/** A fresh table `<schema>.notes (body text)` on the shared PGlite, dropped at the end. */
const freshTable = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const schema = freshSchema()
  yield* Effect.acquireRelease(
    sql`create schema ${sql(schema)}`,
    () => Effect.orDie(sql`drop schema ${sql(schema)} cascade`)
  )
  const notes = sql(`${schema}.notes`)
  yield* sql`create table ${notes} (body text not null)`
  const bodies = Effect.map(sql<{ body: string }>`select body from ${notes} order by body`, (rows) =>
    rows.map((row) => row.body))
  const insert = (body: string) => sql`insert into ${notes} (body) values (${body})`
  return { sql, schema, bodies, insert }
})

describe("PgliteClient", () => {
  it.layer(sharedPgliteClient)((it) => {
    it.scoped("withTransaction commits on success and rolls back on failure", () =>
      Effect.gen(function*() {
        const { bodies, insert, sql } = yield* freshTable
        yield* sql.withTransaction(Effect.zipRight(insert("kept"), insert("kept too")))
        const failure = yield* sql.withTransaction(Effect.zipRight(insert("rolled back"), Effect.fail("rejected"))).pipe(
          Effect.flip
        )
        expect(failure).toBe("rejected")
        expect(yield* bodies).toEqual(["kept", "kept too"])
      }))

    it.scoped("a nested transaction is a savepoint: its failure undoes only its own writes", () =>
      Effect.gen(function*() {
        const { bodies, insert, sql } = yield* freshTable
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* insert("outer")
          yield* Effect.ignore(sql.withTransaction(Effect.zipRight(insert("inner"), Effect.fail("inner failed"))))
          yield* sql.withTransaction(insert("inner, committed"))
        }))
        expect(yield* bodies).toEqual(["inner, committed", "outer"])
      }))

    it.scoped("another fiber's statement waits for a transaction instead of running inside it", () =>
      Effect.gen(function*() {
        const { bodies, insert, sql } = yield* freshTable
        const inside = yield* Deferred.make<void>()
        const proceed = yield* Deferred.make<void>()
        const transaction = yield* sql.withTransaction(Effect.gen(function*() {
          yield* insert("from the transaction")
          yield* Deferred.succeed(inside, undefined)
          yield* Deferred.await(proceed)
          // the other fiber's insert has been issued by now, yet it is not in this transaction
          const seen = yield* bodies
          yield* Effect.fail({ seen })
        })).pipe(Effect.flip, Effect.fork)

        yield* Deferred.await(inside)
        // were it to reach PGlite now, the insert would run in the open transaction and be rolled back with it
        const other = yield* Effect.fork(insert("from another fiber"))
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
        yield* Deferred.succeed(proceed, undefined)

        expect(yield* Fiber.join(transaction)).toEqual({ seen: ["from the transaction"] })
        yield* Fiber.join(other)
        expect(yield* bodies).toEqual(["from another fiber"])
      }))

    it.scoped("concurrent transactions each commit or roll back whole", () =>
      Effect.gen(function*() {
        const { bodies, insert, sql } = yield* freshTable
        const results = yield* Effect.all(
          Array.from({ length: 20 }, (_, n) =>
            sql.withTransaction(Effect.gen(function*() {
              yield* insert(`${String(n).padStart(2, "0")}a`)
              yield* Effect.yieldNow()
              yield* insert(`${String(n).padStart(2, "0")}b`)
              if (n % 2 === 1) yield* Effect.fail(n)
            })).pipe(Effect.either)),
          { concurrency: "unbounded" }
        )
        expect(results.filter((r) => r._tag === "Left")).toHaveLength(10)
        const even = Array.from({ length: 10 }, (_, n) => String(n * 2).padStart(2, "0"))
        expect(yield* bodies).toEqual(even.flatMap((n) => [`${n}a`, `${n}b`]))
      }))

    it.scoped("a fiber running statement after statement does not keep another waiting", () =>
      Effect.gen(function*() {
        const { bodies, insert, sql } = yield* freshTable
        let done = false
        const busy = yield* Effect.fork(Effect.whileLoop({ while: () => !done, body: () => sql`select 1`, step: () => {} }))
        yield* Effect.yieldNow()
        // the session passes to the longest waiter; were the busy fiber to take it straight back, this would wait forever
        yield* insert("got in")
        done = true
        yield* Fiber.join(busy)
        expect(yield* bodies).toEqual(["got in"])
      }))

    it.scoped("a statement interrupted as the session is handed to it passes the session on", () =>
      Effect.gen(function*() {
        const { bodies, insert, sql } = yield* freshTable
        const proceed = yield* Deferred.make<void>()
        let waiter: Fiber.RuntimeFiber<unknown, unknown> | undefined
        // the session is handed to the statement waiting for it as the transaction ends, and the transaction's
        // fiber goes straight on to interrupt that statement: its fiber hears of both before it runs again
        const transaction = yield* Effect.fork(Effect.zipRight(
          sql.withTransaction(Effect.zipRight(insert("committed"), Deferred.await(proceed))),
          Effect.sync(() => waiter!.unsafeInterruptAsFork(waiter!.id()))
        ))
        yield* Effect.yieldNow()
        waiter = yield* Effect.fork(insert("interrupted"))
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
        yield* Deferred.succeed(proceed, undefined)
        yield* Fiber.join(transaction)
        expect(Exit.isInterrupted(yield* Fiber.await(waiter))).toBe(true)
        // the session is free: a lost one would keep this statement waiting for good
        yield* insert("next").pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "the session was lost" }))
        expect(yield* bodies).toEqual(["committed", "next"])
      }))

    it.scoped("rows are objects with PostgreSQL's values as JavaScript values", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [row] = yield* sql<Record<string, unknown>>`
          select 7::int as n, (extract(epoch from ${new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 5))}::timestamptz) * 1000)::int8 as ms,
            ${["a", "b\"c", null]}::text[] as list, '{}'::text[] as empty, ${"{\"k\": [1]}"}::jsonb::text as json,
            true as yes, null::text as nothing`
        expect(row).toEqual({
          n: 7,
          ms: Date.UTC(2026, 0, 1, 0, 0, 0, 5),
          list: ["a", "b\"c", null],
          empty: [],
          json: "{\"k\": [1]}",
          yes: true,
          nothing: null
        })
        expect(yield* sql`select 1 as a, 2 as b`.values).toEqual([[1, 2]])
        expect(yield* sql`select 1 as a; select 2 as b`.unprepared).toEqual([[{ a: 1 }], [{ b: 2 }]])
      }))

    it.scoped("a failing statement fails with SqlError and leaves the session usable", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const error = yield* Effect.flip(sql`select * from no_such_table`)
        expect(error._tag).toBe("SqlError")
        expect(String((error.cause as Error).message)).toContain("does not exist")
        expect(yield* sql`select 1 as one`).toEqual([{ one: 1 }])
      }))

    it.scoped("listen hears NOTIFYs of this session at commit, never a rolled-back one", () =>
      Effect.gen(function*() {
        const client = yield* PgliteClient.PgliteClient
        const sql = yield* SqlClient.SqlClient
        const channel = `test:${freshSchema()}`
        const first = yield* Queue.unbounded<string>()
        const second = yield* Queue.unbounded<string>()
        const listening = (queue: Queue.Queue<string>) =>
          Effect.forkScoped(Stream.runForEach(client.listen(channel), (payload) => Queue.offer(queue, payload)))
        const firstListener = yield* listening(first)
        yield* listening(second)
        // both have joined once a NOTIFY reaches them
        yield* Effect.repeat(sql`select pg_notify(${channel}, 'ready')`, {
          until: () => Effect.map(Effect.all([Queue.size(first), Queue.size(second)]), ([a, b]) => a > 0 && b > 0)
        })
        yield* Queue.takeAll(first)
        yield* Queue.takeAll(second)

        yield* Effect.ignore(sql.withTransaction(
          Effect.zipRight(sql`select pg_notify(${channel}, 'rolled back')`, Effect.fail("no"))
        ))
        yield* sql.withTransaction(sql`select pg_notify(${channel}, 'committed')`)
        expect(yield* Queue.take(first)).toBe("committed")
        expect(yield* Queue.take(second)).toBe("committed")

        // the first listener leaving does not stop the session listening for the second
        yield* Fiber.interrupt(firstListener)
        yield* sql`select pg_notify(${channel}, 'still heard')`
        expect(yield* Queue.take(second)).toBe("still heard")
        expect(yield* Queue.size(first)).toBe(0)
      }))
  })
})
