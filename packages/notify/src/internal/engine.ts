import { Feed } from "@clockwork/core"
import type { RunRecord } from "@clockwork/core/Run"
import { Duration } from "effect"
import { Alert, Occurrence, type Reason } from "../Alert.js"
import type { Condition, Policy, Rules } from "../Rules.js"

interface Effective {
  readonly on: ReadonlyArray<Condition>
  readonly throttle: Duration.Duration | undefined
  readonly digest: Duration.Duration | undefined
  /** whose digest collects the job's alerts: the job's own, or the global one */
  readonly digestScope: string
}

const defaultOn: ReadonlyArray<Condition> = ["final_failure"]

/** A job's policy with what it does not set taken from the global one. */
export const effective = (rules: Rules, jobName: string): Effective => {
  const job: Policy | undefined = rules.jobs?.[jobName]
  const own = job !== undefined && (job.throttle !== undefined || job.digest !== undefined)
  const frequency = own ? job : rules
  return {
    on: job?.on ?? rules.on ?? defaultOn,
    throttle: frequency.throttle,
    digest: frequency.digest,
    digestScope: own ? `job:${jobName}` : "all"
  }
}

const failed = (record: RunRecord) =>
  record.status === "failed" || record.status === "timed_out" || record.status === "dead"

/** The reason an attempt is reported under, the most telling first; undefined when no condition holds. */
const reasonFor = (on: ReadonlyArray<Condition>, record: RunRecord, streak: number, recovered: boolean): Reason | undefined => {
  const final = Feed.isFinalFailure(record)
  if (final && on.some((c) => typeof c === "object" && c.consecutiveFailures === streak)) return "consecutive_failures"
  if (final && on.includes("final_failure")) return "final_failure"
  if (record.status === "timed_out" && on.includes("timeout")) return "timeout"
  if (failed(record) && on.includes("failed_attempt")) return "failed_attempt"
  if (recovered && on.includes("recovery")) return "recovery"
  return undefined
}

interface Throttle {
  readonly until: number
  readonly windowMs: number
  suppressed: number
}

interface Digest {
  readonly from: number
  readonly until: number
  readonly windowMs: number
  readonly occurrences: Array<Occurrence>
}

/**
 * The rules engine's state: streaks, throttle windows and open digests, in
 * memory. Every method takes the current instant, so it is a plain
 * computation (the public engine reads the Clock).
 */
export const make = (rules: Rules, dashboardUrl: string | undefined) => {
  const streaks = new Map<string, number>()
  const throttles = new Map<string, Throttle>()
  const digests = new Map<string, Digest>()
  const policies = new Map<string, Effective>()
  const policyOf = (jobName: string) => {
    let policy = policies.get(jobName)
    if (policy === undefined) {
      policy = effective(rules, jobName)
      policies.set(jobName, policy)
    }
    return policy
  }
  const base = dashboardUrl?.replace(/\/+$/, "")

  const occurrence = (record: RunRecord, reason: Reason, streak: number) =>
    new Occurrence({
      reason,
      jobName: record.jobName,
      runId: record.runId,
      attempt: record.attempt,
      status: record.status,
      ...(record.scheduleId === undefined ? {} : { scheduleId: record.scheduleId }),
      scheduledFor: record.scheduledFor,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      durationMs: record.durationMs,
      ...(record.error === undefined
        ? {}
        : { error: { tag: record.error.tag, message: record.error.message, cause: record.error.cause } }),
      ...(record.workerId === undefined ? {} : { workerId: record.workerId }),
      ...(reason === "consecutive_failures" || reason === "recovery" ? { consecutiveFailures: streak } : {}),
      ...(base === undefined ? {} : { link: `${base}/runs/${encodeURIComponent(record.runId)}` })
    })

  const due = (now: number): Array<Alert> => {
    const alerts: Array<Alert> = []
    for (const [jobName, throttle] of throttles) {
      if (throttle.until > now) continue
      throttles.delete(jobName)
      if (throttle.suppressed > 0) {
        alerts.push(
          new Alert({
            id: `suppressed:${jobName}:${throttle.until}`,
            kind: "suppressed",
            occurrences: [],
            suppressed: throttle.suppressed,
            jobName,
            windowMs: throttle.windowMs
          })
        )
      }
    }
    for (const [scope, digest] of digests) {
      if (digest.until > now) continue
      digests.delete(scope)
      alerts.push(
        new Alert({
          id: `digest:${scope}:${digest.from}`,
          kind: "digest",
          occurrences: digest.occurrences,
          suppressed: 0,
          windowMs: digest.windowMs
        })
      )
    }
    return alerts
  }

  const offerRecord = (record: RunRecord, now: number, alerts: Array<Alert>) => {
    const policy = policyOf(record.jobName)
    const before = streaks.get(record.jobName) ?? 0
    const streak = Feed.isFinalFailure(record) ? before + 1 : record.status === "succeeded" ? 0 : before
    if (streak !== before) streaks.set(record.jobName, streak)
    const recovered = record.status === "succeeded" && before > 0
    const reason = reasonFor(policy.on, record, recovered ? before : streak, recovered)
    if (reason === undefined) return
    const found = occurrence(record, reason, recovered ? before : streak)
    if (policy.digest !== undefined) {
      const open = digests.get(policy.digestScope)
      if (open !== undefined) open.occurrences.push(found)
      else {
        const windowMs = Duration.toMillis(policy.digest)
        digests.set(policy.digestScope, { from: now, until: now + windowMs, windowMs, occurrences: [found] })
      }
      return
    }
    if (policy.throttle !== undefined) {
      const open = throttles.get(record.jobName)
      if (open !== undefined) {
        open.suppressed++
        return
      }
      const windowMs = Duration.toMillis(policy.throttle)
      throttles.set(record.jobName, { until: now + windowMs, windowMs, suppressed: 0 })
    }
    alerts.push(
      new Alert({ id: `${record.runId}:${record.attempt}:${reason}`, kind: "run", occurrences: [found], suppressed: 0 })
    )
  }

  return {
    offer: (entries: ReadonlyArray<Feed.FeedEntry>, now: number): Array<Alert> => {
      // windows that ended before these entries close first, so an entry opens a new one
      const alerts = due(now)
      for (const entry of entries) {
        if (entry._tag === "Attempt") offerRecord(entry.record, now, alerts)
      }
      return alerts
    },
    due,
    nextDue: (): number | undefined => {
      let next: number | undefined
      for (const throttle of throttles.values()) {
        if (throttle.suppressed > 0 && (next === undefined || throttle.until < next)) next = throttle.until
      }
      for (const digest of digests.values()) {
        if (next === undefined || digest.until < next) next = digest.until
      }
      return next
    }
  }
}
