import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Job, Scheduler, Testing, Trigger } from "../src/index.js"

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
