import { Job, Scheduler } from "@clockwork/core"
import { assert, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Schema } from "effect"
import { AsyncJob } from "../src/index.js"
import { app, testServer } from "./support/server.js"

class CrmDown extends Schema.TaggedError<CrmDown>()("CrmDown", { reason: Schema.String }) {}

describe("AsyncJob", () => {
  it.scopedLive("awaits the promise and stores its value", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      const check = AsyncJob.make({
        name: "check",
        payload: Schema.Struct({ feed: Schema.String }),
        success: Schema.Struct({ alerts: Schema.Int }),
        run: async ({ feed }, { signal }) => {
          const response = await fetch(`${server.url}/v1/feeds/${feed}`, { signal })
          return (await response.json()) as { alerts: number }
        }
      })
      const result = yield* Scheduler.run(check, { feed: "world" }).pipe(Effect.provide(app([check])))
      expect(result).toEqual({ alerts: 2 })
      expect(server.requests.map((r) => r.url)).toEqual(["/v1/feeds/world"])
    }))

  it.scopedLive("a timeout aborts the signal, and the fetch under it closes its connection", () =>
    Effect.gen(function*() {
      const server = yield* testServer
      const signals: Array<AbortSignal> = []
      const hanging = AsyncJob.make({
        name: "hanging",
        payload: Schema.Struct({}),
        timeout: "300 millis",
        retry: Job.noRetry,
        run: async (_, { signal }) => {
          signals.push(signal)
          await fetch(`${server.url}/hang`, { signal })
        }
      })
      yield* Effect.gen(function*() {
        const handle = yield* Scheduler.enqueue(hanging, {})
        yield* Deferred.await(server.hangArrived)
        expect(signals.map((s) => s.aborted)).toEqual([false])
        const failure = yield* Effect.flip(Scheduler.result(handle))
        assert(failure._tag === "RunFailed")
        expect(failure.state).toBe("timed_out")
        expect(failure.error?.tag).toBe("JobTimeout")
        expect(signals.map((s) => s.aborted)).toEqual([true])
        const closedAt = yield* Deferred.await(server.hangClosed).pipe(
          Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => "the server's socket is still open" })
        )
        const [record] = yield* Scheduler.history({ runId: handle.id })
        assert(record !== undefined)
        expect(record.status).toBe("timed_out")
        expect(closedAt - record.finishedAt.epochMillis).toBeLessThan(250)
      }).pipe(Effect.provide(app([hanging])))
    }))

  it.live("a rejection is a typed failure, retried on the job's policy", () =>
    Effect.gen(function*() {
      let calls = 0
      const failing = AsyncJob.make({
        name: "failing",
        payload: Schema.Struct({}),
        retry: Job.noRetry,
        run: async () => {
          calls++
          throw new Error("the CRM is down")
        }
      })
      const failure = yield* Effect.flip(Scheduler.run(failing, {})).pipe(Effect.provide(app([failing])))
      assert(failure._tag === "RunFailed")
      expect(failure.state).toBe("failed")
      expect(failure.error?.tag).toBe("PromiseRejected")
      expect(failure.error?.message).toBe("the CRM is down")
      expect(calls).toBe(1)

      const error = yield* Effect.flip(AsyncJob.fromPromise(() => Promise.reject(new TypeError("bad input"))))
      assert(error instanceof AsyncJob.PromiseRejected)
      expect(error.message).toBe("bad input")
      expect(error.cause).toBeInstanceOf(TypeError)
    }))

  it.live("catch turns a rejection into the job's own error", () =>
    Effect.gen(function*() {
      const failing = AsyncJob.make({
        name: "failing",
        payload: Schema.Struct({}),
        retry: Job.noRetry,
        run: () => Promise.reject(new Error("503")),
        catch: (error) => new CrmDown({ reason: String(error) })
      })
      const failure = yield* Effect.flip(Scheduler.run(failing, {})).pipe(Effect.provide(app([failing])))
      assert(failure._tag === "RunFailed")
      expect(failure.error?.tag).toBe("CrmDown")
    }))
})
