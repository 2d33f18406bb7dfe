import { Duration, Effect, type Scope } from "effect"
import { Worker } from "node:worker_threads"

/**
 * The watchdog thread: it reads a counter the main thread bumps on every turn
 * of its timer; when the counter has not moved for `maxBlockedMs` (timed on
 * the watchdog's own thread, which a blocked main thread cannot stop), it
 * writes one line to stderr and kills the process with SIGKILL, the one signal
 * that needs no JavaScript to run in the blocked thread. The line is written
 * to fd 2 directly: a worker's `process.stderr` goes through the main thread.
 */
const watcher = `
const { workerData } = require("node:worker_threads")
const { writeSync } = require("node:fs")
const { beats, maxBlockedMs, checkMs, pid } = workerData
const view = new Int32Array(beats)
let last = Atomics.load(view, 0)
let since = performance.now()
setInterval(() => {
  const now = performance.now()
  const seen = Atomics.load(view, 0)
  if (seen !== last) {
    last = seen
    since = now
    return
  }
  if (now - since >= maxBlockedMs) {
    writeSync(2,
      "clockwork: the event loop of process " + pid + " has been blocked for " + Math.round((now - since) / 1000) +
        " s (a job that never yields?); killing the process so that its runs' leases expire and a supervisor can restart it\\n"
    )
    process.kill(pid, "SIGKILL")
  }
}, checkMs)
`

export const start = (maxBlocked: Duration.Duration): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    const maxBlockedMs = Duration.toMillis(maxBlocked)
    // the main thread beats ten times per allowed block, so a busy but live loop is never mistaken
    const checkMs = Math.max(10, Math.floor(maxBlockedMs / 10))
    const beats = new SharedArrayBuffer(4)
    const view = new Int32Array(beats)
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const timer = setInterval(() => Atomics.add(view, 0, 1), checkMs)
        timer.unref()
        const worker = new Worker(watcher, {
          eval: true,
          workerData: { beats, maxBlockedMs, checkMs, pid: process.pid },
          stdout: false,
          stderr: false
        })
        worker.unref()
        return { timer, worker }
      }),
      ({ timer, worker }) =>
        Effect.promise(async () => {
          clearInterval(timer)
          await worker.terminate()
        })
    )
  })
