import { Effect } from "effect"

/**
 * The longest a JavaScript timer can wait: 2^31 − 1 ms, about 24.8 days.
 * Effect's live clock treats a longer sleep as one that never ends, so a
 * monthly schedule, or a run due in two months, would never wake its loop.
 */
export const maxSleepMillis = 2 ** 31 - 1

/**
 * Sleeps `millis`, or the longest a timer can wait if that is less: the
 * loops that use it (ticker, runner, deadlines) look at the clock again when
 * they wake, and sleep on if their instant has not come.
 */
export const sleepAtMost = (millis: number): Effect.Effect<void> => Effect.sleep(Math.min(millis, maxSleepMillis))
