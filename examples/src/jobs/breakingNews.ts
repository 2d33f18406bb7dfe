/**
 * The breaking-news check (`schedule_periodic` with a fixed UUID in the rq
 * scheduler): a periodic job under a stable id, so restarts never schedule it
 * twice, its interval read from BREAKING_NEWS_INTERVAL_SECONDS. By the seed's
 * convention a negative interval disables it (the stored schedule is removed,
 * with a warning); zero or a malformed value is an error.
 */
import { Job, Scheduler } from "@clockwork/core"
import { Config, Effect, Schema } from "effect"

export const BreakingNewsCheck = Schema.Struct({
  feed: Schema.String
})

export const BreakingNewsChecked = Schema.Struct({
  alerts: Schema.Int
})

export const breakingNews = Job.make({
  name: "breaking-news",
  payload: BreakingNewsCheck,
  success: BreakingNewsChecked,
  timeout: "5 seconds",
  // a tick that comes while the previous check still runs is dropped
  overlap: "skip",
  run: ({ feed }, ctx) =>
    Effect.gen(function*() {
      yield* Effect.sleep("100 millis")
      yield* ctx.metrics({ checked: 1 })
      yield* Effect.log(`checked ${feed}: nothing breaking`)
      return { alerts: 0 }
    })
})

export const breakingNewsScheduleId = "cc1dface-9213-4eed-8cb2-0edba6b2159c"

export const intervalVariable = "BREAKING_NEWS_INTERVAL_SECONDS"

/**
 * The interval in seconds: 10 when the variable is unset. `withDefault` only
 * covers a missing value, so a malformed one is still an error.
 */
export const intervalSeconds = Config.number(intervalVariable).pipe(Config.withDefault(10))

/**
 * Schedules the check every `intervalSeconds`; `None` when it is disabled.
 */
export const scheduleBreakingNews = Scheduler.scheduleFromConfig(breakingNewsScheduleId, breakingNews, {
  interval: intervalSeconds,
  payload: { feed: "wire/breaking" }
})
