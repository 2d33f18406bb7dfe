/**
 * The command line itself, before any store: its version, its commands, and
 * the exit code of a usage error.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { clockwork } from "./utils.js"

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))

describe("clockwork", () => {
  it.live("prints its package's version, lists its commands, and exits 2 on a usage error", () =>
    Effect.gen(function*() {
      // one process after another (the default): the machine has 2 cores, shared with the other suites
      const [version, help, noStore, unknown, badChoice] = yield* Effect.all([
        clockwork(["--version"]),
        clockwork(["--help"]),
        clockwork(["status"], { DATABASE_URL: undefined }),
        clockwork(["stauts"]),
        clockwork(["runs", "--status", "lost", "--data-dir", "/nonexistent"])
      ])
      expect(version.stdout.trim()).toBe(manifest.version)
      for (const command of ["migrate", "prune", "status", "schedules", "pause", "resume", "trigger", "remove", "runs", "run", "enqueue", "cancel", "retry", "signal"]) {
        expect(help.stdout).toMatch(new RegExp(`- (schedules .*)?${command} `))
      }
      expect(noStore.code).toBe(2)
      expect(noStore.stderr).toBe(
        "clockwork: no store given: pass --database-url (or set DATABASE_URL) for PostgreSQL, or --data-dir for PGlite\n"
      )
      expect(unknown.code).toBe(2)
      expect(badChoice.code).toBe(2)
      expect(badChoice.stdout + badChoice.stderr).toContain("queued, running, succeeded, failed, timed_out, cancelled, dead")
    }))
})
