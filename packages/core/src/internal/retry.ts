import { Effect, type Schedule, ScheduleDecision, ScheduleIntervals } from "effect"

/**
 * When the next attempt of a failed run should start, or `undefined` when the
 * retry policy is exhausted. The policy's state cannot be stored, so it is
 * replayed from the start for `attempt` steps: pure schedules (exponential,
 * recurs, spaced) give the same delays, and jitter is drawn afresh.
 */
export const nextAttemptAt = (
  policy: Schedule.Schedule<unknown, unknown>,
  attempt: number,
  error: unknown,
  now: number
): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    let state = policy.initial
    let at: number | undefined
    for (let i = 0; i < attempt; i++) {
      const [next, , decision] = yield* policy.step(now, error, state)
      if (ScheduleDecision.isDone(decision)) return undefined
      state = next
      at = Math.max(now, ScheduleIntervals.start(decision.intervals))
    }
    return at
  })
