/**
 * The bench's no-op job, three ways: a fiber job, a worker job served with
 * an Effect handler (noop.worker.ts) and a worker job served by a plain
 * function (noop.worker.mjs). Same Schemas for all three.
 */
import { Job } from "@clockwork/core"
import { Effect, Schema } from "effect"
import { WorkerJob } from "../src/index.js"

const payload = Schema.Struct({ i: Schema.Number })
const success = Schema.Struct({ i: Schema.Number })

export const inFiber = Job.make({ name: "noop-fiber", payload, success, run: ({ i }) => Effect.succeed({ i }) })

export const inWorker = WorkerJob.make({
  name: "noop-worker",
  worker: new URL("./noop.worker.ts", import.meta.url),
  payload,
  success
})

export const inWorkerPlain = WorkerJob.make({
  name: "noop-worker-plain",
  worker: new URL("./noop.worker.mjs", import.meta.url),
  payload,
  success
})
