import { Clockwork, Job, type JobStore, Scheduler, Trigger } from "@clockwork/core"
import { run as runEngine } from "@clockwork/core/conformance/clockwork"
import { run as runWorkflows } from "@clockwork/core/conformance/workflow"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schedule, Schema } from "effect"
import { freshPgliteStore, freshStore, hasDatabase, useSharedPglite } from "./utils.js"

const double = Job.make({
  name: "double",
  payload: Schema.Struct({ n: Schema.Number }),
  success: Schema.Struct({ doubled: Schema.Number }),
  run: ({ n }) => Effect.succeed({ doubled: n * 2 })
})

/** The engine end to end on a store, with the live clock. */
const onStore = (store: Layer.Layer<JobStore.JobStore, unknown>) => {
  const App = Clockwork.layer([double]).pipe(Layer.provideMerge(store))

  it.scopedLive("an enqueued run is claimed, run and its typed result returned", () =>
    Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(double, { n: 21 })
      expect(yield* Scheduler.result(handle)).toEqual({ doubled: 42 })
      const [record] = yield* Scheduler.history({ runId: handle.id })
      expect(record?.status).toBe("succeeded")
      expect(record?.result).toEqual({ doubled: 42 })
      expect((yield* Scheduler.getRun(handle.id)).state).toBe("succeeded")
    }).pipe(Effect.provide(App)), 20_000)

  it.scopedLive("a schedule fires through the ticker and its run is recorded", () =>
    Effect.gen(function*() {
      yield* Scheduler.schedule("double-now", double, { trigger: Trigger.now, payload: { n: 4 } })
      const [record] = yield* Scheduler.history({ scheduleId: "double-now" }).pipe(
        Effect.filterOrFail((rows) => rows.length > 0, () => "not recorded yet"),
        Effect.retry(Schedule.spaced("50 millis")),
        Effect.timeout("10 seconds")
      )
      expect(record?.status).toBe("succeeded")
      expect(record?.result).toEqual({ doubled: 8 })
    }).pipe(Effect.provide(App)), 20_000)
}

describe.runIf(hasDatabase)("Clockwork on PostgreSQL", () => {
  onStore(freshStore())
  runEngine("PostgreSQL", freshStore())
  runWorkflows("PostgreSQL", freshStore())
})

describe("Clockwork on PGlite", () => {
  useSharedPglite()
  onStore(freshPgliteStore())
  runEngine("PGlite", freshPgliteStore())
  runWorkflows("PGlite", freshPgliteStore())
})
