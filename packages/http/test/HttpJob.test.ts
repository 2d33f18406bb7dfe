import { Job, Run, Scheduler } from "@clockwork/core"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { assert, describe, expect, it } from "@effect/vitest"
import { Config, Deferred, Effect, Schedule, Schema } from "effect"
import { HttpJob } from "../src/index.js"
import { app, closedPort, missingBody, testServer, withEnv } from "./support/server.js"

const Alerts = Schema.Struct({ alerts: Schema.Int })

const quickRetry = Schedule.spaced("20 millis").pipe(Schedule.intersect(Schedule.recurs(3)))

const directContext: Job.JobContext = {
  runId: Run.RunId.make("direct"),
  jobName: "direct",
  attempt: 1,
  scheduledFor: new Date(0),
  scheduleId: undefined,
  progress: () => Effect.void,
  metrics: () => Effect.void
}

/** Runs a job's Effect outside the app, to look at its typed error. */
const failureOf = <P>(job: Job.Job<P, any, HttpJob.HttpJobError, HttpClient.HttpClient>, payload: P) =>
  Effect.flip(job.run(payload, directContext)).pipe(Effect.provide(FetchHttpClient.layer))

describe("HttpJob", () => {
  it.scopedLive("sends the request built from the payload and stores the decoded JSON result", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      const refresh = HttpJob.make({
        name: "refresh-feed",
        method: "POST",
        payload: Schema.Struct({ feed: Schema.String }),
        path: ({ feed }) => `/v1/feeds/${encodeURIComponent(feed)}/refresh`,
        query: { force: "true" },
        headers: ({ feed }) => ({ "x-feed": feed }),
        body: ({ feed }) => ({ feed, since: 10 }),
        success: Alerts,
        timeout: "2 seconds"
      })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(refresh, { feed: "wire/breaking" })
        expect(yield* Scheduler.result(handle)).toEqual({ alerts: 2 })
        const [record] = yield* Scheduler.history({ runId: handle.id })
        assert(record !== undefined)
        expect(record.status).toBe("succeeded")
        expect(record.result).toEqual({ alerts: 2 })
        expect(record.metrics).toEqual({ status: 200 })
      }).pipe(Effect.provide(app([refresh])), withEnv({ API_BASE_URL: server.url }))

      expect(server.requests).toHaveLength(1)
      const [seen] = server.requests
      expect(seen?.method).toBe("POST")
      expect(seen?.url).toBe("/v1/feeds/wire%2Fbreaking/refresh?force=true")
      expect(seen?.headers["x-feed"]).toBe("wire/breaking")
      expect(seen?.headers["content-type"]).toBe("application/json")
      expect(seen?.headers["accept"]).toBe("application/json")
      expect(JSON.parse(seen?.body ?? "")).toEqual({ feed: "wire/breaking", since: 10 })
    }))

  it.scopedLive("retries a 500 on the job's retry policy and then succeeds", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      const flaky = HttpJob.make({
        name: "flaky",
        path: "/flaky",
        success: Alerts,
        retry: HttpJob.retryTransient(quickRetry)
      })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(flaky, {})
        expect(yield* Scheduler.result(handle)).toEqual({ alerts: 1 })
        const attempts = yield* Scheduler.history({ runId: handle.id })
        expect(attempts.map((r) => [r.attempt, r.status])).toEqual([[2, "succeeded"], [1, "failed"]])
        expect(attempts[1]?.error?.tag).toBe("HttpStatusError")
        expect(attempts[1]?.error?.message).toBe(`GET ${server.url}/flaky answered 500: database is warming up`)
      }).pipe(Effect.provide(app([flaky])), withEnv({ API_BASE_URL: server.url }))
      expect(server.hits("/flaky")).toBe(2)
    }))

  it.scopedLive("a timeout interrupts the run and closes the request's connection", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      const hanging = HttpJob.make({ name: "hanging", path: "/hang", timeout: "300 millis", retry: Job.noRetry })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(hanging, {})
        yield* Deferred.await(server.hangArrived)
        const failure = yield* Effect.flip(Scheduler.result(handle))
        assert(failure._tag === "RunFailed")
        expect(failure.state).toBe("timed_out")
        const [record] = yield* Scheduler.history({ runId: handle.id })
        assert(record !== undefined)
        expect(record.status).toBe("timed_out")
        expect(record.error?.tag).toBe("JobTimeout")
        expect(record.durationMs).toBeGreaterThanOrEqual(300)

        const closedAt = yield* Deferred.await(server.hangClosed).pipe(
          Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => "the server's socket is still open" })
        )
        // the abort happens while the run is interrupted, before its outcome is written
        expect(closedAt - record.finishedAt.epochMillis).toBeLessThan(250)
      }).pipe(Effect.provide(app([hanging])), withEnv({ API_BASE_URL: server.url }))
    }))

  it.scopedLive("cancelling a run aborts its request", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      const hanging = HttpJob.make({ name: "hanging", path: "/hang", timeout: "1 minute" })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(hanging, {})
        yield* Deferred.await(server.hangArrived)
        expect(yield* Scheduler.cancel(handle.id)).toBe("cancelled")
        yield* Deferred.await(server.hangClosed).pipe(
          Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => "the server's socket is still open" })
        )
        const [record] = yield* Scheduler.history({ runId: handle.id })
        expect(record?.status).toBe("cancelled")
      }).pipe(Effect.provide(app([hanging])), withEnv({ API_BASE_URL: server.url }))
    }))

  it.scopedLive("a refused connection fails the run with an error that names it", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const unreachable = HttpJob.make({
        name: "unreachable",
        baseUrl: Config.succeed(`http://127.0.0.1:${port}`),
        path: "/v1/jobs/breaking-news",
        retry: Job.noRetry
      })
      yield* Effect.gen(function*() {
        const failure = yield* Effect.flip(Scheduler.run(unreachable, {}))
        assert(failure._tag === "RunFailed")
        expect(failure.state).toBe("failed")
        expect(failure.error?.tag).toBe("HttpRequestError")
        expect(failure.error?.message).toContain(`GET http://127.0.0.1:${port}/v1/jobs/breaking-news failed`)
        expect(failure.error?.message).toContain("ECONNREFUSED")
      }).pipe(Effect.provide(app([unreachable])))

      const error = yield* failureOf(unreachable, {})
      assert(error instanceof HttpJob.HttpRequestError)
      expect(error.reason).toBe("Transport")
      expect(error.code).toBe("ECONNREFUSED")
      expect(HttpJob.isTransient(error)).toBe(true)
    }))

  it.scopedLive("follows a redirect", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      const moved = HttpJob.make({ name: "moved", path: "/old-news", success: Alerts, retry: Job.noRetry })
      const result = yield* Scheduler.run(moved, {}).pipe(
        Effect.provide(app([moved])),
        withEnv({ API_BASE_URL: server.url })
      )
      expect(result).toEqual({ alerts: 2 })
      expect(server.requests.map((r) => r.url)).toEqual(["/old-news", "/v1/jobs/breaking-news"])
    }))

  it.scopedLive("a non-2xx answer fails with its status and the start of its body, and a 4xx is not retried", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      // the default retry policy: only transient failures are retried
      const missing = HttpJob.make({ name: "missing", path: "/missing" })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(missing, {})
        const failure = yield* Effect.flip(Scheduler.result(handle))
        assert(failure._tag === "RunFailed")
        expect(failure.state).toBe("failed")
        expect(failure.error?.tag).toBe("HttpStatusError")
        expect(failure.error?.message).toContain(`GET ${server.url}/missing answered 404: no such feed: xxx`)
        const attempts = yield* Scheduler.history({ runId: handle.id })
        expect(attempts).toHaveLength(1)
        expect(attempts[0]?.retryAt).toBeUndefined()
      }).pipe(Effect.provide(app([missing])), withEnv({ API_BASE_URL: server.url }))
      expect(server.hits("/missing")).toBe(1)

      const error = yield* failureOf(missing, {}).pipe(withEnv({ API_BASE_URL: server.url }))
      assert(error instanceof HttpJob.HttpStatusError)
      expect(error.method).toBe("GET")
      expect(error.url).toBe(`${server.url}/missing`)
      expect(error.status).toBe(404)
      expect(error.body).toBe(`${missingBody.slice(0, 1000)}…`)
      expect(HttpJob.isTransient(error)).toBe(false)
    }))

  it.scopedLive("expectStatus and the success Schema decide what counts as success", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      const created = HttpJob.make({ name: "created", method: "POST", path: "/anything", expectStatus: 201 })
      const text = HttpJob.make({ name: "text", path: "/not-json", success: Alerts })
      const shapeless = HttpJob.make({
        name: "shapeless",
        path: "/anything",
        success: Schema.Struct({ id: Schema.String })
      })
      const errors = yield* Effect.all([failureOf(created, {}), failureOf(text, {}), failureOf(shapeless, {})]).pipe(
        withEnv({ API_BASE_URL: server.url })
      )
      expect(errors.map((error) => error._tag)).toEqual([
        "HttpStatusError",
        "InvalidResponseBody",
        "InvalidResponseBody"
      ])
      expect(errors[0]?.message).toBe(`POST ${server.url}/anything answered 200: {"alerts":2}`)
      expect(errors[1]?.message).toContain("not JSON")
      expect(errors[2]?.message).toContain(`["id"]`)
    }))

  it.scopedLive("the base URL comes from Config", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      const fromDefault = HttpJob.make({ name: "from-default", path: "/v1/jobs/breaking-news", success: Alerts })
      const fromOwn = HttpJob.make({
        name: "from-own",
        baseUrl: Config.string("NEWS_API_URL"),
        path: "jobs/breaking-news",
        success: Alerts
      })
      yield* Effect.gen(function*() {
        expect(yield* Scheduler.run(fromDefault, {})).toEqual({ alerts: 2 })
        expect(yield* Scheduler.run(fromOwn, {})).toEqual({ alerts: 2 })
      }).pipe(
        Effect.provide(app([fromDefault, fromOwn])),
        withEnv({ API_BASE_URL: server.url, NEWS_API_URL: `${server.url}/v1/` })
      )
      expect(server.requests.map((r) => r.url)).toEqual(["/v1/jobs/breaking-news", "/v1/jobs/breaking-news"])

      // unset: the run fails on the missing variable, and is not retried
      const failure = yield* Effect.flip(Scheduler.run(fromDefault, {})).pipe(
        Effect.provide(app([fromDefault])),
        withEnv({})
      )
      assert(failure._tag === "RunFailed")
      expect(failure.state).toBe("failed")
      expect(failure.error?.message).toContain("API_BASE_URL")
      expect(server.requests).toHaveLength(2)
    }))
})
