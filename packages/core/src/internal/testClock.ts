import { Chunk, Deferred, Effect, Ref, TestClock } from "effect"

/** A TestClock's instant and its sleeps. */
export type State = Ref.Ref<TestClock.Data>

/**
 * The state of Effect's TestClock, when `clock` is one whose state can be
 * reached. TestClock's own `adjust` and `setTime` wait, before each sleep they
 * wake, for the test's fibers to suspend, polling with three real 0 ms timers
 * (a few milliseconds each time): moving a daily job through a year that way
 * took 24 s. Testing.advance waits for that itself, without timers, so it
 * moves the clock through this state; the state is not part of TestClock's
 * declared interface, hence the check of its shape, and `undefined` (so the
 * caller uses `TestClock.setTime`) when an Effect version keeps it elsewhere.
 */
export const stateOf = (clock: TestClock.TestClock): Effect.Effect<State | undefined> => {
  const state: unknown = (clock as { readonly clockState?: unknown }).clockState
  if (typeof state !== "object" || state === null || !(Ref.RefTypeId in state)) return Effect.succeed(undefined)
  return Effect.map(Ref.get(state as Ref.Ref<unknown>), (data) =>
    typeof data === "object" && data !== null && "instant" in data && typeof data.instant === "number" &&
      "sleeps" in data && Chunk.isChunk(data.sleeps)
      ? state as State
      : undefined)
}

/**
 * Wakes the earliest sleep due at or before `end`, with the clock set to its
 * instant, as TestClock does (of sleeps due at one instant, the one begun last
 * first); when none is due, sets the clock to `end`. Tells whether it woke one.
 */
export const wakeNext = (state: State, end: number): Effect.Effect<boolean> =>
  Effect.flatMap(
    Ref.modify(state, (data): [Deferred.Deferred<void> | undefined, TestClock.Data] => {
      let index = -1
      let instant = end
      let i = 0
      for (const [at] of data.sleeps) {
        if (at < instant || (index === -1 && at === instant)) {
          instant = at
          index = i
        }
        i++
      }
      if (index === -1) return [undefined, TestClock.makeData(end, data.sleeps)]
      const [, deferred] = Chunk.unsafeGet(data.sleeps, index)
      return [deferred, TestClock.makeData(instant, Chunk.remove(data.sleeps, index))]
    }),
    (deferred) => deferred === undefined ? Effect.succeed(false) : Effect.as(Deferred.succeed(deferred, undefined), true)
  )

const told = new WeakSet<TestClock.TestClock>()

/**
 * TestClock logs a warning when a test sleeps on it but never moves it with
 * `adjust` or `setTime`; one such move, which wakes nothing, stops it for
 * good. Done once per TestClock, as each costs real timers.
 */
export const quietWarning = (clock: TestClock.TestClock): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (told.has(clock)) return Effect.void
    told.add(clock)
    return clock.adjust(0)
  })
