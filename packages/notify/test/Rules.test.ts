/**
 * The rules engine on feed entries built by hand, timed with TestClock:
 * which outcomes alert, streaks and recoveries, throttles and digests; and
 * the validation of rules given as data.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option, TestClock } from "effect"
import { Rules } from "../src/index.js"
import { attempt } from "./records.js"

const engineFor = (input: typeof Rules.Rules.Encoded, dashboardUrl?: string) =>
  Effect.flatMap(Either.match(Rules.validate(input), { onLeft: Effect.die, onRight: Effect.succeed }), (rules) =>
    Rules.engine(rules, { dashboardUrl }))

const reasons = (alerts: ReadonlyArray<{ readonly occurrences: ReadonlyArray<{ readonly reason: string }> }>) =>
  alerts.flatMap((alert) => alert.occurrences.map((o) => o.reason))

describe("Rules.validate", () => {
  it("names the bad value's path", () => {
    const bad = Rules.validate({ jobs: { "sync-prices": { throttle: "soon" } } })
    assert(Either.isLeft(bad))
    expect(bad.left._tag).toBe("InvalidRules")
    expect(bad.left.path).toBe("jobs.sync-prices.throttle")
    expect(bad.left.message).toContain("\"soon\"")
  })

  it("refuses unknown conditions, zero streaks, unknown fields and throttle with digest", () => {
    expect(Either.isLeft(Rules.validate({ on: ["on_fire"] }))).toBe(true)
    expect(Either.isLeft(Rules.validate({ on: [{ consecutiveFailures: 0 }] }))).toBe(true)
    expect(Either.isLeft(Rules.validate({ thrott1e: "1 minute" }))).toBe(true)
    const both = Rules.validate({ jobs: { a: { throttle: "1 minute", digest: "1 hour" } } })
    assert(Either.isLeft(both))
    expect(both.left.path).toBe("jobs.a")
  })

  it("accepts a job digest under a global throttle (the job's frequency replaces the global one)", () => {
    expect(Either.isRight(Rules.validate({ throttle: "10 minutes", jobs: { a: { digest: "1 hour" } } }))).toBe(true)
  })
})

describe("Rules.engine", () => {
  it.effect("by default alerts on a final failure only, with a stable id and the run's details", () =>
    Effect.gen(function*() {
      const engine = yield* engineFor({}, "https://dash.example.com/")
      const alerts = yield* engine.offer([
        attempt("scrape", "failed", { runId: "r1", attempt: 1, retry: true }),
        attempt("scrape", "succeeded"),
        attempt("scrape", "cancelled"),
        attempt("scrape", "failed", { runId: "r2", attempt: 3 })
      ])
      expect(alerts.map((a) => a.id)).toEqual(["r2:3:final_failure"])
      const [o] = alerts[0]!.occurrences
      expect(o).toMatchObject({ jobName: "scrape", runId: "r2", attempt: 3, scheduleId: "scrape-schedule", workerId: "worker-1" })
      expect(o!.error?.tag).toBe("ScrapeFailed")
      expect(o!.link).toBe("https://dash.example.com/runs/r2")
    }))

  it.effect("every failed attempt, timeouts, dead-lettered runs", () =>
    Effect.gen(function*() {
      const engine = yield* engineFor({ on: ["failed_attempt", "final_failure"], jobs: { slow: { on: ["timeout"] } } })
      const alerts = yield* engine.offer([
        attempt("scrape", "failed", { retry: true }),
        attempt("scrape", "dead"),
        attempt("slow", "failed"),
        attempt("slow", "timed_out", { retry: true })
      ])
      expect(reasons(alerts)).toEqual(["failed_attempt", "final_failure", "timeout"])
    }))

  it.effect("N final failures in a row, then the recovery; retried attempts do not count", () =>
    Effect.gen(function*() {
      const engine = yield* engineFor({ on: [{ consecutiveFailures: 3 }, "recovery"] })
      const fail = () => attempt("sync", "failed")
      expect(reasons(yield* engine.offer([fail(), fail(), attempt("sync", "failed", { retry: true })]))).toEqual([])
      const third = yield* engine.offer([fail(), fail()])
      expect(reasons(third)).toEqual(["consecutive_failures"])
      expect(third[0]!.occurrences[0]!.consecutiveFailures).toBe(3)
      const recovered = yield* engine.offer([attempt("sync", "succeeded"), attempt("sync", "succeeded")])
      expect(reasons(recovered)).toEqual(["recovery"])
      expect(recovered[0]!.occurrences[0]!.consecutiveFailures).toBe(4)
      // a new streak counts from zero
      expect(reasons(yield* engine.offer([fail(), fail()]))).toEqual([])
      expect(reasons(yield* engine.offer([fail()]))).toEqual(["consecutive_failures"])
    }))

  it.effect("a throttle sends one alert per job per window, then one line with how many were held back", () =>
    Effect.gen(function*() {
      const engine = yield* engineFor({ throttle: "10 minutes" })
      const first = yield* engine.offer([attempt("a", "failed"), attempt("a", "failed"), attempt("b", "failed")])
      expect(first.map((a) => a.occurrences[0]!.jobName)).toEqual(["a", "b"])
      yield* TestClock.adjust("5 minutes")
      expect(yield* engine.offer([attempt("a", "failed"), attempt("a", "failed")])).toEqual([])
      expect(Option.getOrThrow(yield* engine.nextDue)).toBe(10 * 60_000)
      yield* TestClock.adjust("4 minutes")
      expect(yield* engine.due).toEqual([])
      yield* TestClock.adjust("1 minute")
      const [summary, ...rest] = yield* engine.due
      expect(rest).toEqual([])
      expect(summary).toMatchObject({ kind: "suppressed", jobName: "a", suppressed: 3 })
      expect(summary!.id).toBe(`suppressed:a:${10 * 60_000}`)
      expect(Option.isNone(yield* engine.nextDue)).toBe(true)
      // the next window starts with the next failure
      expect((yield* engine.offer([attempt("a", "failed")])).length).toBe(1)
    }))

  it.effect("a digest sends one message per window with every alert in it; a job's own digest is apart", () =>
    Effect.gen(function*() {
      const engine = yield* engineFor({ digest: "1 hour", jobs: { nightly: { digest: "1 day" } } })
      expect(yield* engine.offer([attempt("a", "failed"), attempt("nightly", "failed")])).toEqual([])
      yield* TestClock.adjust("30 minutes")
      expect(yield* engine.offer([attempt("b", "dead")])).toEqual([])
      yield* TestClock.adjust("30 minutes")
      const [digest, ...rest] = yield* engine.due
      expect(rest).toEqual([])
      expect(digest!.kind).toBe("digest")
      expect(digest!.occurrences.map((o) => o.jobName)).toEqual(["a", "b"])
      yield* TestClock.adjust("23 hours")
      const [nightly] = yield* engine.due
      expect(nightly!.occurrences.map((o) => o.jobName)).toEqual(["nightly"])
    }))
})
