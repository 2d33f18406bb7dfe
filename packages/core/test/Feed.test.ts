/**
 * The run feed's named consumers on the memory store, under TestClock: what
 * a consumer does when the store stops answering its renewals.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Schema, TestClock } from "effect"
import { Clockwork, Job, JobStore, Scheduler, Testing } from "../src/index.js"
import { captureLogs } from "./support/logs.js"

const noop = Job.make({ name: "noop", payload: Schema.Struct({}), run: () => Effect.void })

describe("a named consumer", () => {
  it.scoped("whose hold the store stops renewing stops its batch when its lease runs out", () => {
    const { lines, logger } = captureLogs()
    return Effect.gen(function*() {
      const store = yield* JobStore.makeMemory
      // the path to the store goes silent after the consumer first takes its name
      let holds = 0
      const silent: JobStore.JobStore = {
        ...store,
        holdConsumer: (hold) => holds++ === 0 ? store.holdConsumer(hold) : Effect.never
      }
      const app = Clockwork.layer([noop]).pipe(Layer.provide(Layer.succeed(JobStore.JobStore, silent)))
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(noop, {})
        yield* Testing.advance("1 second")
        const batch = { started: 0, stopped: 0 }
        yield* Effect.forkScoped(Scheduler.consume(
          { name: "audit", startAt: "start", lease: "3 seconds", pollInterval: "100 millis" },
          () =>
            Effect.sync(() => void batch.started++).pipe(
              Effect.zipRight(Effect.sleep("1 minute")),
              Effect.onInterrupt(() => Effect.sync(() => void batch.stopped++))
            )
        ))
        yield* Testing.settle
        expect(batch.started).toBe(1)
        yield* TestClock.adjust("2900 millis")
        yield* Testing.settle
        expect(batch.stopped).toBe(0)
        // from 3 s on, another instance may hold the name and hand the same batch on
        yield* TestClock.adjust("100 millis")
        yield* Testing.settle
        expect(batch.stopped).toBe(1)
        expect(lines.filter((line) => line.includes("could not renew its hold on the name"))).toHaveLength(1)
      }).pipe(Effect.provide(app), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    })
  })
})
