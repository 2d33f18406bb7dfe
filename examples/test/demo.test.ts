import { Clockwork, JobStore, Scheduler, Testing } from "@clockwork/core"
import { HttpJob } from "@clockwork/http"
import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigError, ConfigProvider, DateTime, Effect, Layer, Option, Schedule, TestClock } from "effect"
import * as Backend from "../src/backend.js"
import { breakingNews, breakingNewsScheduleId, scheduleBreakingNews } from "../src/jobs/breakingNews.js"
import { cleanUpEmbeddings, EmbeddingIndex } from "../src/jobs/cleanUpEmbeddings.js"
import { announceDigest, buildDigest, countArticles } from "../src/jobs/digest.js"
import { newsletterScheduleId, scheduleNewsletter, sendNewsletter } from "../src/jobs/newsletter.js"

const iso = (instant: DateTime.Utc) => DateTime.formatIso(instant)

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("send-newsletter", () => {
  it.scoped("fires on mondays at 08:00 Berlin time, across the change to summer time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2025-03-23T00:00:00Z")) // a sunday; clocks go forward on the 30th
      yield* scheduleNewsletter
      yield* Testing.advance("14 days")

      const runs = [...yield* Scheduler.history({ scheduleId: newsletterScheduleId })].reverse()
      expect(runs.map((run) => iso(run.startedAt))).toEqual([
        "2025-03-24T07:00:00.000Z", // 08:00 CET
        "2025-03-31T06:00:00.000Z" // 08:00 CEST
      ])
      for (const run of runs) {
        expect(run.status).toBe("succeeded")
        expect(run.result).toEqual({ edition: "weekly", sent: 3 })
        expect(run.metrics).toEqual({ sent: 3, bounced: 1 })
      }
    }).pipe(Effect.provide(Testing.layer([sendNewsletter]))))
})

describe("clean-up-embeddings", () => {
  it.scoped("is interrupted at its 2-second timeout, recorded timed_out, and releases its lock", () =>
    Effect.gen(function*() {
      const index = yield* EmbeddingIndex
      const handle = yield* Scheduler.enqueue(cleanUpEmbeddings, { batches: 5 })

      yield* Testing.advance("1 second")
      assert.isTrue(yield* index.isLocked)

      yield* Testing.advance("9 seconds")
      const runs = yield* Scheduler.history({ runId: handle.id })
      expect(runs).toHaveLength(1) // no retry
      const [run] = runs
      expect(run!.status).toBe("timed_out")
      expect(run!.attempt).toBe(1)
      expect(run!.durationMs).toBe(2000)
      expect(run!.error?.tag).toBe("JobTimeout")
      assert.isFalse(yield* index.isLocked)

      const failure = yield* Effect.flip(Scheduler.result(handle))
      expect(failure._tag).toBe("RunFailed")
      expect(failure._tag === "RunFailed" && failure.state).toBe("timed_out")
    }).pipe(Effect.provide(Testing.layer([cleanUpEmbeddings]).pipe(Layer.provideMerge(EmbeddingIndex.layerMemory)))))
})

describe("breaking-news", () => {
  // the schedule's behaviour, deterministic under TestClock: which ticks fire
  // (whatever the requests answer: no backend is needed for that)
  const app = Testing.layer([breakingNews]).pipe(Layer.provide(HttpJob.layerFetch))
  const firesAt = Effect.flatMap(JobStore.JobStore, (store) =>
    Effect.map(
      store.listRuns({ scheduleId: breakingNewsScheduleId, limit: 100 }),
      (runs) => runs.map((run) => DateTime.toEpochMillis(run.scheduledFor)).sort((a, b) => a - b)
    ))

  it.scoped("fires every BREAKING_NEWS_INTERVAL_SECONDS under its stable id", () =>
    Effect.gen(function*() {
      const schedule = yield* scheduleBreakingNews.pipe(withEnv({ BREAKING_NEWS_INTERVAL_SECONDS: "10" }))
      assert.isTrue(Option.isSome(schedule))
      yield* Testing.advance("35 seconds")
      expect(yield* firesAt).toEqual([10_000, 20_000, 30_000])
    }).pipe(Effect.provide(app)))

  it.scoped("falls back to 10 seconds when the variable is unset", () =>
    Effect.gen(function*() {
      yield* scheduleBreakingNews.pipe(withEnv({}))
      yield* Testing.advance("25 seconds")
      expect(yield* firesAt).toEqual([10_000, 20_000])
    }).pipe(Effect.provide(app)))

  it.scoped("a malformed or zero interval is an error, not the default", () =>
    Effect.gen(function*() {
      const malformed = yield* Effect.flip(scheduleBreakingNews.pipe(withEnv({ BREAKING_NEWS_INTERVAL_SECONDS: "ten" })))
      expect(ConfigError.isConfigError(malformed) && malformed._op).toBe("InvalidData")
      const zero = yield* Effect.flip(scheduleBreakingNews.pipe(withEnv({ BREAKING_NEWS_INTERVAL_SECONDS: "0" })))
      expect(zero._tag).toBe("InvalidInterval")
      expect(yield* Scheduler.schedules).toEqual([])
    }).pipe(Effect.provide(app)))

  it.scoped("is scheduled once however often the app restarts", () =>
    Effect.gen(function*() {
      const env = withEnv({ BREAKING_NEWS_INTERVAL_SECONDS: "10" })
      yield* scheduleBreakingNews.pipe(env)
      yield* Testing.advance("5 seconds")
      yield* scheduleBreakingNews.pipe(env)
      yield* Testing.advance("12 seconds")
      const schedules = yield* Scheduler.schedules
      expect(schedules.map((s) => s.id)).toEqual([breakingNewsScheduleId])
      expect(yield* firesAt).toEqual([10_000])
    }).pipe(Effect.provide(app)))

  it.scoped("a negative interval disables it and removes the stored schedule", () =>
    Effect.gen(function*() {
      yield* scheduleBreakingNews.pipe(withEnv({ BREAKING_NEWS_INTERVAL_SECONDS: "10" }))
      const disabled = yield* scheduleBreakingNews.pipe(withEnv({ BREAKING_NEWS_INTERVAL_SECONDS: "-1" }))
      assert.isTrue(Option.isNone(disabled))
      yield* Testing.advance("1 minute")
      expect(yield* Scheduler.schedules).toEqual([])
      expect(yield* firesAt).toEqual([])
    }).pipe(Effect.provide(app)))

  // the request itself, for real: the demo's backend on 127.0.0.1, the real clock
  it.scopedLive("POSTs to ${API_BASE_URL}/v1/jobs/breaking-news and records the answer", () =>
    Effect.gen(function*() {
      const backend = yield* Backend.start
      const env = withEnv({ API_BASE_URL: backend.url, BREAKING_NEWS_INTERVAL_SECONDS: "0.05" })
      yield* Effect.gen(function*() {
        yield* scheduleBreakingNews
        const store = yield* JobStore.JobStore
        // three answered checks; the real clock, so wait on the history itself
        const answered = store.history({ scheduleId: breakingNewsScheduleId, status: "succeeded" })
        yield* Effect.repeat(answered, { until: (runs) => runs.length >= 3, schedule: Schedule.spaced("20 millis") })
        const runs = (yield* answered).slice().reverse()
        expect(runs.slice(0, 3).map((run) => run.result)).toEqual([{ alerts: 0 }, { alerts: 0 }, { alerts: 1 }])
        expect(runs[0]!.metrics).toEqual({ status: 200 })
      }).pipe(
        Effect.provide(Clockwork.layer([breakingNews]).pipe(
          Layer.provideMerge(JobStore.layerMemory),
          Layer.provide(HttpJob.layerFetch)
        )),
        env
      )
      expect(backend.checks()).toBeGreaterThanOrEqual(3)
    }), 10_000)
})
describe("build-digest", () => {
  const TestApp = Testing.layer([countArticles, buildDigest, announceDigest])

  it.scoped("fans out over the feeds, sums the counts, then announces the digest", () =>
    Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(buildDigest, { feeds: ["world", "politics", "technology"] }, {
        then: announceDigest
      })
      yield* Testing.advance("1 second")

      expect(yield* Scheduler.result(handle)).toEqual({ feeds: 3, articles: 5 + 8 + 10 })
      const runs = yield* Scheduler.history()
      const byJob = (name: string) => runs.filter((run) => run.jobName === name)
      expect(byJob("count-articles").map((run) => run.result)).toEqual(expect.arrayContaining([
        { feed: "world", articles: 5 },
        { feed: "politics", articles: 8 },
        { feed: "technology", articles: 10 }
      ]))
      // the three counts ran side by side, and their results reached build-digest at once
      expect(byJob("build-digest").map((run) => run.durationMs)).toEqual([200])
      expect(byJob("announce-digest").map((run) => run.status)).toEqual(["succeeded"])
    }).pipe(Effect.provide(TestApp)))
})
