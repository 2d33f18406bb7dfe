/**
 * (f) Memory store: core's own benchmark (`packages/core/bench/memory.ts`):
 * no-op runs through the whole engine on `JobStore.layerMemory`, each with its
 * timeout armed, against bare fibers with and without `Effect.timeout` in the
 * same process; and the heap the store retains after a GC.
 */
import * as Progress from "../progress.js"
import type { Context, Scenario } from "../scenario.js"
import * as WorkspaceBench from "../workspaceBench.js"

interface Summary {
  readonly runs: number
  readonly concurrency: number
  readonly summary: Record<string, { readonly medianRunsPerSec: number; readonly medianHeapMb: number }>
}

const labels: Record<string, string> = {
  clockwork: "clockwork",
  fibersWithEffectTimeout: "fibers + Effect.timeout",
  fibersNoTimeout: "bare fibers"
}

export const scenario: Scenario = {
  id: "f",
  title: "Memory store",
  run: async (ctx: Context) => {
    const args = ctx.quick
      ? ["--runs", "5000", "--repeat", "1", "--only", "clockwork"]
      : ["--runs", "100000", "--repeat", String(ctx.repetitions)]
    const { command, summary } = await WorkspaceBench.run<Summary>("f memory", "@clockwork/core", args)
    const present = Object.entries(summary.summary).filter(([, s]) => s.medianRunsPerSec > 0)
    const rate = Object.fromEntries(present.map(([k, s]) => [labels[k] ?? k, s.medianRunsPerSec]))
    const clockwork = summary.summary["clockwork"]
    if (clockwork === undefined) throw new Error("core's memory benchmark reported no clockwork figure")
    return {
      id: "f",
      title: `Memory store: ${Progress.int(summary.runs)} no-op runs`,
      method: `\`${command}\` (core's benchmark; warm-up plus the repetitions, medians): runs enqueued at once ` +
        `into a waiting runner (concurrency ${summary.concurrency}), each with its 15-minute timeout armed, ` +
        `timed until every outcome is in the history. ${
          present.length > 1 ? "The baselines run the same number of no-op fibers in the same process. " : ""
        }Heap: what the store retains (the runs and their history) after a GC.`,
      rows: [
        { metric: "no-op runs", unit: "runs/s", better: "higher", values: rate },
        { metric: "heap retained", unit: "MB", better: "lower", values: { clockwork: clockwork.medianHeapMb } }
      ],
      targets: [{
        label: "memory store ≥ 100k runs/s",
        measured: `${Progress.int(clockwork.medianRunsPerSec)} runs/s`,
        goal: "≥ 100,000 runs/s",
        met: clockwork.medianRunsPerSec >= 100_000
      }]
    }
  }
}
