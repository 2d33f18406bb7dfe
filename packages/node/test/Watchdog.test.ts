/**
 * The watchdog on real processes: one whose event loop blocks is killed; one
 * that is busy but yields is left alone.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const script = fileURLToPath(new URL("./fixtures/blocking.ts", import.meta.url))
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))

interface Ended {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** from "ready" to the exit */
  readonly afterReadyMs: number
}

const runToEnd = (mode: "blocking" | "yielding", maxBlockedMs: number) =>
  Effect.async<Ended>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", script, mode, String(maxBlockedMs)], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let readyAt = 0
    child.stdout!.on("data", (chunk) => {
      stdout += String(chunk)
      if (readyAt === 0 && stdout.includes("ready")) readyAt = performance.now()
    })
    child.stderr!.on("data", (chunk) => (stderr += String(chunk)))
    child.once("exit", (code, signal) =>
      resume(Effect.succeed({ code, signal, stdout, stderr, afterReadyMs: performance.now() - readyAt })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

describe("Watchdog", () => {
  it.live("kills a process whose event loop stays blocked, after one line on stderr", () =>
    Effect.gen(function*() {
      const ended = yield* runToEnd("blocking", 1000)
      expect(ended.signal).toBe("SIGKILL")
      expect(ended.stderr).toMatch(/clockwork: the event loop of process \d+ has been blocked for \d+ s/)
      // killed after the allowed block, not long after (a loaded machine gets generous slack)
      expect(ended.afterReadyMs).toBeGreaterThanOrEqual(900)
      expect(ended.afterReadyMs).toBeLessThan(20_000)
    }), 60_000)

  it.live("leaves a busy process alone while it yields now and then", () =>
    Effect.gen(function*() {
      const ended = yield* runToEnd("yielding", 1000)
      expect(ended.signal).toBeNull()
      expect(ended.code).toBe(0)
      expect(ended.stdout).toContain("done")
      expect(ended.stderr).not.toContain("blocked")
    }), 60_000)
})
