/**
 * The worker role: the runner (claims runs and executes them, renewing their
 * leases while they run) and a reaper (re-queues the runs of a worker that
 * died, once their lease has expired), no ticker. Start as many as needed, on
 * as many machines. Its id, recorded with every run it executes, is WORKER_ID,
 * else the first argument, else the host name and pid.
 *
 *   DATABASE_URL=... WORKER_ID=worker-1 node --import tsx --conditions=source src/multinode/worker.ts
 */
import { Clockwork } from "@clockwork/core"
import { Config, Effect, Layer } from "effect"
import { hostname } from "node:os"
import * as Deployment from "./deployment.js"
import { jobs } from "./jobs.js"

const workerId = Config.string("WORKER_ID").pipe(
  Config.withDefault(process.argv[2] ?? `${hostname()}-${process.pid}`)
)

/** Runs at once in this process. */
const concurrency = Config.integer("WORKER_CONCURRENCY").pipe(Config.withDefault(4))

const WorkerRole = Layer.unwrapEffect(Effect.gen(function*() {
  const id = yield* workerId
  const runsAtOnce = yield* concurrency
  return Layer.mergeAll(
    Clockwork.layerWorker(jobs, {
      // a run of a worker that stops heartbeating is re-queued 20 s after its last renewal
      // (the default, 5 minutes, suits long jobs; renewals come every third of it)
      runner: { workerId: id, concurrency: runsAtOnce, lease: "20 seconds", shutdownGrace: "10 seconds" }
    }),
    Clockwork.layerReaper({ interval: "5 seconds" })
  ).pipe(
    Layer.tap(() =>
      Effect.zipRight(
        Effect.log(`${id} takes runs of ${jobs.map((job) => job.name).join(", ")}, ${runsAtOnce} at a time`),
        Deployment.ready
      )
    )
  )
})).pipe(Layer.provide(Deployment.Store(`clockwork-worker`)))

Deployment.runMain(Layer.launch(WorkerRole))
