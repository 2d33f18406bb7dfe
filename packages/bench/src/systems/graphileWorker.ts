/**
 * graphile-worker, tuned as its performance page recommends: 24 concurrent
 * jobs on a pool of 25 connections, a local queue of 500, and batched
 * completion and failure (`completeJobBatchDelay` / `failJobBatchDelay` 0).
 * Enqueues go through `WorkerUtils` (`addJob`, `addJobs`).
 */
import { Logger, makeWorkerUtils, run, type WorkerUtils } from "graphile-worker"
import pg from "pg"
import * as Db from "../db.js"
import type { Connection, OnRun, System } from "../system.js"

const tuning = {
  concurrentJobs: 24,
  maxPoolSize: 25,
  localQueue: { size: 500 },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0
} as const

// its info lines (worker started, stopped) would drown the progress lines
const quiet = new Logger(() => (level, message) => {
  if (level === "error") console.error(`graphile-worker: ${message}`)
})

/** The graphile-worker system, on its own schema. */
export const make = (connection: Connection): System => {
  const schema = `${connection.schemaPrefix}graphile_worker`
  const admin = Db.connect(connection.url)
  const pool = new pg.Pool({ connectionString: connection.url, max: tuning.maxPoolSize })
  // graphile-worker checks that a pool it is handed reports its errors
  pool.on("error", (error) => console.error(`graphile-worker pool: ${error.message}`))
  pool.on("connect", (client) => client.on("error", (error) => console.error(`graphile-worker client: ${error.message}`)))
  let utils: WorkerUtils | undefined

  const workerUtils = async () => {
    utils ??= await makeWorkerUtils({ pgPool: pool, schema, logger: quiet })
    return utils
  }

  return {
    name: "graphile-worker",
    schema,
    settings: `concurrentJobs ${tuning.concurrentJobs}, pool of ${tuning.maxPoolSize}, ` +
      `localQueue.size ${tuning.localQueue.size}, completeJobBatchDelay ${tuning.completeJobBatchDelay}, ` +
      `failJobBatchDelay ${tuning.failJobBatchDelay}, pollInterval 2000 (default)`,
    install: async () => {
      await Db.dropSchema(admin, schema)
      await (await workerUtils()).migrate()
    },
    empty: async () => {
      await admin.query(`truncate ${Db.ident(schema)}._private_jobs, ${Db.ident(schema)}._private_job_queues`)
    },
    enqueueMany: async (payloads, at) => {
      await (await workerUtils()).addJobs(
        payloads.map((i) => at === undefined ? { identifier: "noop", payload: { i } } : { identifier: "noop", payload: { i }, runAt: at })
      )
    },
    enqueue: async (i, at) => {
      await (await workerUtils()).addJob("noop", { i }, at === undefined ? undefined : { runAt: at })
    },
    // its crontab lives in code and in memory, not in a table
    storeCronSchedules: undefined,
    startWorker: async (onRun: OnRun) => {
      const runner = await run({
        pgPool: pool,
        schema,
        logger: quiet,
        noHandleSignals: true,
        concurrency: tuning.concurrentJobs,
        preset: { worker: tuning },
        taskList: {
          noop: async (payload) => {
            onRun((payload as { readonly i: number }).i)
          }
        }
      })
      return { stop: () => runner.stop() }
    },
    busy: () => Db.exists(admin, `select 1 from ${Db.ident(schema)}._private_jobs`),
    close: async () => {
      await utils?.release()
      await pool.end()
      await admin.end()
    }
  }
}

