import { Clockwork, JobStore, Scheduler } from "@clockwork/core"
import { WorkerPool } from "@clockwork/node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { scrapeMeetings } from "../src/jobs/scrapeMeetings.js"

describe("scrape-meetings", () => {
  // a real worker thread and the real clock
  it.scopedLive("parses in a worker thread and records lines added / processed", () =>
    Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(scrapeMeetings, { pages: 3 })
      const result = yield* Scheduler.result(handle)
      // every 7th line of each 2,000-line page is new: 286 a page
      expect(result).toEqual({ linesAdded: 858, linesProcessed: 6_000 })
      const [record] = yield* Scheduler.history({ runId: handle.id })
      expect(record!.status).toBe("succeeded")
      expect(record!.metrics).toEqual({ linesAdded: 858, linesProcessed: 6_000 })
    }).pipe(
      Effect.provide(Clockwork.layer([scrapeMeetings]).pipe(
        Layer.provide(JobStore.layerMemory),
        Layer.provide(WorkerPool.layer({ size: 1, preload: [scrapeMeetings] }))
      ))
    ), 30_000)
})
