/** Progress lines on stderr: one per scenario start, repetition and result, with the time since start. */

const started = performance.now()

const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`

export const line = (scenario: string, message: string) => {
  process.stderr.write(`${elapsed()}  [${scenario}] ${message}\n`)
}

/** Formats a rate or a count with thousands separators. */
export const int = (x: number) => Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a"

/** Formats milliseconds. */
export const ms = (x: number) => Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms` : "n/a"
