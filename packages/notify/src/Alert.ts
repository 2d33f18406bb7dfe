/**
 * What a notifier sends: an alert about one attempt of a run (a failure, a
 * timeout, a streak of failures, a recovery), a digest of several, or a line
 * saying how many a throttle held back. Channels render it with `subject`,
 * `text` and `html`, or send it as JSON (`Alert.encode`).
 *
 * @since 0.1.0
 */
import { DateTime, Duration, Schema } from "effect"

/**
 * Why an attempt is reported (the rule that matched).
 *
 * @since 0.1.0
 * @category models
 */
export const Reason = Schema.Literal("final_failure", "failed_attempt", "timeout", "consecutive_failures", "recovery")

/**
 * @since 0.1.0
 * @category models
 */
export type Reason = typeof Reason.Type

/**
 * One attempt as an alert reports it: the run's history row without its
 * result and metrics (which may hold the job's data), plus why it is reported.
 *
 * @since 0.1.0
 * @category models
 */
export class Occurrence extends Schema.Class<Occurrence>("Occurrence")({
  reason: Reason,
  jobName: Schema.String,
  runId: Schema.String,
  attempt: Schema.Int,
  status: Schema.String,
  scheduleId: Schema.optional(Schema.String),
  scheduledFor: Schema.DateTimeUtc,
  startedAt: Schema.DateTimeUtc,
  finishedAt: Schema.DateTimeUtc,
  durationMs: Schema.Number,
  error: Schema.optional(Schema.Struct({ tag: Schema.String, message: Schema.String, cause: Schema.String })),
  workerId: Schema.optional(Schema.String),
  /** the job's final failures in a row, this one included (for `consecutive_failures` and `recovery`) */
  consecutiveFailures: Schema.optional(Schema.Int),
  /** the run in the dashboard, when a dashboard URL is configured */
  link: Schema.optional(Schema.String)
}) {}

/**
 * An alert. `id` is stable: the same attempt reported by the same rule has
 * the same id in every process and after a restart, so a receiver can drop
 * a second delivery.
 *
 * - `run`: one attempt (`occurrences` has one element).
 * - `digest`: every attempt reported during a window.
 * - `suppressed`: a throttle window of `jobName` ended with `suppressed`
 *   alerts held back; `occurrences` is empty.
 *
 * @since 0.1.0
 * @category models
 */
export class Alert extends Schema.Class<Alert>("Alert")({
  id: Schema.String,
  kind: Schema.Literal("run", "digest", "suppressed"),
  occurrences: Schema.Array(Occurrence),
  /** for `suppressed`: how many alerts the throttle held back (0 otherwise) */
  suppressed: Schema.Int,
  jobName: Schema.optional(Schema.String),
  /** the throttle or digest window, for `digest` and `suppressed` */
  windowMs: Schema.optional(Schema.Number)
}) {}

/**
 * An alert as JSON (instants as ISO strings), as the webhook sends it.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode: (alert: Alert) => typeof Alert.Encoded = Schema.encodeSync(Alert)

/**
 * An alert from its JSON form.
 *
 * @since 0.1.0
 * @category encoding
 */
export const decode: (json: unknown) => Alert = Schema.decodeUnknownSync(Alert)

const iso = (instant: DateTime.Utc) => DateTime.formatIso(instant)

const duration = (ms: number) => Duration.format(Duration.millis(Math.round(ms)))

const headline = (o: Occurrence): string => {
  switch (o.reason) {
    case "final_failure":
      return o.status === "dead" ? `${o.jobName} failed for good (dead-lettered)` : `${o.jobName} failed for good`
    case "failed_attempt":
      return `${o.jobName} attempt ${o.attempt} ${o.status === "timed_out" ? "timed out" : "failed"}`
    case "timeout":
      return `${o.jobName} timed out`
    case "consecutive_failures":
      return `${o.jobName} failed ${o.consecutiveFailures ?? "several"} times in a row`
    case "recovery":
      return `${o.jobName} recovered after ${o.consecutiveFailures ?? "some"} failures`
  }
}

const windowText = (alert: Alert) => alert.windowMs === undefined ? "" : ` in the last ${duration(alert.windowMs)}`

const suppressedLine = (alert: Alert) =>
  `${alert.suppressed} more alert${alert.suppressed === 1 ? " was" : "s were"} suppressed for ${alert.jobName}${
    windowText(alert)
  }`

/**
 * The alert's one-line subject (email subject, chat headline, log line).
 *
 * @since 0.1.0
 * @category rendering
 */
export const subject = (alert: Alert): string => {
  switch (alert.kind) {
    case "run":
      return `[clockwork] ${headline(alert.occurrences[0]!)}`
    case "digest":
      return `[clockwork] ${alert.occurrences.length} alert${alert.occurrences.length === 1 ? "" : "s"}${windowText(alert)}`
    case "suppressed":
      return `[clockwork] ${suppressedLine(alert)}`
  }
}

/** label and value of each field shown for an attempt */
const fields = (o: Occurrence): ReadonlyArray<readonly [string, string]> => [
  ["job", o.jobName],
  ["run", o.runId],
  ["attempt", String(o.attempt)],
  ["status", o.status],
  ...(o.scheduleId === undefined ? [] : [["schedule", o.scheduleId] as const]),
  ["scheduled for", iso(o.scheduledFor)],
  ["started at", iso(o.startedAt)],
  ["duration", duration(o.durationMs)],
  ...(o.workerId === undefined ? [] : [["worker", o.workerId] as const]),
  ...(o.error === undefined ? [] : [["error", `${o.error.tag}: ${o.error.message}`] as const]),
  ...(o.link === undefined ? [] : [["link", o.link] as const])
]

const occurrenceText = (o: Occurrence) => {
  const lines = fields(o).map(([label, value]) => `${`${label}:`.padEnd(15)}${value}`)
  if (o.error !== undefined && o.error.cause !== "") lines.push("", "cause:", ...o.error.cause.split("\n").map((l) => `  ${l}`))
  return lines.join("\n")
}

/**
 * The alert as plain text.
 *
 * @since 0.1.0
 * @category rendering
 */
export const text = (alert: Alert): string => {
  switch (alert.kind) {
    case "run":
      return `${headline(alert.occurrences[0]!)}\n\n${occurrenceText(alert.occurrences[0]!)}\n`
    case "digest":
      return [
        `${alert.occurrences.length} alert${alert.occurrences.length === 1 ? "" : "s"}${windowText(alert)}:`,
        ...alert.occurrences.map((o) => `\n- ${headline(o)}\n\n${occurrenceText(o)}`)
      ].join("\n") + "\n"
    case "suppressed":
      return `${suppressedLine(alert)}\n`
  }
}

const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }

/**
 * Text made safe inside HTML (element content and quoted attributes).
 *
 * @since 0.1.0
 * @category rendering
 */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => entities[c]!)

const safeHref = (url: string) => /^https?:\/\//i.test(url) ? escapeHtml(url) : undefined

const occurrenceHtml = (o: Occurrence) => {
  const rows = fields(o).map(([label, value]) => {
    const href = label === "link" ? safeHref(value) : undefined
    const cell = href === undefined ? escapeHtml(value) : `<a href="${href}">${escapeHtml(value)}</a>`
    return `<tr><th align="left">${escapeHtml(label)}</th><td>${cell}</td></tr>`
  })
  const cause = o.error === undefined || o.error.cause === "" ? "" : `<pre>${escapeHtml(o.error.cause)}</pre>`
  return `<h2>${escapeHtml(headline(o))}</h2><table>${rows.join("")}</table>${cause}`
}

/**
 * The alert as an HTML document; everything that comes from jobs, errors or
 * configuration is escaped.
 *
 * @since 0.1.0
 * @category rendering
 */
export const html = (alert: Alert): string => {
  const body = alert.kind === "suppressed"
    ? `<p>${escapeHtml(suppressedLine(alert))}</p>`
    : alert.occurrences.map(occurrenceHtml).join("<hr>")
  const title = alert.kind === "digest" ? `<h1>${escapeHtml(subject(alert).replace("[clockwork] ", ""))}</h1>` : ""
  return `<!doctype html><html><body>${title}${body}</body></html>`
}
