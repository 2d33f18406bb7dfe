/**
 * A listener on the embedded store (PGlite in a data directory): its params
 * survive a restart of the app, and each batch is handled once across both
 * sessions. Real clock and real I/O: the test waits on conditions.
 */
import { Clockwork, Scheduler } from "@clockwork/core"
import { PgliteClient, PgliteStore } from "@clockwork/pg"
import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { Effect, Layer, Schedule, Schema } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { Listener, ListenerStore, SqlSource } from "../src/index.js"

const Review = Schema.Struct({ id: Schema.Number, batch_id: Schema.Number })

const handled: Array<number> = []

const uberReviews = Listener.make({
  name: "uber-reviews",
  source: SqlSource.make({ table: "app.reviews", records: Review, orderBy: "id" }),
  params: Schema.Struct({ batch_id: Schema.Int }),
  initialParams: { batch_id: 0 },
  query: ({ batch_id }) => ({ batch_id }),
  every: "50 millis",
  run: (records, ctx) =>
    Effect.sync(() => {
      handled.push(ctx.params.batch_id)
      expect(records.every((review) => review.batch_id === ctx.params.batch_id)).toBe(true)
      return { batch_id: ctx.params.batch_id + 1 }
    })
})

/** The app on PGlite in `dataDir`: the job store, the listener store and the reviews in one database. */
const app = (dataDir: string) =>
  Listener.layer([uberReviews], { lease: "2 seconds" }).pipe(
    Layer.provideMerge(Clockwork.layer([uberReviews.job], { runner: { shutdownGrace: "2 seconds" } })),
    Layer.provideMerge(Layer.mergeAll(PgliteStore.layerClient(), ListenerStore.layerSql())),
    Layer.provideMerge(PgliteClient.layer({ dataDir }))
  )

const waitFor = <E, R>(what: string, check: Effect.Effect<boolean, E, R>) =>
  Effect.repeat(check, { until: (done) => done, schedule: Schedule.spaced("25 millis") }).pipe(
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error(`timed out waiting for ${what}`) })
  )

it.live("batch_id increments across ticks and survives a restart of the app on PGlite", () =>
  Effect.gen(function*() {
    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "clockwork-listener-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dataDir, { recursive: true, force: true })))

    // session 1: three batches of reviews
    const first = yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`create schema app`
      yield* sql`create table app.reviews (id integer primary key, batch_id integer not null)`
      for (let id = 0; id < 9; id++) yield* sql`insert into app.reviews values (${id}, ${Math.floor(id / 3)})`
      yield* waitFor("three batches", Effect.map(Listener.params(uberReviews), (p) => p.batch_id === 3))
      return yield* Listener.params(uberReviews)
    }).pipe(Effect.scoped, Effect.provide(app(dataDir)))

    // session 2: the same directory, three more batches; it goes on from the stored params
    const handledBefore = handled.length
    yield* Effect.gen(function*() {
      expect(yield* Listener.params(uberReviews)).toEqual({ batch_id: 3 })
      const sql = yield* SqlClient.SqlClient
      for (let id = 9; id < 18; id++) yield* sql`insert into app.reviews values (${id}, ${Math.floor(id / 3)})`
      yield* waitFor("all six batches", Effect.map(Listener.params(uberReviews), (p) => p.batch_id === 6))
      const runs = yield* Scheduler.history({ jobName: "uber-reviews", status: "succeeded" })
      expect(runs.map((run) => run.result).reverse()).toEqual([1, 2, 3, 4, 5, 6].map((batch_id) => ({ batch_id })))
      const status = yield* Listener.status(uberReviews)
      expect(status.succeeded).toBe(6)
      expect(status.state).toBe("running")
    }).pipe(Effect.scoped, Effect.provide(app(dataDir)))

    expect(first).toEqual({ batch_id: 3 })
    expect(handledBefore).toBe(3)
    expect(handled).toEqual([0, 1, 2, 3, 4, 5])
  }).pipe(Effect.scoped), 90_000)
