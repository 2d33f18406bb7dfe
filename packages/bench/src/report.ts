/**
 * BENCHMARKS.md: the machine, the command, the targets met or not, and per
 * scenario a table of each figure for clockwork, each peer and their ratio.
 * A run rewrites only what lies between the two markers, so the analysis
 * written by hand below them survives the next run.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import type { Row, Section } from "./scenario.js"

const begin = "<!-- bench:begin -->"
const end = "<!-- bench:end -->"

export interface Meta {
  readonly date: string
  readonly command: string
  readonly durationMinutes: number
  readonly machine: ReadonlyArray<readonly [string, string]>
  readonly settings: ReadonlyArray<readonly [string, string]>
}

export interface Failure {
  readonly id: string
  readonly title: string
  readonly error: string
}

const format = (value: number | undefined, unit: string) => {
  if (value === undefined || !Number.isFinite(value)) return "–"
  if (unit.endsWith("/s")) return Math.round(value).toLocaleString("en-US")
  if (unit === "ms") return value < 10 ? value.toFixed(2) : value < 1000 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US")
  if (unit === "%") return value.toFixed(2)
  return value.toFixed(1)
}

/** How many times better the reference is than the other: above 1, the reference is ahead. */
const ratio = (row: Row, reference: string, other: string) => {
  const r = row.values[reference]
  const o = row.values[other]
  if (r === undefined || o === undefined || !Number.isFinite(r) || !Number.isFinite(o) || r <= 0 || o <= 0) return "–"
  return `${(row.better === "higher" ? r / o : o / r).toFixed(2)}×`
}

const table = (section: Section) => {
  const reference = section.reference ?? "clockwork"
  const columns = Array.from(new Set(section.rows.flatMap((row) => Object.keys(row.values))))
  const systems = [reference, ...columns.filter((c) => c !== reference)]
  const others = systems.slice(1).filter((c) => section.rows.some((row) => row.values[c] !== undefined))
  const header = ["figure", ...systems, ...others.map((o) => `${reference} vs ${o}`)]
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map((_, i) => i === 0 ? "---" : "---:").join(" | ")} |`]
  for (const row of section.rows) {
    lines.push(`| ${
      [
        `${row.metric} (${row.unit})`,
        ...systems.map((s) => format(row.values[s], row.unit)),
        ...others.map((o) => ratio(row, reference, o))
      ].join(" | ")
    } |`)
  }
  return lines.join("\n")
}

export const render = (meta: Meta, sections: ReadonlyArray<Section>, failures: ReadonlyArray<Failure>) => {
  const out: Array<string> = []
  out.push(
    `Measured ${meta.date} with \`${meta.command}\` (the whole run took ${meta.durationMinutes.toFixed(1)} min).`,
    "",
    "| machine | |",
    "| --- | --- |",
    ...meta.machine.map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "The machine is shared with other engineers' builds and tests, so figures move from run to run; the ratios,",
    "taken from systems measured alternately in the same run on the same PostgreSQL, are the figures to read.",
    "A ratio is how many times better clockwork is than the peer (its rate ÷ the peer's; for times, CPU and",
    "memory, the peer's ÷ clockwork's): above 1×, clockwork is ahead.",
    "",
    "## Targets",
    "",
    "| target | measured | goal | |",
    "| --- | ---: | ---: | --- |",
    ...sections.flatMap((s) =>
      s.targets.map((t) => `| ${t.label} | ${t.measured} | ${t.goal} | ${t.met ? "met" : "**not met**"} |`)
    ),
    ...failures.map((f) => `| (${f.id}) ${f.title} | failed | | **not measured** |`),
    "",
    "## How each system is set up",
    "",
    ...meta.settings.map(([k, v]) => `- **${k}**: ${v}`),
    ""
  )
  for (const section of sections) {
    out.push(`## (${section.id}) ${section.title}`, "", section.method, "", table(section), "")
    if (section.notes !== undefined) out.push(section.notes, "")
  }
  for (const failure of failures) {
    out.push(`## (${failure.id}) ${failure.title}`, "", "Failed in this run:", "", "```", failure.error, "```", "")
  }
  return out.join("\n")
}

/** Writes the generated part into `file`, keeping whatever surrounds the markers. */
export const write = (file: string, generated: string) => {
  const block = `${begin}\n${generated.trimEnd()}\n${end}`
  const previous = existsSync(file) ? readFileSync(file, "utf8") : undefined
  const from = previous?.indexOf(begin) ?? -1
  const to = previous?.indexOf(end) ?? -1
  const text = previous !== undefined && from >= 0 && to > from
    ? previous.slice(0, from) + block + previous.slice(to + end.length)
    : `# clockwork benchmarks\n\nWritten by \`npm run bench\` (packages/bench); a full run rewrites the part between ` +
      `the markers.\n\n${block}\n`
  writeFileSync(file, text)
}
