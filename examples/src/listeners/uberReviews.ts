/**
 * The seed's "uber-reviews" listener (Argilla's `@listener(dataset="uber-reviews",
 * query="metadata.batch_id:{batch_id}", batch_id=0)` whose handler does
 * `ctx.query_params["batch_id"] += 1`): a `reviews` table whose rows carry a
 * `metadata.batch_id`, one batch handled per tick. The handler marks its
 * reviews updated (the seed's `rec.metadata = {"updated": True}`) and returns
 * the next batch id, which is stored: a restart goes on with the next batch.
 * The count of positive reviews is the tick's metric (the seed's `metrics`).
 */
import { Listener, SqlSource } from "@clockwork/listener"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"

export const Review = Schema.Struct({
  id: Schema.Number,
  text: Schema.String,
  metadata: Schema.Struct({ batch_id: Schema.Number, updated: Schema.optional(Schema.Boolean) })
})
export type Review = typeof Review.Type

export const reviewsTable = "demo.reviews"

/** Creates the reviews table if missing. */
export const createReviews = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`create schema if not exists demo`
  yield* sql`create table if not exists ${sql(reviewsTable)} (
    id serial primary key,
    text text not null,
    metadata jsonb not null
  )`
})

const samples = [
  "the driver was friendly and the car was clean",
  "late pickup, rude driver",
  "great ride, fast and safe",
  "app charged me twice",
  "love the new airport pickup spots",
  "the car smelled of smoke"
]

/**
 * Appends `batches` batches of `size` reviews after the last batch: the app
 * that collects reviews, in the demo. Returns the new batch ids.
 */
export const addReviewBatches = (batches: number, size: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [last] = yield* sql<{ readonly batch: number | null }>`
      select max((metadata->>'batch_id')::int) as batch from ${sql(reviewsTable)}`
    const first = (last?.batch ?? -1) + 1
    const ids: Array<number> = []
    for (let batch = first; batch < first + batches; batch++) {
      ids.push(batch)
      const rows = Array.from({ length: size }, (_, i) => ({
        text: samples[(batch * size + i) % samples.length]!,
        metadata: JSON.stringify({ batch_id: batch })
      }))
      yield* sql`insert into ${sql(reviewsTable)} ${sql.insert(rows)}`
    }
    return ids
  })

const isPositive = (review: Review) => /friendly|great|love|clean|fast/.test(review.text)

/** The listener, ticking every `every` (3 seconds, as in the seed, unless told otherwise). */
export const makeUberReviews = (every: Listener.Every = "3 seconds") =>
  Listener.make({
    name: "uber-reviews",
    source: SqlSource.make({ table: reviewsTable, records: Review, orderBy: "id" }),
    params: Schema.Struct({ batch_id: Schema.Int }),
    initialParams: { batch_id: 0 },
    // metadata.batch_id:{batch_id}, with the batch id bound as a parameter
    query: ({ batch_id }) => (sql) => sql`(metadata->>'batch_id')::int = ${batch_id}`,
    every,
    metrics: ({ records }) => Effect.succeed({ positive: records.filter(isPositive).length }),
    run: (records, ctx) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`update ${sql(reviewsTable)} set metadata = metadata || '{"updated": true}'::jsonb
          where ${sql.in("id", records.map((review) => review.id))}`
        yield* Effect.log(`batch ${ctx.params.batch_id}: ${records.length} reviews, ${ctx.metrics.positive} positive`)
        return { batch_id: ctx.params.batch_id + 1 }
      }).pipe(Effect.orDie)
  })

export const uberReviews = makeUberReviews()
