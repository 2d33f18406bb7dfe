/**
 * The queue per job: due, later and running runs, and the live workers that
 * can take them.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import type { WorkerRecord } from "./Worker.js"

/**
 * The queue of one job: how many of its runs wait, and how many run.
 *
 * @since 0.1.0
 * @category models
 */
export class QueueDepth extends Schema.Class<QueueDepth>("QueueDepth")({
  jobName: Schema.String,
  /** queued runs that are due */
  due: Schema.Number,
  /** queued runs due later */
  later: Schema.Number,
  running: Schema.Number,
  /** when the longest-waiting due run became due */
  oldestDueAt: Schema.optional(Schema.DateTimeUtcFromNumber)
}) {}

/**
 * The queue of one job together with the live workers that can take its runs.
 * A job with due runs and no such worker waits for one (in a rolling deploy, a
 * job that only the new version has).
 *
 * @since 0.1.0
 * @category models
 */
export class JobQueue extends Schema.Class<JobQueue>("JobQueue")({
  ...QueueDepth.fields,
  /** the ids of the live workers that register this job */
  workers: Schema.Array(Schema.String)
}) {}

/**
 * Joins the queue depths with the live workers: which workers can take each
 * job's runs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jobQueues = (
  depths: ReadonlyArray<QueueDepth>,
  workers: ReadonlyArray<WorkerRecord>
): ReadonlyArray<JobQueue> =>
  depths.map((depth) =>
    new JobQueue({
      ...depth,
      workers: workers.filter((worker) => worker.info.jobs.includes(depth.jobName)).map((worker) => worker.id)
    }, true)
  )
