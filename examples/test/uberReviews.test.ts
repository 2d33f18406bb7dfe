/**
 * The uber-reviews listener on PGlite (in memory), the real clock: one batch
 * per tick, reviews marked updated, the positive count recorded with each run,
 * and a batch added later picked up from the stored batch id.
 */
import { Clockwork, Scheduler } from "@clockwork/core"
import { Listener, ListenerStore } from "@clockwork/listener"
import { PgliteClient, PgliteStore } from "@clockwork/pg"
import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { addReviewBatches, createReviews, makeUberReviews, reviewsTable } from "../src/listeners/uberReviews.js"

const uberReviews = makeUberReviews("100 millis")

const App = Listener.layer([uberReviews]).pipe(
  Layer.provideMerge(Clockwork.layer([uberReviews.job], { runner: { shutdownGrace: 0 } })),
  Layer.provideMerge(Layer.mergeAll(PgliteStore.layerClient(), ListenerStore.layerSql())),
  Layer.provideMerge(PgliteClient.layer())
)

const batchReached = (batch_id: number) =>
  Effect.repeat(Listener.params(uberReviews), {
    until: (params) => params.batch_id === batch_id,
    schedule: Schedule.spaced("50 millis")
  }).pipe(Effect.timeout("30 seconds"))

it.live("uber-reviews handles one batch per tick and goes on from the stored batch id", () =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* createReviews
    expect(yield* addReviewBatches(3, 4)).toEqual([0, 1, 2])
    yield* batchReached(3)

    const runs = (yield* Scheduler.history({ jobName: "uber-reviews", status: "succeeded" })).slice().reverse()
    expect(runs.map((run) => run.result)).toEqual([{ batch_id: 1 }, { batch_id: 2 }, { batch_id: 3 }])
    // 12 reviews over 6 samples, of which 3 are positive: 2, 2, 2
    expect(runs.map((run) => run.metrics)).toEqual([
      { total: 4, records: 4, positive: 2 },
      { total: 4, records: 4, positive: 2 },
      { total: 4, records: 4, positive: 2 }
    ])
    const [updated] = yield* sql<{ readonly n: number }>`
      select count(*)::int as n from ${sql(reviewsTable)} where (metadata->>'updated')::boolean`
    expect(updated?.n).toBe(12)

    // ticks that find no new batch are counted, not runs: wait for one before the next batch comes
    yield* Effect.repeat(Listener.status(uberReviews), {
      until: (status) => status.skipped > 0,
      schedule: Schedule.spaced("50 millis")
    }).pipe(Effect.timeout("30 seconds"))
    expect(yield* addReviewBatches(1, 2)).toEqual([3])
    yield* batchReached(4)
    const status = yield* Listener.status(uberReviews)
    expect(status.succeeded).toBe(4)
    expect(status.skipped).toBeGreaterThan(0)
    expect(yield* Scheduler.history({ jobName: "uber-reviews" })).toHaveLength(4)
  }).pipe(Effect.scoped, Effect.provide(App)), 60_000)
