/**
 * Testing.advance over a year: every run starts and ends at its exact
 * instant, with the runner's own timers (timeouts, retry backoff, chained
 * jobs) on the TestClock, and every outcome in the history and the events.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, DateTime, Effect, Exit, Queue, Schedule, Schema, TestClock } from "effect"
import { Events, Job, Scheduler, Testing, Trigger } from "../src/index.js"

const newYear = Date.parse("2025-01-01T00:00:00Z")
const day = 24 * 60 * 60 * 1000
const days = Array.from({ length: 365 }, (_, i) => newYear + i * day)
const iso = (millis: number) => new Date(millis).toISOString()
const millisOf = (d: DateTime.Utc) => DateTime.toEpochMillis(d)
// a year of runs is a second or so of work, more on a loaded machine: no tight deadline
const timeout = 60_000

describe("Testing.advance over a year", () => {
  it.scoped("a daily job runs 365 times, each at 06:00 sharp, each in the history and the events", () => {
    const report = Job.make({ name: "daily-report", payload: Schema.Struct({}), run: () => Effect.void })
    return Effect.gen(function*() {
      yield* TestClock.setTime(newYear)
      const events = yield* Effect.flatMap(Events.Events, (e) => e.subscribe)
      yield* Scheduler.schedule("daily-report", report, { trigger: Trigger.daily("06:00"), payload: {} })
      yield* Testing.advance("365 days")

      const runs = (yield* Scheduler.history({ jobName: "daily-report", limit: 1000 })).slice().reverse()
      const sixAm = days.map((d) => iso(d + 6 * 60 * 60 * 1000))
      expect(runs.map((r) => iso(millisOf(r.scheduledFor)))).toEqual(sixAm)
      expect(runs.map((r) => iso(millisOf(r.startedAt)))).toEqual(sixAm)
      expect(runs.map((r) => iso(millisOf(r.finishedAt)))).toEqual(sixAm)
      expect(runs.every((r) => r.status === "succeeded")).toBe(true)

      const succeeded = Chunk.toReadonlyArray(yield* Queue.takeAll(events)).filter((e) => e._tag === "Succeeded")
      expect(succeeded.map((e) => iso(e.at))).toEqual(sixAm)
    }).pipe(Effect.provide(Testing.layer([report])))
  }, timeout)

  it.scoped("each day a run times out, is retried with backoff, fails, and succeeds after 30 s, all to the second", () => {
    // attempt 1 times out after 1 minute; the backoff waits 10 s, then 20 s
    const load = Job.make({
      name: "load-rates",
      payload: Schema.Struct({}),
      timeout: "1 minute",
      retry: Schedule.exponential("10 seconds").pipe(Schedule.intersect(Schedule.recurs(2))),
      run: (_, ctx) =>
        ctx.attempt === 1
          ? Effect.sleep("5 minutes")
          : ctx.attempt === 2
          ? Effect.fail("upstream down")
          : Effect.sleep("30 seconds")
    })
    return Effect.gen(function*() {
      yield* TestClock.setTime(newYear)
      const events = yield* Effect.flatMap(Events.Events, (e) => e.subscribe)
      yield* Scheduler.schedule("rates", load, { trigger: Trigger.daily("02:00"), payload: {} })
      yield* Testing.advance("365 days")

      const runs = (yield* Scheduler.history({ jobName: "load-rates", limit: 2000 })).slice().reverse()
      const attempts = (d: number) => {
        const at = (time: string) => iso(Date.parse(`${iso(d).slice(0, 10)}T${time}Z`))
        return [
          { attempt: 1, status: "timed_out", startedAt: at("02:00:00"), finishedAt: at("02:01:00"), retryAt: at("02:01:10") },
          { attempt: 2, status: "failed", startedAt: at("02:01:10"), finishedAt: at("02:01:10"), retryAt: at("02:01:30") },
          { attempt: 3, status: "succeeded", startedAt: at("02:01:30"), finishedAt: at("02:02:00"), retryAt: undefined }
        ]
      }
      expect(runs.map((r) => ({
        attempt: r.attempt,
        status: r.status,
        startedAt: iso(millisOf(r.startedAt)),
        finishedAt: iso(millisOf(r.finishedAt)),
        retryAt: r.retryAt === undefined ? undefined : iso(millisOf(r.retryAt))
      }))).toEqual(days.flatMap(attempts))

      const timedOut = Chunk.toReadonlyArray(yield* Queue.takeAll(events)).filter((e) => e._tag === "TimedOut")
      expect(timedOut.map((e) => iso(e.at))).toEqual(days.map((d) => iso(d + (2 * 60 + 1) * 60 * 1000)))
    }).pipe(Effect.provide(Testing.layer([load])))
  }, timeout)

  it.scoped("a chained job starts the instant its parent ends, every day", () => {
    const exportRows = Job.make({
      name: "export-rows",
      payload: Schema.Struct({}),
      success: Schema.Number,
      run: () => Effect.as(Effect.sleep("2 minutes"), 42)
    })
    const announce = Job.make({
      name: "announce-export",
      payload: Schema.Number,
      success: Schema.String,
      run: (rows) => Effect.as(Effect.sleep("1 second"), `${rows} rows exported`)
    })
    return Effect.gen(function*() {
      yield* TestClock.setTime(newYear)
      for (const d of days) yield* Scheduler.enqueue(exportRows, {}, { at: d + 3 * 60 * 60 * 1000, then: announce })
      yield* Testing.advance("365 days")

      const runs = (yield* Scheduler.history({ jobName: "announce-export", limit: 1000 })).slice().reverse()
      expect(runs.map((r) => [iso(millisOf(r.startedAt)), iso(millisOf(r.finishedAt)), r.result])).toEqual(
        days.map((d) => [iso(d + (3 * 60 + 2) * 60 * 1000), iso(d + (3 * 60 + 2) * 60 * 1000 + 1000), "42 rows exported"])
      )
    }).pipe(Effect.provide(Testing.layer([exportRows, announce])))
  }, timeout)
})

describe("Testing.advance", () => {
  it.live("without a TestClock it dies saying what to provide", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Testing.advance("1 day"))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("provide TestContext.TestContext")
    }).pipe(Effect.provide(Testing.layer([]))))
})
