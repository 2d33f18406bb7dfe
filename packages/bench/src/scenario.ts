/**
 * What a scenario gets (the systems, sizes, repetitions) and what it returns
 * (a section of the report: rows of figures per system, and the issue's
 * targets it can judge), plus the repetition loop every PostgreSQL scenario
 * shares.
 */
import * as Progress from "./progress.js"
import { median } from "./stats.js"
import type { Connection, System } from "./system.js"

/** One figure for every system that has it. */
export interface Row {
  readonly metric: string
  readonly unit: string
  /** whether a higher value is better (rates) or a lower one (latencies, CPU, memory) */
  readonly better: "higher" | "lower"
  /** by system name (or baseline name); absent where the system has no such figure */
  readonly values: Readonly<Record<string, number | undefined>>
}

/** One of the issue's performance targets, judged on this run's figures. */
export interface Target {
  readonly label: string
  /** the figure, formatted with its unit */
  readonly measured: string
  readonly goal: string
  readonly met: boolean
}

export interface Section {
  readonly id: string
  readonly title: string
  /** how it was measured: counts, repetitions, settings */
  readonly method: string
  /** the column to compare the others against (default: clockwork) */
  readonly reference?: string
  readonly rows: ReadonlyArray<Row>
  readonly targets: ReadonlyArray<Target>
  /** markdown after the table (notes, a child benchmark's own summary) */
  readonly notes?: string
}

export interface Context {
  readonly quick: boolean
  /** measured repetitions (the warm-up comes on top) */
  readonly repetitions: number
  readonly warmup: boolean
  readonly connection: Connection
  readonly systems: ReadonlyArray<System>
  /** CPU used so far by the PostgreSQL server's processes, in µs; undefined when the server is not the bench's own */
  readonly serverCpuUs: (() => number) | undefined
  /** the drain scenario's queue depths, when given on the command line (`--depths`) */
  readonly depths: ReadonlyArray<number> | undefined
}

export interface Scenario {
  readonly id: string
  readonly title: string
  readonly run: (ctx: Context) => Promise<Section>
}

/** A measured system's repetitions, warm-up excluded. */
export type Samples<A> = ReadonlyMap<string, ReadonlyArray<A>>

/**
 * Runs `measure` for every system, repetition after repetition, alternating
 * systems (each repetition starts one system later, so none always goes
 * first). The warm-up repetition is measured and printed, then dropped.
 */
export const alternate = async <A>(
  ctx: Context,
  scenario: string,
  systems: ReadonlyArray<System>,
  measure: (system: System) => Promise<A>,
  describe: (a: A) => string
): Promise<Samples<A>> => {
  const samples = new Map<string, Array<A>>(systems.map((s) => [s.name, []]))
  const total = ctx.repetitions + (ctx.warmup ? 1 : 0)
  for (let rep = 0; rep < total; rep++) {
    const warm = ctx.warmup && rep === 0
    const label = warm ? "warm-up" : `rep ${rep + (ctx.warmup ? 0 : 1)}/${ctx.repetitions}`
    for (let k = 0; k < systems.length; k++) {
      const system = systems[(k + rep) % systems.length]!
      const result = await measure(system)
      Progress.line(scenario, `${label} ${system.name.padEnd(15)} ${describe(result)}`)
      if (!warm) samples.get(system.name)!.push(result)
    }
  }
  return samples
}

/** The median of one field of each system's samples, by system name. */
export const medians = <A>(samples: Samples<A>, field: (a: A) => number): Record<string, number> =>
  Object.fromEntries(Array.from(samples, ([name, xs]) => [name, median(xs.map(field))]))

/** How the repetitions went, for a section's method text. */
export const repetitionsText = (ctx: Context) =>
  ctx.warmup
    ? `${ctx.repetitions === 1 ? "One repetition" : `Median of ${ctx.repetitions} repetitions`} after a warm-up.`
    : `${ctx.repetitions === 1 ? "One repetition" : `Median of ${ctx.repetitions} repetitions`}, no warm-up.`

/** A ratio for a target, or n/a when a system did not run. */
export const times = (x: number) => Number.isFinite(x) ? `${x.toFixed(2)}×` : "n/a"

/** Rejects when `promise` takes longer than `ms`: a stalled system fails its scenario instead of hanging the run. */
export const within = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${(ms / 1000).toFixed(0)} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** A promise with its resolve function, for "the job with payload i has started". */
export const signal = <A = void>() => {
  let resolve!: (a: A) => void
  const promise = new Promise<A>((r) => (resolve = r))
  return { promise, resolve }
}
