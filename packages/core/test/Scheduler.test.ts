import { describe, expect, it } from "@effect/vitest"
import { Chunk, DateTime, Effect, Queue, Schema } from "effect"
import { Events, Job, Scheduler, Testing, Trigger } from "../src/index.js"

describe("retry", () => {
  it.scoped("queues a run that failed for good again as a new run, with its payload; a succeeded run is refused", () =>
    Effect.gen(function*() {
      let calls = 0
      const flaky = Job.make({
        name: "flaky",
        payload: Schema.Struct({ n: Schema.Number }),
        retry: Job.noRetry,
        run: ({ n }) => Effect.suspend(() => ++calls === 1 ? Effect.fail(`no ${n}`) : Effect.succeed(n))
      })
      yield* Effect.gen(function*() {
        const first = yield* Scheduler.enqueue(flaky, { n: 7 })
        yield* Testing.advance("1 second")
        expect((yield* Scheduler.getRun(first.id)).state).toBe("failed")
        const again = yield* Scheduler.retry(first.id)
        expect(again.id).not.toBe(first.id)
        expect(again).toMatchObject({ jobName: "flaky", payload: { n: 7 }, state: "queued" })
        yield* Testing.advance("1 second")
        expect((yield* Scheduler.getRun(again.id)).state).toBe("succeeded")
        const refused = yield* Effect.flip(Scheduler.retry(again.id))
        expect(refused).toBeInstanceOf(Scheduler.NotRetryable)
        expect(refused.message).toBe(
          `run ${again.id} is succeeded: only a run that ended dead, failed, timed_out or cancelled can be retried`
        )
      }).pipe(Effect.provide(Testing.layer([flaky])))
    }))
})

describe("trigger", () => {
  it.scoped("runs a schedule now without moving its next fire time; a skipping schedule with a run unfinished is refused", () =>
    Effect.gen(function*() {
      const slow = Job.make({ name: "slow", payload: Schema.Struct({}), run: () => Effect.sleep("1 minute") })
      yield* Effect.gen(function*() {
        const schedule = yield* Scheduler.schedule("hourly", slow, {
          trigger: Trigger.every("1 hour"),
          payload: {},
          overlap: "skip"
        })
        const run = yield* Scheduler.trigger("hourly")
        expect(run).toMatchObject({ jobName: "slow", scheduleId: "hourly", state: "queued" })
        yield* Testing.advance("1 second")
        const busy = yield* Effect.flip(Scheduler.trigger("hourly"))
        expect(busy).toBeInstanceOf(Scheduler.ScheduleBusy)
        expect(busy.message).toBe(`schedule "hourly" skips overlapping runs and its run ${run.id} is running`)
        const forced = yield* Scheduler.trigger("hourly", { force: true })
        expect(forced.id).not.toBe(run.id)
        const [after] = yield* Scheduler.schedules
        expect(after!.nextFireAt).toEqual(schedule.nextFireAt)
        expect(yield* Effect.flip(Scheduler.trigger("nightly"))).toMatchObject({ _tag: "ScheduleNotFound", id: "nightly" })
      }).pipe(Effect.provide(Testing.layer([slow])))
    }))
})

describe("scheduleMany", () => {
  const report = Job.make({
    name: "report",
    payload: Schema.Struct({ tenant: Schema.Number }),
    run: () => Effect.void
  })
  const tenants = (count: number, region = "eu") =>
    Array.from({ length: count }, (_, tenant): Scheduler.ScheduleEntry<{ readonly tenant: number }> => ({
      id: `report:${tenant}`,
      trigger: Trigger.every(`${1 + (tenant % 3)} hours`),
      payload: { tenant },
      ...(region === "eu" ? {} : { misfireGrace: "5 minutes" as const })
    }))
  const outcomes = (events: ReadonlyArray<Events.Event>) =>
    events.flatMap((e) => e._tag === "Scheduled" ? [`${e.scheduleId}:${e.outcome}`] : [])

  it.scoped("creates, finds unchanged and updates many schedules as schedule does each; they fire", () =>
    Effect.gen(function*() {
      const events = yield* Events.Events
      const subscription = yield* events.subscribe
      const created = yield* Scheduler.scheduleMany(report, tenants(3))
      expect(created.map((s) => s.id)).toEqual(["report:0", "report:1", "report:2"])
      expect(created.map((s) => s.nextFireAt && DateTime.toEpochMillis(s.nextFireAt))).toEqual([
        3_600_000,
        7_200_000,
        10_800_000
      ])
      yield* Testing.advance("30 minutes")
      // a restart: the same definitions, and one tenant more; the next fire times stay where they were
      const again = yield* Scheduler.scheduleMany(report, tenants(4).reverse())
      expect(again.map((s) => s.id)).toEqual(["report:3", "report:2", "report:1", "report:0"])
      expect(again.slice(1)).toEqual(created.slice().reverse())
      // a changed policy is an update that keeps the next fire time
      const changed = yield* Scheduler.scheduleMany(report, tenants(2, "us"))
      expect(changed.map((s) => s.misfireGraceMs)).toEqual([300_000, 300_000])
      expect(changed.map((s) => s.nextFireAt)).toEqual(created.slice(0, 2).map((s) => s.nextFireAt))
      expect(outcomes(Chunk.toArray(yield* Queue.takeAll(subscription)))).toEqual([
        "report:0:created",
        "report:1:created",
        "report:2:created",
        "report:3:created",
        "report:2:unchanged",
        "report:1:unchanged",
        "report:0:unchanged",
        "report:0:updated",
        "report:1:updated"
      ])
      expect(yield* Scheduler.scheduleMany(report, [])).toEqual([])
      yield* Testing.advance("3 hours")
      const fired = (yield* Scheduler.history()).map((r) => r.scheduleId).sort()
      // every hour from 1:00, every 2 and 3 hours from 0:00, every hour from 0:30 (created then)
      expect(fired).toEqual([
        ...["report:0", "report:0", "report:0", "report:1", "report:2"],
        ...["report:3", "report:3", "report:3"]
      ])
    }).pipe(Effect.provide(Testing.layer([report]))))

  it.scoped("a bad entry fails the call naming its id, and nothing is stored", () =>
    Effect.gen(function*() {
      const good = tenants(2)
      const cron = yield* Effect.flip(
        Scheduler.scheduleMany(report, [...good, { id: "bad", trigger: Trigger.cron("61 * * * *"), payload: { tenant: 9 } }])
      )
      expect(cron).toMatchObject({ _tag: "InvalidCron", expression: "61 * * * *", scheduleId: "bad" })
      expect(cron.message).toMatch(/^schedule "bad": invalid cron expression "61 \* \* \* \*"/)
      const payload = yield* Effect.flip(
        Scheduler.scheduleMany(report, [...good, { id: "bad", trigger: Trigger.every("1 hour"), payload: {} as never }])
      )
      expect(payload).toMatchObject({ _tag: "InvalidPayload", jobName: "report", scheduleId: "bad" })
      expect(payload.message).toMatch(/^schedule "bad": payload for job "report" does not match its schema/)
      const grace = yield* Effect.flip(Scheduler.scheduleMany(report, [
        ...good,
        { id: "bad", trigger: Trigger.every("1 hour"), payload: { tenant: 9 }, misfireGrace: -1 }
      ]))
      expect(grace).toMatchObject({ _tag: "InvalidInterval", field: "misfireGrace", scheduleId: "bad" })
      const zone = yield* Effect.flip(Scheduler.scheduleMany(report, [
        ...good,
        { id: "bad", trigger: Trigger.cron("0 3 * * *", { timeZone: "Mars/Olympus" }), payload: { tenant: 9 } }
      ]))
      expect(zone).toMatchObject({ _tag: "UnknownTimeZone", scheduleId: "bad" })
      const empty = yield* Effect.flip(
        Scheduler.scheduleMany(report, [...good, { id: " ", trigger: Trigger.every("1 hour"), payload: { tenant: 9 } }])
      )
      expect(empty).toMatchObject({ _tag: "InvalidScheduleId", id: " " })
      const twice = yield* Effect.flip(Scheduler.scheduleMany(report, [...good, good[0]!]))
      expect(twice).toBeInstanceOf(Scheduler.InvalidScheduleId)
      expect(twice.message).toBe(`invalid schedule id "report:0": given more than once in one scheduleMany`)
      expect(yield* Scheduler.schedules).toEqual([])
      // one by one, the error names the schedule too
      const one = yield* Effect.flip(Scheduler.schedule("alone", report, { trigger: Trigger.now, payload: {} as never }))
      expect(one).toMatchObject({ _tag: "InvalidPayload", scheduleId: "alone" })
    }).pipe(Effect.provide(Testing.layer([report]))))

  it.scoped("10,000 schedules in one call", () =>
    Effect.gen(function*() {
      const records = yield* Scheduler.scheduleMany(report, tenants(10_000))
      expect(records).toHaveLength(10_000)
      expect(records[9_999]!.id).toBe("report:9999")
      expect(yield* Scheduler.scheduleMany(report, tenants(10_000))).toEqual(records)
      expect(yield* Scheduler.schedules).toHaveLength(10_000)
    }).pipe(Effect.provide(Testing.layer([report]))))
})
