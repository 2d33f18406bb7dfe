/**
 * pg-boss 12 with its speed settings: several workers per process
 * (`localConcurrency`), batches of 100, the smallest polling interval it
 * accepts (0.5 s), back-to-back fetches while batches come back full
 * (`burstWhenBatchFull`), and LISTEN/NOTIFY wake-ups (`useListenNotify`
 * plus a `notify` queue). Bulk enqueue is `insert`.
 */
import { inspect } from "node:util"
import { PgBoss } from "pg-boss"
import * as Db from "../db.js"
import { type Connection, cronExpression, type OnRun, type System, timeZones } from "../system.js"

const queue = "noop"
const cronQueue = "noop-cron"
const work = {
  localConcurrency: 4,
  batchSize: 100,
  pollingIntervalSeconds: 0.5,
  notifyPollingIntervalSeconds: 0.5,
  burstWhenBatchFull: true
} as const

/**
 * The pg-boss system, on its own schema. `cron` runs its timekeeper (the cron
 * pass over every stored schedule, every 30 s): on in a worker process, off
 * in the bench's own process, which only enqueues and seeds (and must not
 * take the pass from the worker it measures: instances take turns).
 */
export const make = (connection: Connection, cron = false): System => {
  const schema = `${connection.schemaPrefix}pgboss`
  const admin = Db.connect(connection.url)
  let boss: PgBoss | undefined

  const started = async () => {
    if (boss === undefined) {
      const instance = new PgBoss({
        connectionString: connection.url,
        schema,
        useListenNotify: true,
        max: 10,
        schedule: cron
      })
      instance.on("error", (error) => console.error(`pg-boss: ${error instanceof Error ? error.message : inspect(error)}`))
      await instance.start()
      boss = instance
    }
    return boss
  }

  return {
    name: "pg-boss",
    schema,
    settings: `useListenNotify, queue with notify; work(): localConcurrency ${work.localConcurrency}, ` +
      `batchSize ${work.batchSize}, pollingIntervalSeconds ${work.pollingIntervalSeconds}, ` +
      `notifyPollingIntervalSeconds ${work.notifyPollingIntervalSeconds}, burstWhenBatchFull; pool of 10; ` +
      `cron timekeeper ${cron ? "on" : "off (on in the scale scenario's worker process)"}`,
    install: async () => {
      await Db.dropSchema(admin, schema)
      const b = await started()
      await b.createQueue(queue, { notify: true })
      await b.createQueue(cronQueue)
    },
    empty: async () => {
      await admin.query(`truncate ${Db.ident(schema)}.job, ${Db.ident(schema)}.schedule`)
    },
    enqueueMany: async (payloads, at) => {
      await (await started()).insert(
        queue,
        payloads.map((i) => at === undefined ? { data: { i } } : { data: { i }, startAfter: at })
      )
    },
    enqueue: async (i, at) => {
      await (await started()).send(queue, { i }, at === undefined ? {} : { startAfter: at })
    },
    storeCronSchedules: async (count) => {
      const b = await started()
      let next = 0
      const one = async (): Promise<void> => {
        const n = next++
        if (n >= count) return
        const tz = timeZones[n % timeZones.length]!
        await b.schedule(cronQueue, cronExpression(n, tz), { i: n }, { key: `cron-${n}`, tz })
        return one()
      }
      await Promise.all(Array.from({ length: 8 }, one))
    },
    startWorker: async (onRun: OnRun) => {
      const b = await started()
      await b.work<{ readonly i: number }>(queue, work, async (jobs) => {
        for (const job of jobs) onRun(job.data.i)
      })
      return { stop: () => b.offWork(queue, { wait: true }) }
    },
    busy: () => Db.exists(admin, `select 1 from ${Db.ident(schema)}.job where name = $1 and state < 'completed'`, [queue]),
    close: async () => {
      await boss?.stop({ graceful: true, close: true })
      await admin.end()
    }
  }
}
