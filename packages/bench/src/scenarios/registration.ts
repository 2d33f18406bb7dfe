/**
 * (i) Registering schedules: what every start of an app with many tenants
 * does, 10,000 schedules under stable ids, timed the first time (all created)
 * and again unchanged, on PostgreSQL and on PGlite. Only clockwork keeps
 * schedules under ids in the database, so the columns are its ways of
 * registering them, not the peers.
 */
import * as Db from "../db.js"
import * as Progress from "../progress.js"
import { alternate, type Context, medians, repetitionsText, type Row, type Scenario } from "../scenario.js"
import * as Clockwork from "../systems/clockwork.js"

const ways: ReadonlyArray<Clockwork.Registration> = ["one by one", "scheduleMany"]

interface Timings {
  /** by way of registering: ms for all schedules the first time, and again unchanged */
  readonly first: Record<string, number>
  readonly unchanged: Record<string, number>
}

const timed = async (f: () => Promise<void>) => {
  const t = performance.now()
  await f()
  return performance.now() - t
}

const measure = async (system: Clockwork.ClockworkSystem, count: number): Promise<Timings> => {
  const first: Record<string, number> = {}
  const unchanged: Record<string, number> = {}
  for (const how of ways) {
    await system.empty()
    first[how] = await timed(() => system.registerSchedules(count, how))
    unchanged[how] = await timed(() => system.registerSchedules(count, how))
  }
  return { first, unchanged }
}

const describe = (count: number) => (t: Timings) =>
  ways.map((how) =>
    `${how}: first ${Progress.int(count / (t.first[how]! / 1000))}/s, ` +
    `unchanged ${Progress.int(count / (t.unchanged[how]! / 1000))}/s`
  ).join("; ")

export const scenario: Scenario = {
  id: "i",
  title: "Registering schedules",
  run: async (ctx: Context) => {
    const count = ctx.quick ? 200 : 10_000
    // a schema of its own: the scenario runs beside the systems of scenarios a-e
    const schemaPrefix = `${ctx.connection.schemaPrefix}registration_`
    const stores = [
      { name: "PostgreSQL", system: Clockwork.make({ ...ctx.connection, schemaPrefix }) },
      { name: "PGlite", system: Clockwork.makeEmbedded() }
    ]
    const rows: Array<Row> = []
    const unchanged: Record<string, Record<string, number>> = {}
    for (const { name, system } of stores) {
      try {
        await system.install()
        const samples = await alternate(ctx, `i ${name}`, [system], () => measure(system, count), describe(count))
        const field = (phase: keyof Timings, how: string) => medians(samples, (t) => t[phase][how]!)["clockwork"]!
        const values = (phase: keyof Timings) => Object.fromEntries(ways.map((how) => [how, field(phase, how)]))
        unchanged[name] = values("unchanged")
        rows.push(
          { metric: `${name}, first time`, unit: "ms", better: "lower", values: values("first") },
          { metric: `${name}, again unchanged`, unit: "ms", better: "lower", values: unchanged[name]! }
        )
      } finally {
        await system.close()
        if (name === "PostgreSQL") {
          const admin = Db.connect(ctx.connection.url)
          await Db.dropSchema(admin, system.schema).finally(() => admin.end())
        }
      }
    }
    const seconds = (ms: number) => Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "n/a"
    const target = (name: string, goalMs: number) => {
      const measured = unchanged[name]?.["scheduleMany"] ?? Number.NaN
      return {
        label: `${Progress.int(count)} unchanged schedules registered again (scheduleMany) on ${name}`,
        measured: seconds(measured),
        goal: `≤ ${seconds(goalMs)}`,
        met: measured <= goalMs
      }
    }
    return {
      id: "i",
      title: `Registering ${Progress.int(count)} schedules`,
      reference: ways[ways.length - 1]!,
      method: `${Progress.int(count)} daily cron schedules of the no-op job in five time zones, ids \`tenant-<n>\`, ` +
        `payload \`{ i: n }\`: registered into an empty table (all created), then the same again (all unchanged); ` +
        `one by one: \`Scheduler.schedule\` for each, in sequence; scheduleMany: one \`Scheduler.scheduleMany\` ` +
        `of all. PostgreSQL: ${stores[0]!.system.settings}. ` +
        `PGlite: ${stores[1]!.system.settings}. ${repetitionsText(ctx)}`,
      rows,
      targets: ctx.quick ? [] : [target("PostgreSQL", 1_000), target("PGlite", 3_000)]
    }
  }
}
