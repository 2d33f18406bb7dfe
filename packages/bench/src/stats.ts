/** Small statistics for the figures: medians of repetitions and latency percentiles. */

/** The median (for an even count, the mean of the middle two). */
export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The nearest-rank percentile (p in 0..100). */
export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** Latency summary of one repetition, in milliseconds. */
export interface Latencies {
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
}

export const latencies = (xs: ReadonlyArray<number>): Latencies => ({
  p50: percentile(xs, 50),
  p95: percentile(xs, 95),
  p99: percentile(xs, 99),
  max: Math.max(...xs)
})

/** Median of each field over repetitions. */
export const medianOf = <K extends string>(reps: ReadonlyArray<Record<K, number>>, keys: ReadonlyArray<K>) =>
  Object.fromEntries(keys.map((k) => [k, median(reps.map((r) => r[k]))])) as Record<K, number>

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
