/**
 * The breaking-news check (`schedule_periodic` with a fixed UUID calling
 * `job_request` in the rq scheduler): an HTTP request job that POSTs to
 * `${API_BASE_URL}/v1/jobs/breaking-news`, under a stable id so restarts never
 * schedule it twice, every BREAKING_NEWS_INTERVAL_SECONDS. By the seed's
 * convention a negative interval disables it (the stored schedule is removed,
 * with a warning); zero or a malformed value is an error.
 */
import { Scheduler } from "@clockwork/core"
import { HttpJob } from "@clockwork/http"
import { Config, Schema } from "effect"

export const breakingNews = HttpJob.make({
  name: "breaking-news",
  method: "POST",
  path: "/v1/jobs/breaking-news",
  success: Schema.Struct({ alerts: Schema.Int }),
  // the request is aborted (and its connection closed) when the run times out
  timeout: "5 seconds",
  // a tick that comes while the previous request is still out is dropped
  overlap: "skip"
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
  payload: {}
})
