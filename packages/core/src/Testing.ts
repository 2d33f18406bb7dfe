/**
 * Test your jobs deterministically: an in-memory store with the ticker and a
 * runner, driven by `TestClock`.
 *
 * @example
 * ```ts
 * import { it } from "@effect/vitest"
 * import { Testing, Scheduler, Trigger } from "@clockwork/core"
 *
 * it.scoped("sends the newsletter every monday", () =>
 *   Effect.gen(function*() {
 *     yield* Scheduler.schedule("newsletter", sendNewsletter, {
 *       trigger: Trigger.weekly("monday", "08:00"),
 *       payload: { edition: "weekly" }
 *     })
 *     yield* Testing.advance("14 days")
 *     const runs = yield* Scheduler.history({ jobName: "send-newsletter" })
 *     expect(runs).toHaveLength(2)
 *   }).pipe(Effect.provide(Testing.layer([sendNewsletter])))
 * )
 * ```
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Layer, TestClock } from "effect"
import * as Clockwork from "./Clockwork.js"
import type { Events } from "./Events.js"
import type * as Job from "./Job.js"
import * as JobStore from "./JobStore.js"
import * as Quiescence from "./internal/quiescence.js"
import * as TestClockState from "./internal/testClock.js"
import type { Runner } from "./Runner.js"
import type { Scheduler } from "./Scheduler.js"
import type * as Trigger from "./Trigger.js"

/**
 * The app layer on a fresh in-memory store. By default its runner has no
 * shutdown grace period (runs still going when the test's scope closes are
 * interrupted at once, since nothing moves the TestClock during shutdown),
 * there is no reaper (one process: no worker can die alone), and no
 * retention (a test that moves the clock by months keeps its history).
 * Its fibers, and the effect it is provided to, run on a scheduler that
 * tells `settle` when every fiber is waiting.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <const Jobs extends ReadonlyArray<Job.Any>>(
  jobs: Jobs,
  options?: Clockwork.Options
): Layer.Layer<
  Scheduler | Runner | Events | Job.Registry | JobStore.JobStore,
  Job.DuplicateJobName | Trigger.InvalidInterval,
  Clockwork.Requirements<Jobs>
> =>
  Clockwork.layer(jobs, { reaper: false, retention: false, ...options, runner: { shutdownGrace: 0, ...options?.runner } }).pipe(
    Layer.provideMerge(JobStore.layerMemory),
    Layer.provide(Quiescence.layer)
  )

/**
 * Lets every fiber that can make progress at the current instant do so (the
 * ticker, the runner, job fibers, the completion writer) without moving the
 * clock: under `layer`, until a whole event-loop turn passes with every fiber
 * waiting (on the clock, a queue, or I/O that has not answered).
 *
 * @since 0.1.0
 * @category testing
 */
export const settle: Effect.Effect<void> = Effect.flatMap(
  Quiescence.current,
  (scheduler) => scheduler === undefined ? settleBlindly : Quiescence.settle(scheduler)
)

// Without `layer`'s scheduler nothing tells when the fibers are done: each
// yield lets every fiber that is ready take one more step (the scheduler is
// FIFO), so a chain ticker → store → runner → job → writer needs a few dozen,
// and TestClock.adjust(0) lets I/O in (it waits on real timers).
const settleBlindly: Effect.Effect<void> = Effect.gen(function*() {
  for (let i = 0; i < 4; i++) {
    yield* TestClock.adjust(0)
    for (let j = 0; j < 64; j++) yield* Effect.yieldNow()
  }
})

/**
 * Moves the TestClock forward by `duration`, stopping at every instant where
 * something is due so that runs start and end at their exact times.
 *
 * @since 0.1.0
 * @category testing
 */
export const advance = (duration: Duration.DurationInput): Effect.Effect<void> =>
  Effect.gen(function*() {
    const clock = yield* TestClock.testClock()
    // TestClock.testClock() hands over whatever clock is there: under the live one, every step would fail obscurely
    if (typeof (clock as Partial<TestClock.TestClock>).setTime !== "function") {
      return yield* Effect.dieMessage(
        "Testing.advance moves the TestClock, and there is none: provide TestContext.TestContext (it.effect does)"
      )
    }
    const end = (yield* clock.currentTimeMillis) + Duration.toMillis(duration)
    const state = yield* TestClockState.stateOf(clock)
    if (state === undefined) return yield* advanceBySetTime(end)
    yield* TestClockState.quietWarning(clock)
    yield* settle
    // one sleep at a time, in TestClock's order, each followed by what it sets going
    while (yield* TestClockState.wakeNext(state, end)) yield* settle
  })

// TestClock's own moves: each waits on real timers
const advanceBySetTime = (end: number): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* settle
    for (;;) {
      const now = yield* Clock.currentTimeMillis
      if (now >= end) return
      const sleeps = yield* TestClock.sleeps()
      let next = end
      for (const instant of sleeps) {
        if (instant > now && instant < next) next = instant
      }
      yield* TestClock.setTime(next)
      yield* settle
    }
  })
