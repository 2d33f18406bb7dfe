import { JobStore, Policy, Trigger } from "@clockwork/core"
import { run } from "@clockwork/core/conformance"
import { run as runAgreement } from "@clockwork/core/conformance/agreement"
import { describe, expect, it } from "@effect/vitest"
import { Context, DateTime, Duration, Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { PgliteStore } from "../src/index.js"
import { freshPgliteStore, useSharedPglite } from "./utils.js"

useSharedPglite()

describe("on PGlite", () => {
  run("PGlite", freshPgliteStore())
  runAgreement("PGlite", freshPgliteStore(), { seeds: 20 })
})

const minute = 60_000
const t0 = Date.UTC(2026, 0, 1)

const digest: JobStore.ScheduleInput = {
  id: "digest",
  jobName: "send-digest",
  payload: { region: "eu" },
  trigger: new Trigger.Every({ interval: Duration.minutes(1) }),
  misfire: Policy.coalesce,
  overlap: "allow",
  misfireGraceMs: minute,
  firstFireAt: t0 + minute,
  now: t0
}

/** A temporary directory, removed at the end; the data directory is a subdirectory PGlite's client creates. */
const temporaryDataDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "clockwork-pglite-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => Path.join(dir, "data")))

/** Opens the store at `dataDir`, runs `f` on it and closes it again: one process's lifetime. */
const session = <A, E>(dataDir: string, f: (store: JobStore.JobStore) => Effect.Effect<A, E>) =>
  Effect.scoped(
    Effect.flatMap(Layer.build(PgliteStore.layer({ dataDir })), (context) => f(Context.get(context, JobStore.JobStore)))
  )

describe("PgliteStore.layer with a data directory", () => {
  it.scopedLive("schedules, runs and history survive a restart, and registering a schedule again duplicates nothing", () =>
    Effect.gen(function*() {
      const dataDir = yield* temporaryDataDir

      const runId = yield* session(dataDir, (store) =>
        Effect.gen(function*() {
          expect((yield* store.upsertSchedule(digest)).outcome).toBe("created")
          const [id] = yield* store.enqueue([{ jobName: "send-email", payload: { to: "ada" }, runAt: t0, scheduledFor: t0 }], t0)
          const [claimed] = (yield* store.claim({ now: t0, limit: 1, workerId: "w1", leaseMs: minute })).runs
          yield* store.complete([{
            runId: claimed!.id,
            jobName: claimed!.jobName,
            attempt: claimed!.attempt,
            status: "succeeded",
            scheduledFor: t0,
            scheduleId: undefined,
            startedAt: t0,
            finishedAt: t0 + 1500,
            workerId: "w1",
            result: { sent: true }
          }])

          // the directory is this store's while it is open
          const refused = yield* Effect.flip(session(dataDir, () => Effect.void))
          expect(refused).toBeInstanceOf(JobStore.StoreError)
          expect(refused.message).toContain("in use by this process")
          return id!
        }))

      // a lock left by a process that is gone (killed before it could remove it) does not keep the next one out
      Fs.writeFileSync(Path.join(dataDir, "clockwork.lock"), "2147483646")

      yield* session(dataDir, (store) =>
        Effect.gen(function*() {
          // the restarted process registers the same schedule with a first fire time from its own clock
          const again = yield* store.upsertSchedule({ ...digest, firstFireAt: t0 + 10 * minute, now: t0 + 9 * minute })
          expect(again.outcome).toBe("unchanged")
          const schedules = yield* store.listSchedules
          expect(schedules.map((s) => s.id)).toEqual(["digest"])
          expect(DateTime.toEpochMillis(schedules[0]!.nextFireAt!)).toBe(t0 + minute)

          const [record, ...others] = yield* store.history({})
          expect(others).toEqual([])
          expect(record).toMatchObject({ runId, jobName: "send-email", status: "succeeded", result: { sent: true } })
          expect(record!.durationMs).toBe(1500)
          expect((yield* store.getRun(runId)).state).toBe("succeeded")
        }))
    }), 60_000)
})
