/**
 * What every benchmarked system offers the scenarios: the same no-op job
 * (payload `{ i }`) enqueued one at a time or in bulk, a worker that reports
 * each job as it starts, and a way to tell when the queue is drained. Each
 * system keeps its tables in its own schema of the one PostgreSQL.
 */

/** A started worker. */
export interface Worker {
  /** stops it and waits until it has stopped */
  readonly stop: () => Promise<void>
}

/** Called from inside the job, first thing, with the job's payload. */
export type OnRun = (i: number) => void

export interface System {
  readonly name: string
  /** the PostgreSQL schema holding its tables */
  readonly schema: string
  /** how this system is configured, for the report */
  readonly settings: string
  /** drops and recreates the system's schema (its own migrations) */
  readonly install: () => Promise<void>
  /** empties the system's tables (jobs, history, schedules) */
  readonly empty: () => Promise<void>
  /** enqueues one no-op job per payload in one call; due at `at` (default: now) */
  readonly enqueueMany: (payloads: ReadonlyArray<number>, at?: Date) => Promise<void>
  /** enqueues one no-op job; due at `at` (default: now) */
  readonly enqueue: (i: number, at?: Date) => Promise<void>
  /**
   * stores `count` cron schedules of the no-op job (daily, in assorted time
   * zones); undefined where the system keeps no schedules in the database
   */
  readonly storeCronSchedules: ((count: number) => Promise<void>) | undefined
  /** starts a worker (everything a production process would run) */
  readonly startWorker: (onRun: OnRun) => Promise<Worker>
  /** true while a job is queued, running, or finished but not yet recorded */
  readonly busy: () => Promise<boolean>
  /** closes connections */
  readonly close: () => Promise<void>
}

/** The systems by the names used on the command line and in the report. */
export const systemNames = ["clockwork", "graphile-worker", "pg-boss"] as const
export type SystemName = (typeof systemNames)[number]

/** Where to connect and which schemas to use. */
export interface Connection {
  readonly url: string
  /** prefix of the schemas (one per system): one per bench run, so runs at the same time never touch each other's tables */
  readonly schemaPrefix: string
}

/** Time zones for the stored cron schedules: the same expression lands at different instants. */
export const timeZones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"] as const

/**
 * A daily cron in `timeZone` at an assorted minute of the hour that starts
 * twelve hours from now: the schedules are stored and evaluated like any
 * daily schedule, but none fires while the scale scenario watches a worker
 * idle.
 */
export const cronExpression = (n: number, timeZone: string) => {
  const later = new Date(Date.now() + 12 * 60 * 60 * 1000)
  const hour = Number(new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", hourCycle: "h23" }).format(later))
  return `${n % 60} ${hour} * * *`
}

/** Wall-clock milliseconds with sub-millisecond precision. */
export const nowMs = () => performance.timeOrigin + performance.now()
