import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { makeCompiler } from "@effect/sql-pg/PgClient"
import { PGlite } from "@electric-sql/pglite"
import { Effect, Stream, type Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { Options, PgliteClient } from "../PgliteClient.js"
import * as Slots from "./slots.js"

export const TypeId: unique symbol = Symbol.for("@clockwork/pg/PgliteClient")

type TransformRows = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const failed = (message: string) => (cause: unknown) => new SqlError({ cause, message })

/**
 * PGlite is one PostgreSQL session, and the session lock stands for it: a
 * statement holds it while it runs, a transaction from BEGIN to COMMIT or
 * ROLLBACK (`SqlClient.make` acquires the transaction's connection once, in a
 * scope closed after the commit), so no other fiber's statement can land
 * inside someone else's transaction. Statements inside a transaction use the
 * transaction's connection and do not take the lock; nested transactions are
 * savepoints on it.
 */
export const make = (options: Options): Effect.Effect<PgliteClient, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const dataDir = options.dataDir === undefined ? undefined : Path.resolve(options.dataDir)
    if (dataDir !== undefined) yield* lockDataDir(dataDir)
    const session = yield* makeSessionLock
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => PGlite.create(dataDir === undefined ? {} : { dataDir }),
        catch: failed(
          dataDir === undefined ? "PgliteClient: could not start PGlite" : `PgliteClient: could not open PGlite at ${dataDir}`
        )
      }),
      // after the statement or transaction in progress
      (db) =>
        Effect.scoped(Effect.zipRight(
          session.hold,
          Effect.tryPromise(() => db.close()).pipe(
            Effect.catchAll((error) => Effect.logWarning("PgliteClient: closing PGlite failed", error))
          )
        ))
    )

    // uninterruptible: PGlite cannot cancel a statement, and the lock must not be handed on while one runs
    const run = <A>(query: () => Promise<A>) =>
      Effect.uninterruptible(Effect.tryPromise({ try: query, catch: failed("Failed to execute statement") }))
    const rows = (sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) =>
      Effect.map(run(() => db.query<object>(sql, params as Array<unknown>)), (result) =>
        transformRows === undefined ? result.rows : transformRows(result.rows))

    const connection: Connection = {
      execute: rows,
      executeRaw: (sql, params) => run(() => db.query(sql, params as Array<unknown>)),
      executeValues: (sql, params) =>
        Effect.map(
          run(() => db.query<Array<unknown>>(sql, params as Array<unknown>, { rowMode: "array" })),
          (result) => result.rows
        ),
      // without parameters, as the simple protocol: several statements in one string, as with pg
      executeUnprepared: (sql, params, transformRows) =>
        params.length > 0 ? rows(sql, params, transformRows) : Effect.map(run(() => db.exec(sql)), (results) => {
          const all = results.map((result) =>
            transformRows === undefined ? result.rows : transformRows(result.rows as Array<object>)
          )
          return all.length === 1 ? all[0]! : all
        }),
      executeStream: (sql, params, transformRows) =>
        Stream.flatMap(Stream.fromEffect(rows(sql, params, transformRows)), Stream.fromIterable)
    }
    const acquirer = Effect.as(session.hold, connection)

    const client = yield* SqlClient.make({
      acquirer,
      transactionAcquirer: acquirer,
      compiler: makeCompiler(),
      spanAttributes: [
        ...(options.spanAttributes === undefined ? [] : Object.entries(options.spanAttributes)),
        ["db.system.name", "postgresql"],
        ["db.namespace", dataDir ?? "memory"]
      ]
    })

    // LISTEN and UNLISTEN are per session: count the listeners of each channel, so the last one
    // to leave is the one that stops listening
    const listeners = new Map<string, number>()
    const listenLock = yield* Effect.makeSemaphore(1)
    const quoted = (channel: string) => `"${channel.replaceAll("\"", "\"\"")}"`
    const join = (channel: string) =>
      listenLock.withPermits(1)(Effect.suspend(() => {
        const count = listeners.get(channel) ?? 0
        return (count === 0 ? Effect.asVoid(client.unsafe(`LISTEN ${quoted(channel)}`)) : Effect.void).pipe(
          Effect.tap(() => listeners.set(channel, count + 1))
        )
      }))
    const leave = (channel: string) =>
      listenLock.withPermits(1)(Effect.suspend(() => {
        const count = (listeners.get(channel) ?? 1) - 1
        if (count > 0) return Effect.sync(() => listeners.set(channel, count))
        listeners.delete(channel)
        return Effect.ignore(client.unsafe(`UNLISTEN ${quoted(channel)}`))
      }))

    const listen = (channel: string): Stream.Stream<string, SqlError> =>
      Stream.asyncPush<string, SqlError>((emit) =>
        Effect.gen(function*() {
          const stop = db.onNotification((from, payload) => {
            if (from === channel) emit.single(payload)
          })
          yield* Effect.addFinalizer(() => Effect.sync(stop))
          yield* Effect.acquireRelease(join(channel), () => leave(channel))
        })
      )

    return Object.assign(client, { [TypeId]: TypeId, dataDir, listen }) as PgliteClient
  })

/**
 * The one session, first come, first served (`Slots` of one): a fiber
 * running statement after statement does not keep the others waiting.
 * `hold` has it for the scope's lifetime; waiting for it can be interrupted.
 */
const makeSessionLock = Effect.sync(() => {
  const session = Slots.make(1)
  const hold: Effect.Effect<void, never, Scope.Scope> = session.take(Effect.addFinalizer(() => session.release))
  return { hold }
})

/**
 * PGlite does not stop a second process (or a second instance in this one)
 * from opening the same directory, and two would corrupt it. A lock file holds
 * the owner's pid; one left by a process that is gone is taken over.
 */
const lockDataDir = (dataDir: string): Effect.Effect<void, SqlError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        Fs.mkdirSync(dataDir, { recursive: true })
        const lock = Path.join(dataDir, "clockwork.lock")
        for (;;) {
          try {
            Fs.writeFileSync(lock, String(process.pid), { flag: "wx" })
            return lock
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
          }
          const owner = Number(Fs.readFileSync(lock, "utf8"))
          if (isRunning(owner)) {
            throw new Error(
              `${dataDir} is in use by ${owner === process.pid ? "this process" : `process ${owner}`}`
            )
          }
          Fs.rmSync(lock, { force: true })
        }
      },
      catch: failed(`PgliteClient: could not lock ${dataDir}`)
    }),
    (lock) => Effect.sync(() => Fs.rmSync(lock, { force: true }))
  )

const isRunning = (pid: number): boolean => {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}
