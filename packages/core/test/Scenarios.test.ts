/**
 * Whole scenarios under TestClock: schedules, the ticker and the runner
 * together on the memory store, asserting the instants runs start and end.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Layer, Ref, Schedule, Schema, TestClock } from "effect"
import { Clockwork, Events, Job, JobStore, Policy, Scheduler, Testing, Trigger } from "../src/index.js"
import { maxSleepMillis, sleepAtMost } from "../src/internal/timer.js"

const iso = (d: DateTime.Utc) => DateTime.formatIso(d)
const at = (isoString: string) => new Date(isoString).getTime()

const slow = (name: string, seconds: number, overlap: Policy.Overlap = "allow") =>
  Job.make({
    name,
    payload: Schema.Struct({}),
    overlap,
    retry: Job.noRetry,
    run: () => Effect.sleep(Duration.seconds(seconds))
  })

describe("cron across a DST change", () => {
  it.scoped("0 3 * * * Europe/Berlin runs exactly 7 times in 7 days, at 03:00 local", () => {
    const job = Job.make({ name: "nightly", payload: Schema.Struct({}), run: () => Effect.void })
    return Effect.gen(function*() {
      // 22 Oct 2026 00:00 UTC; Berlin leaves summer time on 25 Oct at 03:00 local
      yield* TestClock.setTime(at("2026-10-22T00:00:00Z"))
      yield* Scheduler.schedule("nightly", job, {
        trigger: Trigger.cron("0 3 * * *", { timeZone: "Europe/Berlin" }),
        payload: {}
      })
      yield* Testing.advance("7 days")
      const runs = yield* Scheduler.history({ jobName: "nightly" })
      expect(runs.map((r) => iso(r.startedAt)).reverse()).toEqual([
        "2026-10-22T01:00:00.000Z",
        "2026-10-23T01:00:00.000Z",
        "2026-10-24T01:00:00.000Z",
        "2026-10-25T02:00:00.000Z",
        "2026-10-26T02:00:00.000Z",
        "2026-10-27T02:00:00.000Z",
        "2026-10-28T02:00:00.000Z"
      ])
      expect(runs.every((r) => r.status === "succeeded")).toBe(true)
      expect(runs.every((r) => r.scheduledFor.epochMillis === r.startedAt.epochMillis)).toBe(true)
    }).pipe(Effect.provide(Testing.layer([job])))
  })
})

describe("overlap: a 10 s interval job whose runs take 25 s", () => {
  const scenario = (overlap: Policy.Overlap) => {
    const job = slow(`slow-${overlap}`, 25, overlap)
    return Effect.gen(function*() {
      yield* Scheduler.schedule("every-10s", job, { trigger: Trigger.every("10 seconds"), payload: {} })
      yield* Testing.advance("100 seconds")
      const runs = yield* Scheduler.history({ scheduleId: "every-10s", limit: 1000 })
      const running = yield* Effect.flatMap(JobStore.JobStore, (s) => s.listRuns({ state: "running" }))
      return {
        finished: runs.map((r) => [r.startedAt.epochMillis / 1000, r.finishedAt.epochMillis / 1000]).reverse(),
        running: running.length
      }
    }).pipe(Effect.provide(Testing.layer([job])))
  }

  it.scoped("allow: every tick starts a run, runs overlap", () =>
    Effect.gen(function*() {
      const { finished, running } = yield* scenario("allow")
      // ticks at 10..100 s; runs started at 10..70 s have finished by 100 s
      expect(finished).toEqual([[10, 35], [20, 45], [30, 55], [40, 65], [50, 75], [60, 85], [70, 95]])
      expect(running).toBe(3)
    }))

  it.scoped("skip: ticks that come while a run is active are dropped", () =>
    Effect.gen(function*() {
      const { finished, running } = yield* scenario("skip")
      // 10→35 (ticks 20, 30 dropped), 40→65 (50, 60 dropped), 70→95 (80, 90 dropped); the 100 s tick starts
      expect(finished).toEqual([[10, 35], [40, 65], [70, 95]])
      expect(running).toBe(1)
    }))

  it.scoped("queue: ticks wait their turn and run one at a time, in order", () =>
    Effect.gen(function*() {
      const { finished, running } = yield* scenario("queue")
      expect(finished).toEqual([[10, 35], [35, 60], [60, 85]])
      expect(running).toBe(1)
    }))
})

describe("retries", () => {
  it.scoped("follow the job's Schedule: exponential backoff 1 s, 2 s, 4 s, then dead", () => {
    const job = Job.make({
      name: "flaky",
      payload: Schema.Struct({}),
      retry: Schedule.exponential("1 second").pipe(Schedule.intersect(Schedule.recurs(3))),
      run: () => Effect.fail({ _tag: "Boom", message: "upstream said no" } as const)
    })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(job, {})
      yield* Testing.advance("1 minute")
      const attempts = (yield* Scheduler.history({ runId: handle.id })).slice().reverse()
      expect(attempts.map((r) => [r.attempt, r.status, r.startedAt.epochMillis])).toEqual([
        [1, "failed", 0],
        [2, "failed", 1000],
        [3, "failed", 3000],
        [4, "dead", 7000]
      ])
      expect(attempts[0]!.retryAt?.epochMillis).toBe(1000)
      expect(attempts[3]!.retryAt).toBeUndefined()
      expect(attempts[3]!.error?.tag).toBe("Boom")
      expect(attempts[3]!.error?.message).toBe("upstream said no")
      const run = yield* Scheduler.Scheduler.pipe(Effect.flatMap((s) => s.getRun(handle.id)))
      expect(run.state).toBe("dead")
    }).pipe(Effect.provide(Testing.layer([job])))
  })

  it.scoped("the default policy is jittered exponential backoff with 5 attempts", () => {
    const job = Job.make({ name: "always-fails", payload: Schema.Struct({}), run: () => Effect.fail("no") })
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(job, {})
      yield* Testing.advance("5 minutes")
      const attempts = (yield* Scheduler.history({ runId: handle.id })).slice().reverse()
      expect(attempts.map((r) => r.status)).toEqual(["failed", "failed", "failed", "failed", "dead"])
      // base delays 1, 2, 4, 8 s; jitter scales each by 0.8..1.2
      const gaps = attempts.slice(1).map((r, i) => r.startedAt.epochMillis - attempts[i]!.startedAt.epochMillis)
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(0.8 * 1000 * 2 ** i)
        expect(gap).toBeLessThanOrEqual(1.2 * 1000 * 2 ** i)
      })
    }).pipe(Effect.provide(Testing.layer([job])))
  })
})

describe("timeouts", () => {
  it.scoped("a job with a 30 s timeout that would take 60 s is interrupted at 30 s and its finalizer runs", () =>
    Effect.gen(function*() {
      const finalized = yield* Ref.make<number | undefined>(undefined)
      const job = Job.make({
        name: "too-slow",
        payload: Schema.Struct({}),
        timeout: "30 seconds",
        retry: Job.noRetry,
        run: () =>
          Effect.sleep("60 seconds").pipe(
            Effect.ensuring(Effect.flatMap(DateTime.now, (now) => Ref.set(finalized, now.epochMillis)))
          )
      })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(job, {})
        yield* Testing.advance("2 minutes")
        const [attempt] = yield* Scheduler.history({ runId: handle.id })
        expect(attempt!.status).toBe("timed_out")
        expect(attempt!.finishedAt.epochMillis).toBe(30_000)
        expect(attempt!.durationMs).toBe(30_000)
        expect(attempt!.error?.tag).toBe("JobTimeout")
        expect(yield* Ref.get(finalized)).toBe(30_000)
      }).pipe(Effect.provide(Testing.layer([job])))
    }))
})

describe("stable schedule ids", () => {
  it.scoped("scheduling the same id again updates it and never duplicates it", () => {
    const job = Job.make({ name: "poll", payload: Schema.Struct({ feed: Schema.String }), run: () => Effect.void })
    return Effect.gen(function*() {
      const id = "cc1dface-9213-4eed-8cb2-0edba6b2159c"
      const first = yield* Scheduler.schedule(id, job, { trigger: Trigger.every("60 seconds"), payload: { feed: "a" } })
      yield* Testing.advance("30 seconds")
      // a restart registers it again: same trigger, the next fire time is kept
      const again = yield* Scheduler.schedule(id, job, { trigger: Trigger.every("60 seconds"), payload: { feed: "a" } })
      expect(again.nextFireAt).toEqual(first.nextFireAt)
      const changed = yield* Scheduler.schedule(id, job, { trigger: Trigger.every("60 seconds"), payload: { feed: "b" } })
      expect(changed.payload).toEqual({ feed: "b" })
      expect(yield* Scheduler.schedules).toHaveLength(1)
      yield* Testing.advance("150 seconds")
      const runs = yield* Scheduler.history({ scheduleId: id })
      expect(runs.map((r) => r.startedAt.epochMillis / 1000).reverse()).toEqual([60, 120, 180])
    }).pipe(Effect.provide(Testing.layer([job])))
  })
})

describe("misfires after a 3-hour gap", () => {
  // the schedule is stored, then nothing runs for 3 hours (the app was down),
  // then the app starts on the same store
  const afterGap = (misfire: Policy.Misfire) => {
    const job = Job.make({ name: "hourly-report", payload: Schema.Struct({}), run: () => Effect.void })
    return Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const storeLayer = Layer.succeed(JobStore.JobStore, store)
      yield* Scheduler.schedule("report", job, {
        trigger: Trigger.every("30 minutes"),
        payload: {},
        misfire
      }).pipe(Effect.provide(Scheduler.layer.pipe(Layer.provide(Events.layer), Layer.provide(storeLayer))))
      yield* TestClock.adjust("3 hours")
      yield* Effect.gen(function*() {
        yield* Testing.advance("10 minutes")
      }).pipe(Effect.provide(Clockwork.layer([job]).pipe(Layer.provide(storeLayer))))
      const runs = yield* store.history({ scheduleId: "report" })
      const schedule = yield* store.getSchedule("report")
      return {
        scheduledFor: runs.map((r) => r.scheduledFor.epochMillis / 60_000).reverse(),
        startedAt: runs.map((r) => r.startedAt.epochMillis / 60_000),
        next: schedule.nextFireAt!.epochMillis / 60_000
      }
    })
  }

  it.scoped("coalesce (default) fires once for the six missed ticks", () =>
    Effect.gen(function*() {
      const { next, scheduledFor, startedAt } = yield* afterGap(Policy.coalesce)
      expect(scheduledFor).toEqual([180])
      expect(startedAt).toEqual([180])
      expect(next).toBe(210)
    }))

  it.scoped("catchUp(4) fires the four most recent missed ticks", () =>
    Effect.gen(function*() {
      const { next, scheduledFor, startedAt } = yield* afterGap(Policy.catchUp(4))
      expect(scheduledFor).toEqual([90, 120, 150, 180])
      expect(startedAt).toEqual([180, 180, 180, 180])
      expect(next).toBe(210)
    }))

  it.scoped("skipMissed fires none of them and waits for the next tick", () =>
    Effect.gen(function*() {
      const { next, scheduledFor } = yield* afterGap(Policy.skipMissed)
      // the tick at exactly 180 min is on time (within the 1-minute grace)
      expect(scheduledFor).toEqual([180])
      expect(next).toBe(210)
    }))

  it.scoped("skipMissed with the app coming back mid-interval fires nothing until the next tick", () => {
    const job = Job.make({ name: "r", payload: Schema.Struct({}), run: () => Effect.void })
    return Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const storeLayer = Layer.succeed(JobStore.JobStore, store)
      yield* Scheduler.schedule("r", job, { trigger: Trigger.every("30 minutes"), payload: {}, misfire: Policy.skipMissed })
        .pipe(Effect.provide(Scheduler.layer.pipe(Layer.provide(Events.layer), Layer.provide(storeLayer))))
      yield* TestClock.adjust("190 minutes")
      yield* Testing.advance("10 minutes").pipe(Effect.provide(Clockwork.layer([job]).pipe(Layer.provide(storeLayer))))
      expect(yield* store.history({ scheduleId: "r" })).toHaveLength(0)
      yield* Testing.advance("15 minutes").pipe(Effect.provide(Clockwork.layer([job]).pipe(Layer.provide(storeLayer))))
      const runs = yield* store.history({ scheduleId: "r" })
      expect(runs.map((r) => r.startedAt.epochMillis / 60_000)).toEqual([210])
    })
  })
})

describe("misfires of a cron every minute after ten years down", () => {
  // the missed ticks (over five million) are not walked one by one: the policy's few are found back from now
  const afterDecade = (misfire: Policy.Misfire) => {
    const job = Job.make({ name: "pulse", payload: Schema.Struct({}), run: () => Effect.void })
    return Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      const storeLayer = Layer.succeed(JobStore.JobStore, store)
      yield* TestClock.setTime(at("2016-01-01T00:00:30Z"))
      yield* Scheduler.schedule("pulse", job, {
        trigger: Trigger.cron("* * * * *", { timeZone: "Europe/Berlin" }),
        payload: {},
        misfire
      }).pipe(Effect.provide(Scheduler.layer.pipe(Layer.provide(Events.layer), Layer.provide(storeLayer))))
      yield* TestClock.setTime(at("2026-01-01T00:00:30Z"))
      yield* Testing.advance("10 seconds").pipe(Effect.provide(Clockwork.layer([job]).pipe(Layer.provide(storeLayer))))
      const runs = yield* store.history({ scheduleId: "pulse" })
      const schedule = yield* store.getSchedule("pulse")
      return {
        scheduledFor: runs.map((r) => iso(r.scheduledFor)).reverse(),
        next: iso(schedule.nextFireAt!)
      }
    })
  }

  it.scoped("coalesce fires once, for the last missed minute", () =>
    Effect.gen(function*() {
      const { next, scheduledFor } = yield* afterDecade(Policy.coalesce)
      expect(scheduledFor).toEqual(["2026-01-01T00:00:00.000Z"])
      expect(next).toBe("2026-01-01T00:01:00.000Z")
    }))

  it.scoped("catchUp(3) fires the last three missed minutes", () =>
    Effect.gen(function*() {
      const { next, scheduledFor } = yield* afterDecade(Policy.catchUp(3))
      expect(scheduledFor).toEqual(["2025-12-31T23:58:00.000Z", "2025-12-31T23:59:00.000Z", "2026-01-01T00:00:00.000Z"])
      expect(next).toBe("2026-01-01T00:01:00.000Z")
    }))
})

describe("instants further off than a JavaScript timer can wait (24.8 days)", () => {
  const job = Job.make({ name: "far", payload: Schema.Struct({}), run: () => Effect.void })

  it.scoped("a loop never asks for a longer sleep: it wakes at the timer's limit and sleeps on", () =>
    Effect.gen(function*() {
      yield* Effect.fork(sleepAtMost(Duration.toMillis(Duration.days(40))))
      yield* Testing.settle
      expect(Array.from(yield* TestClock.sleeps())).toEqual([maxSleepMillis])
    }))

  it.scoped("a yearly schedule and a run due in 60 days start at their instants", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(at("2026-01-02T00:00:00Z"))
      yield* Scheduler.schedule("new-year", job, {
        trigger: Trigger.cron("0 9 1 1 *", { timeZone: "Europe/Berlin" }),
        payload: {}
      })
      const later = yield* Scheduler.enqueue(job, {}, { delay: "60 days" })
      yield* Testing.advance("400 days")
      const history = yield* Scheduler.history({ jobName: "far" })
      const started = history.map((r) => [r.runId === later.id ? "delayed" : r.scheduleId, iso(r.startedAt)]).sort()
      expect(started).toEqual([
        ["delayed", "2026-03-03T00:00:00.000Z"],
        ["new-year", "2027-01-01T08:00:00.000Z"]
      ])
    }).pipe(Effect.provide(Testing.layer([job]))))
})
