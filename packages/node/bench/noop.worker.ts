import { Effect } from "effect"
import { WorkerJob } from "../src/index.js"
import { inWorker } from "./jobs.js"

WorkerJob.serve(inWorker, ({ i }) => Effect.succeed({ i }))
