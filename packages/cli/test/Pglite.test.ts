/**
 * The built binary on a PGlite data directory: created by `migrate`, filled
 * through the API, then read and changed by the commands, each a process of
 * its own (PGlite is one process at a time, so the test process lets go of
 * the directory first, and a held directory is refused clearly).
 */
import { PgliteStore } from "@clockwork/pg"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { clockwork, populate } from "./utils.js"

describe("clockwork on PGlite", () => {
  it.scopedLive("migrates, shows and steers a data directory's jobs", () =>
    Effect.gen(function*() {
      const dataDir = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "clockwork-cli-")), "data")
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(Path.dirname(dataDir), { recursive: true, force: true })))
      const store = ["--data-dir", dataDir]

      // a directory that does not exist is not created by a read
      const missing = yield* clockwork(["status", ...store])
      expect(missing.code).toBe(3)
      expect(missing.stderr).toContain(`no database in ${dataDir}: the directory does not exist`)
      expect(Fs.existsSync(dataDir)).toBe(false)

      // migrate creates it, says so on a progress line, and is idempotent
      const migrated = yield* clockwork(["migrate", ...store])
      expect(migrated.code).toBe(0)
      expect(migrated.stderr).toContain(`migrating schema clockwork on PGlite in ${dataDir}…`)
      expect(migrated.stdout).toMatch(/^schema clockwork: applied 1 create_tables/)

      const ids = yield* populate(PgliteStore.layer({ dataDir }))

      const status = (yield* clockwork(["status", ...store, "--json"])).json()
      expect(status.workers).toEqual([]) // the populating worker has stopped
      expect(status.queue).toEqual([{ job: "send-email", queued: 1, due: 0, running: 0, lagMs: null }])
      expect(status.schedules).toMatchObject({ total: 1, paused: 0, next: { id: "hourly-digest", job: "send-email" } })
      expect(status.failures.map((f: any) => [f.runId, f.status, f.attempt])).toEqual([
        [ids.dead, "dead", 2],
        [ids.dead, "failed", 1]
      ])

      const detail = yield* clockwork(["run", ids.dead, ...store])
      expect(detail.code).toBe(0)
      expect(detail.stdout).toContain("state:    dead")
      expect(detail.stdout).toContain("CardDeclined: the card for order 42 was declined")
      expect(detail.stdout).toMatch(/attempts:\n#\s+status/)

      // the queued run is cancelled; a second cancel is refused: it has ended
      const cancelled = yield* clockwork(["cancel", ids.later, ...store, "--json"])
      expect(cancelled.json()).toMatchObject({ id: ids.later, state: "cancelled" })

      // the dead run again, as a new run with its payload
      const retried = (yield* clockwork(["retry", ids.dead, ...store, "--json"])).json()
      expect(retried.retried).toBe(ids.dead)
      expect(retried.run).toMatchObject({ job: "charge-card", state: "queued", payload: { order: 42 } })

      const paused = yield* clockwork(["schedules", "pause", "hourly-digest", ...store])
      expect(paused.stdout).toMatch(/^paused\nschedule: +hourly-digest\n/)

      // the run feed from its start, once: the schedule's creation, every attempt, the cancel, the pause
      const tail = yield* clockwork(["tail", "--from", "start", "--once", ...store])
      expect(tail.code).toBe(0)
      const lines = tail.stdout.trim().split("\n")
      expect(lines[0]).toMatch(/ schedule hourly-digest \(send-email\) created  @\d+\.\d+$/)
      expect(tail.stdout).toContain(`  send-email  succeeded  run ${ids.succeeded} #1  @`)
      expect(tail.stdout).toContain(
        `  charge-card  failed, retried  run ${ids.dead} #1  CardDeclined: the card for order 42 was declined  @`
      )
      expect(tail.stdout).toContain(`  charge-card  dead  run ${ids.dead} #2  CardDeclined:`)
      expect(tail.stdout).toContain(`  send-email  cancelled  run ${ids.later} #0  @`)
      expect(lines.at(-1)).toMatch(/ schedule hourly-digest \(send-email\) paused  @/)
      // from the cursor a line printed, as JSON lines: what came after it
      const cursor = lines.at(-2)!.split("@").at(-1)!
      const after = yield* clockwork(["tail", "--from", cursor, "--once", "--json", ...store])
      expect(after.stdout.trim().split("\n").map((l) => JSON.parse(l))).toEqual([
        expect.objectContaining({ type: "schedule", scheduleId: "hourly-digest", change: "paused" })
      ])
      expect((yield* clockwork(["tail", "--from", "yesterday", ...store])).code).toBe(2)

      // a data directory this process holds is refused, naming the process
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Layer.build(PgliteStore.layer({ dataDir }))
        const held = yield* clockwork(["runs", ...store])
        expect(held.code).toBe(3)
        expect(held.stderr).toContain(`the data directory ${dataDir} is in use by process ${process.pid}`)
      }))

      // newest first: the retry, the cancelled run, the dead run, the succeeded run
      const page2 = (yield* clockwork(["runs", ...store, "--json", "--limit", "2", "--page", "2"])).json()
      expect(page2.runs.map((r: any) => r.id)).toEqual([ids.dead, ids.succeeded])
      expect(page2.more).toBe(false)

      const pruned = yield* clockwork(["prune", "--before", "0 seconds", ...store])
      expect(pruned.code).toBe(0)
      expect(pruned.stderr).toContain("pruning the history before")
      expect(pruned.stdout).toMatch(/^deleted 4 history rows/)
      const left = (yield* clockwork(["runs", ...store, "--json"])).json()
      expect(left.runs.map((r: any) => [r.id, r.state])).toEqual([[retried.run.id, "queued"]])
    }))
})
