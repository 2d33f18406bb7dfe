import { Scheduler, Testing } from "@clockwork/core"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Schema } from "effect"
import * as Cursor from "../src/internal/cursor.js"
import * as History from "../src/internal/history.js"
import { hello } from "./support.js"

describe("history pages", () => {
  it.effect("tell apart attempts that finished in the same millisecond, at any page size", () =>
    Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      // under the TestClock every run finishes at the same instant: one group of ties
      yield* Scheduler.enqueueMany(hello, Array.from({ length: 7 }, (_, n) => ({ n })))
      yield* Testing.advance("1 second")
      yield* Scheduler.enqueueMany(hello, Array.from({ length: 3 }, (_, n) => ({ n })))
      yield* Testing.advance("1 second")
      const all = yield* scheduler.history({ limit: 100 })
      expect(all).toHaveLength(10)
      expect(new Set(all.map((r) => DateTime.toEpochMillis(r.finishedAt))).size).toBe(2)
      const expected = all.map(Cursor.positionOf).sort(Cursor.order).map((p) => p.runId)

      for (const limit of [1, 2, 3, 4, 10, 11]) {
        const seen: Array<string> = []
        let after: Cursor.Position | undefined
        for (;;) {
          const page = yield* History.page(scheduler.history, { after, limit })
          expect(page.runs.length).toBeLessThanOrEqual(limit)
          seen.push(...page.runs.map((r) => r.runId))
          if (page.next === undefined) break
          after = Schema.decodeSync(Cursor.HistoryCursor)(page.next)
        }
        expect(seen, `limit ${limit}`).toEqual(expected)
      }
    }).pipe(Effect.provide(Testing.layer([hello]))))

  it.effect("count attempts per job and status, and per minute", () =>
    Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const start = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      yield* Scheduler.enqueue(hello, { n: 1 })
      yield* Testing.advance("90 seconds")
      yield* Scheduler.enqueueMany(hello, [{ n: 2 }, { n: 3 }])
      yield* Testing.advance("1 second")
      const counts = yield* History.counts(scheduler.history, start, start + 60 * 60_000)
      expect(counts.byJob).toEqual([{ jobName: "hello", status: "succeeded", count: 3 }])
      expect(counts.bucketMs).toBe(60_000)
      expect(counts.buckets.map((b) => [b.at - start, b.count])).toEqual([[0, 1], [60_000, 2]])
      expect(counts.truncated).toBe(false)
    }).pipe(Effect.provide(Testing.layer([hello]))))
})
