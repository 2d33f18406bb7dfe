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
import type { Runner } from "./Runner.js"
import type { Scheduler } from "./Scheduler.js"
import type * as Trigger from "./Trigger.js"

/**
 * The app layer on a fresh in-memory store. By default its runner has no
 * shutdown grace period (runs still going when the test's scope closes are
 * interrupted at once, since nothing moves the TestClock during shutdown),
 * there is no reaper (one process: no worker can die alone), and no
 * retention (a test that moves the clock by months keeps its history).
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
    Layer.provideMerge(JobStore.layerMemory)
  )

/**
 * Lets every fiber that can make progress at the current instant do so (the
 * ticker, the runner, job fibers, the completion writer) without moving the
 * clock.
 *
 * @since 0.1.0
 * @category testing
 */
export const settle: Effect.Effect<void> = Effect.gen(function*() {
  // Each yield lets every fiber that is ready take one more step (the
  // scheduler is FIFO), so a chain ticker → store → runner → job → writer
  // needs a few dozen; TestClock.adjust(0) also wakes sleeps due right now but
  // waits on a real timer, so it is used sparingly.
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
    const end = (yield* Clock.currentTimeMillis) + Duration.toMillis(duration)
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
