/**
 * Client-side statement statistics for clockwork, standing in for
 * `pg_stat_statements` (which needs a server restart to load): a tracer that
 * times every `sql.execute` span of `@effect/sql` by its statement, from
 * taking a connection to the last row. `--sql-stats` prints them.
 */
import { Effect, Layer, Tracer } from "effect"

interface Stat {
  count: number
  totalMs: number
  maxMs: number
}

const stats = new Map<string, Stat>()

/** A statement's first words, enough to tell the store's statements apart. */
const label = (text: string) => {
  const flat = text.replace(/\s+/g, " ").trim()
  if (flat.includes("for update skip locked")) return "claim (with picked ... for update skip locked, claimed as (update ...))"
  if (flat.includes("recorded as (")) return "complete (insert run_history + update runs)"
  return flat.length > 90 ? `${flat.slice(0, 90)}…` : flat
}

const record = (text: string, ms: number) => {
  const key = label(text)
  const stat = stats.get(key) ?? { count: 0, totalMs: 0, maxMs: 0 }
  stat.count++
  stat.totalMs += ms
  stat.maxMs = Math.max(stat.maxMs, ms)
  stats.set(key, stat)
}

/** The tracer, wrapping the one in place: every span as before, statement spans timed on their end. */
export const layer: Layer.Layer<never> = Layer.unwrapEffect(Effect.map(Effect.tracer, (base) =>
  Layer.setTracer(Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = base.span(name, parent, context, links, startTime, kind, options)
      if (name !== "sql.execute") return span
      const end = span.end.bind(span)
      span.end = (endTime, exit) => {
        record(String(span.attributes.get("db.query.text") ?? "?"), Number(endTime - startTime) / 1e6)
        end(endTime, exit)
      }
      return span
    },
    context: (f, fiber) => base.context(f, fiber)
  }))))

/** Clears the figures (between a warm-up and the measured part, say). */
export const reset = () => stats.clear()

/** A table of the statements by total time. */
export const report = () => {
  const rows = Array.from(stats).sort((a, b) => b[1].totalMs - a[1].totalMs)
  const total = rows.reduce((sum, [, s]) => sum + s.totalMs, 0)
  return [
    "calls     total ms   share   mean ms    max ms  statement",
    ...rows.map(([key, s]) =>
      `${String(s.count).padStart(7)} ${s.totalMs.toFixed(0).padStart(10)} ${(100 * s.totalMs / total).toFixed(1).padStart(6)}% ${
        (s.totalMs / s.count).toFixed(2).padStart(9)
      } ${s.maxMs.toFixed(1).padStart(9)}  ${key}`
    )
  ].join("\n")
}
