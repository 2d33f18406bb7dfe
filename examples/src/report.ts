/**
 * What the demo prints: one line per lifecycle event, and the run history as
 * a table at the end.
 */
import type { Events, Run } from "@clockwork/core"
import { DateTime } from "effect"
import { seconds } from "./log.js"

const at = (millis: number) => DateTime.formatIso(DateTime.unsafeMake(millis)).slice(11, 23)

/** A line for an event, or undefined for the ones not worth a line. */
export const describeEvent = (event: Events.Event): string | undefined => {
  switch (event._tag) {
    case "Scheduled":
      return `schedule ${event.scheduleId} ${event.outcome}` +
        (event.nextFireAt === undefined ? "" : `, next fire ${DateTime.formatIso(DateTime.unsafeMake(event.nextFireAt))}`)
    case "Enqueued":
      return event.runAt > event.at ? `queued for ${at(event.runAt)} UTC` : undefined
    case "Skipped":
      return `tick skipped: ${event.reason}`
    case "Started":
      return `started, attempt ${event.attempt}`
    case "Progress":
      return `progress ${Math.round(event.value * 100)}%`
    case "Succeeded":
      return `succeeded in ${seconds(event.durationMs)}`
    case "Failed":
      return `failed after ${seconds(event.durationMs)}: ${event.error.message}`
    case "TimedOut":
      return `timed out: ${event.error.message}`
    case "Retrying":
      return `will retry at ${at(event.retryAt)} UTC`
    case "Cancelled":
      return "cancelled"
    case "Interrupted":
      return "interrupted by shutdown, queued again"
    case "DeadLettered":
      return `dead-lettered: ${event.error.message}`
    case "DependentCancelled":
      return `will not run: ${event.error.message}`
  }
}

/** The run history, by start time, as a text table. */
export const historyTable = (records: ReadonlyArray<Run.RunRecord>): string => {
  const header = ["job", "status", "attempt", "started (UTC)", "duration"]
  const byStart = [...records].sort((a, b) => DateTime.toEpochMillis(a.startedAt) - DateTime.toEpochMillis(b.startedAt))
  const rows = byStart.map((r) => [
    r.jobName,
    r.status,
    String(r.attempt),
    DateTime.formatIso(r.startedAt).slice(11, 23),
    seconds(r.durationMs)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}
