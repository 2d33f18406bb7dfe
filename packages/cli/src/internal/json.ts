/**
 * The JSON shapes of `--json` output: instants as ISO 8601 strings, absent
 * values as null, so scripts read the same keys every time.
 */
import type { JobStore, Journal, Run } from "@clockwork/core"
import { Trigger } from "@clockwork/core"
import { iso } from "./output.js"

const error = (value: Run.RunError | undefined) =>
  value === undefined ? null : { tag: value.tag, message: value.message, cause: value.cause }

/** A schedule. */
export const schedule = (s: JobStore.ScheduleRecord) => ({
  id: s.id,
  job: s.jobName,
  trigger: Trigger.describe(s.trigger),
  payload: s.payload ?? null,
  paused: s.paused,
  overlap: s.overlap,
  misfire: s.misfire._tag,
  nextFireAt: iso(s.nextFireAt),
  lastFireAt: iso(s.lastFireAt),
  createdAt: iso(s.createdAt),
  updatedAt: iso(s.updatedAt)
})

/** A run as the queue knows it. */
export const run = (r: Run.Run) => ({
  id: r.id,
  job: r.jobName,
  state: r.state,
  attempt: r.attempt,
  scheduleId: r.scheduleId ?? null,
  runAt: iso(r.runAt),
  scheduledFor: iso(r.scheduledFor),
  createdAt: iso(r.createdAt),
  priority: r.priority,
  key: r.key ?? null,
  then: r.then,
  workerId: r.workerId ?? null,
  payload: r.payload ?? null,
  result: r.result ?? null,
  error: error(r.error)
})

/** One attempt from the history. */
export const attempt = (h: Run.RunRecord) => ({
  runId: h.runId,
  job: h.jobName,
  attempt: h.attempt,
  status: h.status,
  scheduleId: h.scheduleId ?? null,
  scheduledFor: iso(h.scheduledFor),
  startedAt: iso(h.startedAt),
  finishedAt: iso(h.finishedAt),
  durationMs: h.durationMs,
  workerId: h.workerId ?? null,
  retryAt: iso(h.retryAt),
  metrics: h.metrics ?? null,
  result: h.result ?? null,
  error: error(h.error)
})

/** A workflow run's journal entry. */
export const step = (s: Journal.StepRecord) => ({
  name: s.name,
  kind: s.kind,
  status: s.status,
  attempt: s.attempt,
  startedAt: new Date(s.startedAt).toISOString(),
  finishedAt: s.finishedAt === undefined ? null : new Date(s.finishedAt).toISOString(),
  wakeAt: s.wakeAt === undefined ? null : new Date(s.wakeAt).toISOString(),
  childRunId: s.childRunId ?? null,
  result: s.result ?? null,
  error: error(s.error)
})

/** A live runner. */
export const worker = (w: JobStore.WorkerRecord) => ({
  id: w.id,
  startedAt: iso(w.startedAt),
  heartbeatAt: iso(w.heartbeatAt),
  expiresAt: iso(w.expiresAt),
  concurrency: w.info.concurrency,
  running: w.info.running,
  jobs: w.info.jobs
})
