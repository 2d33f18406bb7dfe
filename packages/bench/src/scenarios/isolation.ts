/**
 * (g) Worker-thread isolation: node's own benchmark
 * (`packages/node/bench/isolation.ts`): the same no-op run as a fiber job and
 * as a worker-thread job (Effect handler, plain function) on the memory
 * store, at full load and one at a time.
 */
import * as Progress from "../progress.js"
import type { Context, Scenario } from "../scenario.js"
import * as WorkspaceBench from "../workspaceBench.js"

interface Summary {
  readonly runs: number
  readonly poolSize: number
  readonly summary: Record<string, { readonly runsPerSec: number; readonly msPerRun: number }>
}

export const scenario: Scenario = {
  id: "g",
  title: "Worker-thread isolation",
  run: async (ctx: Context) => {
    const args = ctx.quick
      ? ["--runs", "200", "--repeat", "1", "--sequential", "20"]
      : ["--runs", "2000", "--repeat", String(ctx.repetitions), "--sequential", "200"]
    const { command, summary } = await WorkspaceBench.run<Summary>("g isolation", "@clockwork/node", args)
    const modes = summary.summary
    const fiber = modes["fiber"]
    const worker = modes["worker (Effect handler)"]
    if (fiber === undefined || worker === undefined) throw new Error("node's isolation benchmark changed its summary")
    const overhead = 1000 / worker.runsPerSec - 1000 / fiber.runsPerSec
    return {
      id: "g",
      title: `Worker-thread isolation: ${Progress.int(summary.runs)} no-op runs, pool of ${summary.poolSize}`,
      method: `\`${command}\` (node's benchmark; warm-up plus the repetitions, medians), on the memory store. ` +
        `The reference column is the fiber job.`,
      reference: "fiber",
      rows: [
        {
          metric: "throughput",
          unit: "runs/s",
          better: "higher",
          values: Object.fromEntries(Object.entries(modes).map(([k, v]) => [k, v.runsPerSec]))
        },
        {
          metric: "one at a time (enqueue, run, await)",
          unit: "ms",
          better: "lower",
          values: Object.fromEntries(Object.entries(modes).map(([k, v]) => [k, v.msPerRun]))
        }
      ],
      targets: [],
      notes: `Isolation (Effect handler) costs ${overhead.toFixed(3)} ms per run at full load (1/throughput against ` +
        `the fiber job).`
    }
  }
}
