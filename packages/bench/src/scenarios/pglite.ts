/**
 * (h) PGlite: clockwork's embedded store (`PgliteStore` on an in-memory
 * PGlite in this process), drain and bulk enqueue, for the record. No peer
 * runs embedded, so there is nothing to compare with.
 */
import * as Progress from "../progress.js"
import { alternate, type Context, medians, repetitionsText, type Scenario } from "../scenario.js"
import * as Clockwork from "../systems/clockwork.js"
import { drainRate } from "./drain.js"

export const scenario: Scenario = {
  id: "h",
  title: "PGlite embedded store",
  run: async (ctx: Context) => {
    const count = ctx.quick ? 300 : 10_000
    const system = Clockwork.makeEmbedded()
    try {
      const start = performance.now()
      await system.install()
      Progress.line("h pglite", `PGlite up and migrated in ${((performance.now() - start) / 1000).toFixed(1)} s`)
      const samples = await alternate(ctx, "h pglite", [system], async (s) => {
        await s.empty()
        const payloads = Array.from({ length: count }, (_, i) => i)
        const t = performance.now()
        await s.enqueueMany(payloads)
        const enqueue = count / ((performance.now() - t) / 1000)
        return { enqueue, drain: await drainRate(s, count, ctx.quick ? 60_000 : 600_000) }
      }, (r) => `bulk enqueue ${Progress.int(r.enqueue)} jobs/s, drain ${Progress.int(r.drain)} jobs/s`)
      return {
        id: "h",
        title: `PGlite embedded store: ${Progress.int(count)} jobs`,
        method: `${system.settings}. Bulk enqueue: one \`enqueueMany\` of ${Progress.int(count)} jobs; drain: ` +
          `${Progress.int(count)} queued jobs, timed from the worker's start until none is left. ` +
          repetitionsText(ctx),
        rows: [
          { metric: "bulk enqueue", unit: "jobs/s", better: "higher", values: medians(samples, (r) => r.enqueue) },
          { metric: "drain", unit: "jobs/s", better: "higher", values: medians(samples, (r) => r.drain) }
        ],
        targets: []
      }
    } finally {
      await system.close()
    }
  }
}
