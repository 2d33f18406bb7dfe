/**
 * Composing jobs: the digest fans out one `count-articles` run per feed with
 * `Scheduler.run`, which enqueues a run and awaits its typed result, and sums
 * the results (fan-in). Enqueued with `then: announceDigest`, its result
 * becomes the payload of the announcement.
 */
import { Job, Scheduler } from "@clockwork/core"
import { Effect, Schema } from "effect"

export const ArticleCount = Schema.Struct({
  feed: Schema.String,
  articles: Schema.Int
})

export const countArticles = Job.make({
  name: "count-articles",
  payload: Schema.Struct({ feed: Schema.String }),
  success: ArticleCount,
  timeout: "10 seconds",
  run: ({ feed }) =>
    Effect.gen(function*() {
      yield* Effect.sleep("200 millis")
      // a stand-in for fetching the feed
      return { feed, articles: feed.length }
    })
})

export const Digest = Schema.Struct({
  feeds: Schema.Int,
  articles: Schema.Int
})

export const buildDigest = Job.make({
  name: "build-digest",
  payload: Schema.Struct({ feeds: Schema.Array(Schema.String) }),
  success: Digest,
  timeout: "1 minute",
  run: ({ feeds }, ctx) =>
    Effect.gen(function*() {
      const counts = yield* Effect.forEach(feeds, (feed) => Scheduler.run(countArticles, { feed }), {
        concurrency: "unbounded"
      })
      const articles = counts.reduce((sum, count) => sum + count.articles, 0)
      yield* ctx.metrics({ feeds: counts.length, articles })
      return { feeds: counts.length, articles }
    })
})

export const announceDigest = Job.make({
  name: "announce-digest",
  payload: Digest,
  timeout: "10 seconds",
  run: ({ articles, feeds }) => Effect.log(`digest ready: ${articles} articles from ${feeds} feeds`)
})
