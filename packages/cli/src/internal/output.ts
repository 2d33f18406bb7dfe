/**
 * How results are printed: a table or a block of fields for people, one JSON
 * document for scripts (`--json`). Results go to stdout; progress, warnings
 * and errors to stderr, so `--json` output can be piped as is.
 */
import { Console, DateTime, Effect } from "effect"

/** Prints `json` as one JSON document with --json, else the human text. */
export const print = (json: boolean, value: unknown, human: () => string): Effect.Effect<void> =>
  json ? Console.log(JSON.stringify(value, null, 2)) : Console.log(human())

/** Columns padded to their widest cell, a rule under the header. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd()
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}

/** Label: value lines, labels aligned. */
export const fields = (entries: ReadonlyArray<readonly [string, string | undefined]>): string => {
  const shown = entries.filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
  const width = Math.max(...shown.map(([label]) => label.length))
  return shown.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${value}`).join("\n")
}

/** An instant as "2026-11-29 16:52:03.120Z" (UTC), or "-". */
export const instant = (value: DateTime.Utc | undefined): string =>
  value === undefined ? "-" : DateTime.formatIso(value).replace("T", " ")

/** An instant for JSON: ISO 8601, or null. */
export const iso = (value: DateTime.Utc | undefined): string | null =>
  value === undefined ? null : DateTime.formatIso(value)

/** A duration in the largest units that matter: "850ms", "12.3s", "5m 3s", "2h 5m", "3d 4h". */
export const duration = (millis: number): string => {
  const ms = Math.abs(millis)
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.floor(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}

/** How far an instant is from now: "in 5m 3s", "2h 5m ago". */
export const relative = (value: DateTime.Utc | undefined, now: number): string => {
  if (value === undefined) return "-"
  const delta = DateTime.toEpochMillis(value) - now
  return delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`
}

/** The first line of a text, cut to `max` characters. */
export const short = (text: string | undefined, max = 60): string => {
  if (text === undefined || text.length === 0) return "-"
  const first = text.split("\n", 1)[0]!
  return first.length > max ? `${first.slice(0, max - 1)}…` : first
}
