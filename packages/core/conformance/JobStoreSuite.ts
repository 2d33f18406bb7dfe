/**
 * The behaviour every JobStore must have, written once and run against each
 * implementation (the in-memory store here, PostgreSQL and PGlite in
 * `@clockwork/pg`), so they cannot drift apart.
 *
 * @since 0.1.0
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Effect, type Layer, Queue, type Scope } from "effect"
import { Feed, JobStore, Journal, Policy, Run, Trigger } from "../src/index.js"

const second = 1000
const minute = 60 * second
const t0 = Date.UTC(2026, 0, 1)

const millis = (instant: DateTime.Utc | undefined): number | undefined =>
  instant === undefined ? undefined : DateTime.toEpochMillis(instant)

const everyMinute = new Trigger.Every({ interval: Duration.minutes(1) })
const nightly = new Trigger.Cron({ expression: "0 3 * * *", timeZone: "Europe/Berlin" })

const scheduleInput = (fields: Partial<JobStore.ScheduleInput> = {}): JobStore.ScheduleInput => ({
  id: "digest",
  jobName: "send-digest",
  payload: { region: "eu", recipients: 3 },
  trigger: everyMinute,
  misfire: Policy.coalesce,
  overlap: "allow",
  misfireGraceMs: minute,
  firstFireAt: t0 + minute,
  now: t0,
  ...fields
})

const newRun = (fields: Partial<JobStore.NewRun> = {}): JobStore.NewRun => ({
  jobName: "send-email",
  payload: { to: "ada@example.com" },
  runAt: t0,
  scheduledFor: t0,
  ...fields
})

const claimRequest = (fields: Partial<JobStore.ClaimRequest> = {}): JobStore.ClaimRequest => ({
  now: t0,
  limit: 100,
  workerId: "worker-1",
  leaseMs: 30 * second,
  ...fields
})

const outcomeOf = (
  claimed: JobStore.ClaimedRun,
  fields: Partial<JobStore.RunOutcome> = {}
): JobStore.RunOutcome => ({
  runId: claimed.id,
  jobName: claimed.jobName,
  attempt: claimed.attempt,
  status: "succeeded",
  scheduledFor: claimed.scheduledFor,
  scheduleId: claimed.scheduleId,
  startedAt: t0,
  finishedAt: t0 + second,
  workerId: "worker-1",
  ...fields
})

// a process restarted later registers the same schedule with a first fire time from its own clock
const restart = { firstFireAt: t0 + 10 * minute, now: t0 + 9 * minute }

const sorted = (ids: ReadonlyArray<string>) => [...ids].sort()

function assertAttempt(entry: Feed.FeedEntry): asserts entry is Extract<Feed.FeedEntry, { _tag: "Attempt" }> {
  expect(entry._tag).toBe("Attempt")
}

/**
 * Declares the conformance suite for one store layer.
 *
 * Each test builds `layer` on its own, so tests never share state: an
 * implementation backed by a database must hand out a fresh, empty store every
 * time its layer is built (a new PGlite instance, or a fresh schema / truncated
 * tables on PostgreSQL).
 *
 * @example
 * ```ts
 * run("memory", JobStore.layerMemory)
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const run = (name: string, layer: Layer.Layer<JobStore.JobStore, unknown>): void => {
  const test = (
    title: string,
    body: (store: JobStore.JobStore) => Effect.Effect<void, unknown, Scope.Scope>,
    timeout?: number
  ) =>
    it.effect(
      title,
      () => JobStore.JobStore.pipe(Effect.flatMap(body), Effect.scoped, Effect.provide(layer)),
      timeout
    )

  /** the runs a claim took */
  const claimRuns = (store: JobStore.JobStore, request: JobStore.ClaimRequest) =>
    Effect.map(store.claim(request), (claimed) => claimed.runs)

  const claimOne = (store: JobStore.JobStore, fields: Partial<JobStore.ClaimRequest> = {}) =>
    Effect.map(claimRuns(store, claimRequest({ limit: 1, ...fields })), (claimed) => {
      expect(claimed).toHaveLength(1)
      return claimed[0]!
    })

  /** a run that lost its lease twice (a suspect), and the instant it is due again */
  const suspectRun = (store: JobStore.JobStore, fields: Partial<JobStore.NewRun> = {}) =>
    Effect.gen(function*() {
      const [suspect] = yield* store.enqueue([newRun(fields)], t0)
      let now = t0
      for (let expiry = 0; expiry < 2; expiry++) {
        yield* claimOne(store, { now, leaseMs: second })
        now += 2 * second
        yield* store.reapExpired(now)
        now = millis((yield* store.getRun(suspect!)).runAt)!
      }
      return { now, suspect: suspect! }
    })

  /** when the next queued run after `now` becomes due, as a claim of nothing at `now` says */
  const nextRunAt = (store: JobStore.JobStore, now: number) =>
    Effect.map(store.claim(claimRequest({ now, limit: 0 })), (claimed) => claimed.nextRunAt)

  describe(`JobStore conformance: ${name}`, () => {
    describe("schedules", () => {
      test("upsert creates a schedule that fires first at firstFireAt", (store) =>
        Effect.gen(function*() {
          const input = scheduleInput({ misfire: Policy.catchUp(3), overlap: "skip", misfireGraceMs: 5 * second })
          const { outcome, schedule } = yield* store.upsertSchedule(input)
          expect(outcome).toBe("created")
          for (const record of [schedule, yield* store.getSchedule("digest")]) {
            expect(record.id).toBe("digest")
            expect(record.jobName).toBe("send-digest")
            expect(record.payload).toEqual({ region: "eu", recipients: 3 })
            expect(record.trigger).toEqual(everyMinute)
            expect(record.misfire).toEqual(Policy.catchUp(3))
            expect(record.overlap).toBe("skip")
            expect(record.misfireGraceMs).toBe(5 * second)
            expect(record.paused).toBe(false)
            expect(millis(record.nextFireAt)).toBe(t0 + minute)
            expect(record.lastFireAt).toBeUndefined()
            expect(millis(record.createdAt)).toBe(t0)
            expect(millis(record.updatedAt)).toBe(t0)
          }
        }))

      test("upsert with the same trigger and payload is unchanged and keeps the next fire time", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          // a restart computes a new first fire time from its own clock; it must not reset the schedule
          const again = yield* store.upsertSchedule(scheduleInput(restart))
          expect(again.outcome).toBe("unchanged")
          expect(millis(again.schedule.nextFireAt)).toBe(t0 + minute)
          expect(millis((yield* store.getSchedule("digest")).nextFireAt)).toBe(t0 + minute)
        }))

      test("upsert with the same payload written in another key order is unchanged (stores compare values, not text)", (store) =>
        Effect.gen(function*() {
          const payload = { region: "eu", tags: { a: 1, b: [1, { x: null, y: "z" }] } }
          yield* store.upsertSchedule(scheduleInput({ payload }))
          const reordered = { tags: { b: [1, { y: "z", x: null }], a: 1 }, region: "eu" }
          expect((yield* store.upsertSchedule(scheduleInput({ ...restart, payload: reordered }))).outcome).toBe("unchanged")
          const [again] = yield* store.upsertSchedules([scheduleInput({ ...restart, payload: reordered })])
          expect(again?.outcome).toBe("unchanged")
          // an element's place in an array is part of the value
          const moved = { region: "eu", tags: { a: 1, b: [{ x: null, y: "z" }, 1] } }
          expect((yield* store.upsertSchedule(scheduleInput({ ...restart, payload: moved }))).outcome).toBe("updated")
        }))

      test("upsert after a fire keeps the advanced next fire time", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          const fired = yield* store.fire({
            scheduleId: "digest",
            expectedNextFireAt: t0 + minute,
            nextFireAt: t0 + 2 * minute,
            runs: [],
            skipIfActive: false,
            now: t0 + minute
          })
          expect(fired.fired).toBe(true)
          const again = yield* store.upsertSchedule(scheduleInput(restart))
          expect(again.outcome).toBe("unchanged")
          expect(millis(again.schedule.nextFireAt)).toBe(t0 + 2 * minute)
          expect(millis(again.schedule.lastFireAt)).toBe(t0 + minute)
        }))

      test("upsert with a changed payload is updated and keeps the next fire time", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          const { outcome, schedule } = yield* store.upsertSchedule(
            scheduleInput({ ...restart, payload: { region: "us", recipients: 3 } })
          )
          expect(outcome).toBe("updated")
          expect(schedule.payload).toEqual({ region: "us", recipients: 3 })
          expect(millis(schedule.nextFireAt)).toBe(t0 + minute)
          expect(millis(schedule.createdAt)).toBe(t0)
          expect(millis(schedule.updatedAt)).toBe(t0 + 9 * minute)
          expect((yield* store.getSchedule("digest")).payload).toEqual({ region: "us", recipients: 3 })
        }))

      test("upsert with a changed trigger is updated and restarts at the new firstFireAt", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          const firstNightly = Date.UTC(2026, 0, 2, 2)
          const { outcome, schedule } = yield* store.upsertSchedule(
            scheduleInput({ trigger: nightly, firstFireAt: firstNightly, now: t0 + 30 * second })
          )
          expect(outcome).toBe("updated")
          expect(schedule.trigger).toEqual(nightly)
          expect(millis(schedule.nextFireAt)).toBe(firstNightly)
          const stored = yield* store.getSchedule("digest")
          expect(stored.trigger).toEqual(nightly)
          expect(millis(stored.nextFireAt)).toBe(firstNightly)
        }))

      test("upsert does not resume a paused schedule", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          yield* store.setPaused("digest", true, undefined, t0)
          const unchanged = yield* store.upsertSchedule(scheduleInput())
          expect(unchanged.schedule.paused).toBe(true)
          const updated = yield* store.upsertSchedule(scheduleInput({ payload: { region: "us" } }))
          expect(updated.outcome).toBe("updated")
          expect(updated.schedule.paused).toBe(true)
          expect(yield* store.dueSchedules(t0 + 10 * minute, 10)).toEqual([])
        }))

      test("many upserts of one id leave one schedule", (store) =>
        Effect.gen(function*() {
          for (let i = 0; i < 20; i++) {
            yield* store.upsertSchedule(scheduleInput({
              payload: { region: "eu", recipients: i % 3 },
              trigger: i % 2 === 0 ? everyMinute : nightly,
              now: t0 + i
            }))
          }
          const all = yield* store.listSchedules
          expect(all.map((s) => s.id)).toEqual(["digest"])
          expect(all[0]!.payload).toEqual({ region: "eu", recipients: 19 % 3 })
          expect(all[0]!.trigger).toEqual(nightly)
        }))

      test("listSchedules returns every schedule", (store) =>
        Effect.gen(function*() {
          expect(yield* store.listSchedules).toEqual([])
          for (const id of ["b-cleanup", "a-digest", "c-report"]) {
            yield* store.upsertSchedule(scheduleInput({ id, jobName: `job-${id}` }))
          }
          const all = yield* store.listSchedules
          expect(sorted(all.map((s) => s.id))).toEqual(["a-digest", "b-cleanup", "c-report"])
          expect(all.find((s) => s.id === "c-report")?.jobName).toBe("job-c-report")
        }))

      test("getSchedule of a missing id fails with ScheduleNotFound", (store) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(store.getSchedule("missing"))
          expect(error).toBeInstanceOf(JobStore.ScheduleNotFound)
          expect(error).toMatchObject({ _tag: "ScheduleNotFound", id: "missing" })
        }))

      test("removeSchedule deletes the schedule; removing a missing id fails", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          yield* store.upsertSchedule(scheduleInput({ id: "other" }))
          yield* store.removeSchedule("digest", t0)
          expect((yield* store.listSchedules).map((s) => s.id)).toEqual(["other"])
          expect(yield* Effect.flip(store.getSchedule("digest"))).toMatchObject({
            _tag: "ScheduleNotFound",
            id: "digest"
          })
          expect((yield* store.dueSchedules(t0 + minute, 10)).map((s) => s.id)).toEqual(["other"])
          const fired = yield* store.fire({
            scheduleId: "digest",
            expectedNextFireAt: t0 + minute,
            nextFireAt: t0 + 2 * minute,
            runs: [newRun({ scheduleId: "digest" })],
            skipIfActive: false,
            now: t0 + minute
          })
          expect(fired).toEqual({ fired: false, runIds: [], skipped: 0 })
          expect(yield* store.listRuns({})).toEqual([])
          expect(yield* Effect.flip(store.removeSchedule("digest", t0))).toMatchObject({
            _tag: "ScheduleNotFound",
            id: "digest"
          })
        }))

      test("a paused schedule is not due and not counted by nextFireAt; resume sets its next fire time", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput({ id: "early", firstFireAt: t0 + minute }))
          yield* store.upsertSchedule(scheduleInput({ id: "late", firstFireAt: t0 + 5 * minute }))
          expect(yield* store.nextFireAt).toBe(t0 + minute)

          const paused = yield* store.setPaused("early", true, undefined, t0 + 10 * second)
          expect(paused.paused).toBe(true)
          expect(millis(paused.updatedAt)).toBe(t0 + 10 * second)
          // the stored fire time survives the pause (resuming a one-shot needs it)
          expect(millis((yield* store.getSchedule("early")).nextFireAt)).toBe(t0 + minute)
          expect((yield* store.dueSchedules(t0 + 10 * minute, 10)).map((s) => s.id)).toEqual(["late"])
          expect(yield* store.nextFireAt).toBe(t0 + 5 * minute)
          const fired = yield* store.fire({
            scheduleId: "early",
            expectedNextFireAt: t0 + minute,
            nextFireAt: t0 + 2 * minute,
            runs: [newRun({ scheduleId: "early" })],
            skipIfActive: false,
            now: t0 + minute
          })
          expect(fired.fired).toBe(false)
          expect(yield* store.listRuns({})).toEqual([])

          const resumed = yield* store.setPaused("early", false, t0 + 3 * minute, t0 + 2 * minute)
          expect(resumed.paused).toBe(false)
          expect(millis(resumed.nextFireAt)).toBe(t0 + 3 * minute)
          expect(yield* store.nextFireAt).toBe(t0 + 3 * minute)
          expect((yield* store.dueSchedules(t0 + 3 * minute, 10)).map((s) => s.id)).toEqual(["early"])
        }))

      test("setPaused of a missing id fails with ScheduleNotFound", (store) =>
        Effect.gen(function*() {
          expect(yield* Effect.flip(store.setPaused("missing", true, undefined, t0))).toMatchObject({
            _tag: "ScheduleNotFound",
            id: "missing"
          })
        }))

      test("nextFireAt is undefined without schedules", (store) =>
        Effect.gen(function*() {
          expect(yield* store.nextFireAt).toBeUndefined()
        }))

      test("dueSchedules returns active schedules due at or before now, earliest first, limited", (store) =>
        Effect.gen(function*() {
          const at = { a: t0 + 30 * second, b: t0 + 10 * second, c: t0 + 20 * second, d: t0 + 31 * second }
          for (const [id, firstFireAt] of Object.entries(at)) {
            yield* store.upsertSchedule(scheduleInput({ id, firstFireAt }))
          }
          yield* store.upsertSchedule(scheduleInput({ id: "paused", firstFireAt: t0 + 5 * second }))
          yield* store.setPaused("paused", true, undefined, t0)

          const due = yield* store.dueSchedules(t0 + 30 * second, 10)
          expect(due.map((s) => s.id)).toEqual(["b", "c", "a"])
          expect(due.map((s) => millis(s.nextFireAt))).toEqual([at.b, at.c, at.a])
          expect((yield* store.dueSchedules(t0 + 30 * second, 2)).map((s) => s.id)).toEqual(["b", "c"])
          expect(yield* store.dueSchedules(t0 + 9 * second, 10)).toEqual([])
          expect(yield* store.nextFireAt).toBe(at.b)
        }))

      test("dueSchedules orders schedules due at the same instant by id, whatever order they were stored in", (store) =>
        Effect.gen(function*() {
          for (const id of ["delta", "alpha", "charlie", "bravo"]) {
            yield* store.upsertSchedule(scheduleInput({ id, firstFireAt: t0 + second }))
          }
          expect((yield* store.dueSchedules(t0 + second, 10)).map((s) => s.id)).toEqual(["alpha", "bravo", "charlie", "delta"])
          // the limit takes the first by that order
          expect((yield* store.dueSchedules(t0 + second, 2)).map((s) => s.id)).toEqual(["alpha", "bravo"])
        }))
    })

    describe("many schedules at once", () => {
      const scheduleChanges = (entries: ReadonlyArray<Feed.FeedEntry>) =>
        entries.flatMap((e) => e._tag === "ScheduleChanged" ? [`${e.scheduleId}:${e.change}`] : [])

      test("upsertSchedules mixes created, updated and unchanged, a result per input in input order", (store) =>
        Effect.gen(function*() {
          const firstNightly = Date.UTC(2026, 0, 2, 2)
          yield* store.upsertSchedules([
            scheduleInput({ id: "same" }),
            scheduleInput({ id: "new-payload" }),
            scheduleInput({ id: "new-trigger" }),
            scheduleInput({ id: "paused" })
          ])
          yield* store.setPaused("paused", true, undefined, t0)
          const before = yield* store.feedEnd

          const results = yield* store.upsertSchedules([
            scheduleInput({ ...restart, id: "new-trigger", trigger: nightly, firstFireAt: firstNightly }),
            scheduleInput({ id: "same", ...restart }),
            scheduleInput({ id: "created", ...restart }),
            scheduleInput({ id: "paused", payload: null, ...restart }),
            scheduleInput({ id: "new-payload", payload: { region: "us" }, ...restart })
          ])
          expect(results.map((r) => [r.schedule.id, r.outcome])).toEqual([
            ["new-trigger", "updated"],
            ["same", "unchanged"],
            ["created", "created"],
            ["paused", "updated"],
            ["new-payload", "updated"]
          ])
          const [newTrigger, same, created, paused, newPayload] = results.map((r) => r.schedule)
          // a changed trigger restarts at the new first fire time; anything else keeps the next fire time
          expect(newTrigger!.trigger).toEqual(nightly)
          expect(millis(newTrigger!.nextFireAt)).toBe(firstNightly)
          expect(millis(same!.nextFireAt)).toBe(t0 + minute)
          expect(millis(same!.updatedAt)).toBe(t0)
          expect(millis(created!.nextFireAt)).toBe(t0 + 10 * minute)
          expect(millis(created!.createdAt)).toBe(t0 + 9 * minute)
          expect(paused!.paused).toBe(true)
          expect(paused!.payload).toBeNull()
          expect(newPayload!.payload).toEqual({ region: "us" })
          expect(millis(newPayload!.nextFireAt)).toBe(t0 + minute)
          expect(millis(newPayload!.updatedAt)).toBe(t0 + 9 * minute)
          for (const record of results.map((r) => r.schedule)) {
            expect(yield* store.getSchedule(record.id)).toEqual(record)
          }
          // only what was written is in the feed
          expect(scheduleChanges(yield* store.readFeed(before, 100)).sort()).toEqual([
            "created:created",
            "new-payload:updated",
            "new-trigger:updated",
            "paused:updated"
          ])
        }))

      test("upsertSchedules of the same definitions again writes nothing", (store) =>
        Effect.gen(function*() {
          const inputs = ["a", "b", "c"].map((id) => scheduleInput({ id, payload: { id } }))
          yield* store.upsertSchedules(inputs)
          const before = yield* store.feedEnd
          const again = yield* store.upsertSchedules(inputs.map((input) => ({ ...input, ...restart })))
          expect(again.map((r) => r.outcome)).toEqual(["unchanged", "unchanged", "unchanged"])
          expect(again.map((r) => millis(r.schedule.updatedAt))).toEqual([t0, t0, t0])
          expect(yield* store.readFeed(before, 100)).toEqual([])
          expect(yield* store.upsertSchedules([])).toEqual([])
        }))

      test("without firstFireAt, a new schedule or a changed trigger starts at the trigger's first fire time", (store) =>
        Effect.gen(function*() {
          const { firstFireAt: _, ...definition } = scheduleInput()
          const created = yield* store.upsertSchedules([
            { ...definition, id: "a" },
            { ...definition, id: "b", trigger: nightly }
          ])
          expect(created.map((r) => millis(r.schedule.nextFireAt))).toEqual([
            Trigger.firstFireAt(everyMinute, t0),
            Trigger.firstFireAt(nightly, t0)
          ])
          const later = t0 + 90 * minute
          const again = yield* store.upsertSchedules([
            { ...definition, id: "a", payload: { region: "us" }, now: later },
            { ...definition, id: "b", now: later }
          ])
          expect(again.map((r) => [r.outcome, millis(r.schedule.nextFireAt)])).toEqual([
            ["updated", Trigger.firstFireAt(everyMinute, t0)],
            ["updated", Trigger.firstFireAt(everyMinute, later)]
          ])
          const one = yield* store.upsertSchedule({ ...definition, id: "c", trigger: nightly, now: later })
          expect(millis(one.schedule.nextFireAt)).toBe(Trigger.firstFireAt(nightly, later))
        }))

      test("upsertSchedules with an id given twice fails naming it, and writes nothing", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput({ id: "kept" }))
          const error = yield* Effect.flip(store.upsertSchedules([
            scheduleInput({ id: "fresh" }),
            scheduleInput({ id: "kept", payload: { region: "us" } }),
            scheduleInput({ id: "fresh", payload: { region: "us" } })
          ]))
          expect(error).toBeInstanceOf(JobStore.StoreError)
          expect(error).toMatchObject({ _tag: "StoreError", kind: "permanent" })
          expect(error.message).toContain(`"fresh"`)
          const all = yield* store.listSchedules
          expect(all.map((s) => s.id)).toEqual(["kept"])
          expect(all[0]!.payload).toEqual({ region: "eu", recipients: 3 })
        }))

      test("upsertSchedules of 2,500 schedules creates them, then finds them unchanged", (store) =>
        Effect.gen(function*() {
          // ids not in sorted order: results still come in input order
          const ids = Array.from({ length: 2_500 }, (_, n) => `tenant-${(n * 7_919) % 2_500}`)
          const inputs = ids.map((id, n) => scheduleInput({ id, payload: { n }, firstFireAt: t0 + n }))
          const created = yield* store.upsertSchedules(inputs)
          expect(created.map((r) => r.schedule.id)).toEqual(ids)
          expect(created.every((r) => r.outcome === "created")).toBe(true)
          expect(created.map((r) => millis(r.schedule.nextFireAt))).toEqual(inputs.map((i) => i.firstFireAt))
          const again = yield* store.upsertSchedules(inputs.map((input) => ({ ...input, ...restart })))
          expect(again.map((r) => r.schedule.id)).toEqual(ids)
          expect(again.every((r) => r.outcome === "unchanged")).toBe(true)
          expect(again.map((r) => r.schedule.payload)).toEqual(inputs.map((i) => i.payload))
          expect((yield* store.listSchedules).length).toBe(2_500)
        }), 60_000)

      test("a subscriber hears of schedules written by upsertSchedules", (store) =>
        Effect.gen(function*() {
          const changes = yield* store.changes
          yield* store.upsertSchedules([scheduleInput({ id: "a" }), scheduleInput({ id: "b" })])
          expect(yield* Queue.take(changes)).toBe("schedules")
        }))
    })

    describe("fire", () => {
      const tick = (fields: Partial<JobStore.ScheduleFire> = {}): JobStore.ScheduleFire => ({
        scheduleId: "digest",
        expectedNextFireAt: t0 + minute,
        nextFireAt: t0 + 2 * minute,
        runs: [newRun({ jobName: "send-digest", scheduleId: "digest", runAt: t0 + minute, scheduledFor: t0 + minute })],
        skipIfActive: false,
        now: t0 + minute,
        ...fields
      })

      const tickAt = (n: number, skipIfActive: boolean) =>
        tick({
          expectedNextFireAt: t0 + n * minute,
          nextFireAt: t0 + (n + 1) * minute,
          runs: [
            newRun({
              jobName: "send-digest",
              scheduleId: "digest",
              runAt: t0 + n * minute,
              scheduledFor: t0 + n * minute
            })
          ],
          skipIfActive,
          now: t0 + n * minute
        })

      test("fire inserts the runs and moves the next fire time", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          const result = yield* store.fire(tick())
          expect(result.fired).toBe(true)
          expect(result.skipped).toBe(0)
          expect(result.runIds).toHaveLength(1)

          const schedule = yield* store.getSchedule("digest")
          expect(millis(schedule.nextFireAt)).toBe(t0 + 2 * minute)
          expect(millis(schedule.lastFireAt)).toBe(t0 + minute)

          const run = yield* store.getRun(result.runIds[0]!)
          expect(run.jobName).toBe("send-digest")
          expect(run.scheduleId).toBe("digest")
          expect(run.state).toBe("queued")
          expect(millis(run.scheduledFor)).toBe(t0 + minute)
          expect((yield* store.dueSchedules(t0 + minute, 10))).toEqual([])
          expect((yield* store.dueSchedules(t0 + 2 * minute, 10)).map((s) => s.id)).toEqual(["digest"])
        }))

      test("a tick fires exactly once: a second fire with the same expected time does nothing", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          const first = yield* store.fire(tick())
          const replay = yield* store.fire(tick({ nextFireAt: t0 + 3 * minute }))
          expect(first.fired).toBe(true)
          expect(replay).toEqual({ fired: false, runIds: [], skipped: 0 })
          expect((yield* store.listRuns({})).map((r) => r.id)).toEqual(first.runIds)
          expect(millis((yield* store.getSchedule("digest")).nextFireAt)).toBe(t0 + 2 * minute)
        }))

      test("fire with a stale expected time does nothing", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          const result = yield* store.fire(tick({ expectedNextFireAt: t0 + 30 * second }))
          expect(result).toEqual({ fired: false, runIds: [], skipped: 0 })
          expect(yield* store.listRuns({})).toEqual([])
          expect(millis((yield* store.getSchedule("digest")).nextFireAt)).toBe(t0 + minute)
        }))

      test("a fire without a next fire time ends a one-shot schedule", (store) =>
        Effect.gen(function*() {
          const at = new Trigger.At({ at: DateTime.unsafeMake(t0 + minute) })
          yield* store.upsertSchedule(scheduleInput({ trigger: at }))
          const result = yield* store.fire(tick({ nextFireAt: undefined }))
          expect(result.fired).toBe(true)
          expect(result.runIds).toHaveLength(1)

          const schedule = yield* store.getSchedule("digest")
          expect(schedule.nextFireAt).toBeUndefined()
          expect(millis(schedule.lastFireAt)).toBe(t0 + minute)
          expect(yield* store.dueSchedules(t0 + 365 * 24 * 60 * minute, 10)).toEqual([])
          expect(yield* store.nextFireAt).toBeUndefined()
          expect((yield* store.fire(tick({ nextFireAt: undefined }))).fired).toBe(false)

          // registering the same one-shot again (a restart) must not make it fire again
          const again = yield* store.upsertSchedule(scheduleInput({ trigger: at }))
          expect(again.outcome).toBe("unchanged")
          expect(again.schedule.nextFireAt).toBeUndefined()
          expect(yield* store.listRuns({})).toHaveLength(1)
        }))

      test("skipIfActive drops the runs while a run of the schedule is queued or running, and still advances", (
        store
      ) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput({ overlap: "skip" }))
          const first = yield* store.fire(tickAt(1, true))
          expect(first.runIds).toHaveLength(1)

          // the first run is still queued
          const whileQueued = yield* store.fire(tickAt(2, true))
          expect(whileQueued).toEqual({ fired: true, runIds: [], skipped: 1 })
          expect(millis((yield* store.getSchedule("digest")).nextFireAt)).toBe(t0 + 3 * minute)

          const claimed = yield* claimOne(store, { now: t0 + 3 * minute })
          expect(claimed.id).toBe(first.runIds[0])
          const whileRunning = yield* store.fire(tickAt(3, true))
          expect(whileRunning).toEqual({ fired: true, runIds: [], skipped: 1 })
          expect(millis((yield* store.getSchedule("digest")).nextFireAt)).toBe(t0 + 4 * minute)
          expect(yield* store.listRuns({ scheduleId: "digest" })).toHaveLength(1)

          yield* store.complete([outcomeOf(claimed, { startedAt: t0 + 3 * minute, finishedAt: t0 + 4 * minute })])
          const afterwards = yield* store.fire(tickAt(4, true))
          expect(afterwards.fired).toBe(true)
          expect(afterwards.skipped).toBe(0)
          expect(afterwards.runIds).toHaveLength(1)
          expect(afterwards.runIds[0]).not.toBe(first.runIds[0])
        }))

      test("skipIfActive ignores runs of other schedules; without it runs overlap", (store) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          yield* store.enqueue([newRun({ scheduleId: "another" })], t0)
          const skipping = yield* store.fire(tickAt(1, true))
          expect(skipping.runIds).toHaveLength(1)
          const overlapping = yield* store.fire(tickAt(2, false))
          expect(overlapping.runIds).toHaveLength(1)
          expect(overlapping.skipped).toBe(0)
          expect(yield* store.listRuns({ scheduleId: "digest" })).toHaveLength(2)
        }))
    })

    describe("enqueue and claim", () => {
      test("enqueue stores the run as given", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([
            newRun({
              payload: { to: "grace@example.com", tags: ["a", "b"] },
              runAt: t0 + minute,
              scheduledFor: t0 + 30 * second,
              scheduleId: "digest",
              priority: 7,
              key: "mail:grace",
              then: ["log-email"]
            })
          ], t0)
          const run = yield* store.getRun(id!)
          expect(run.id).toBe(id)
          expect(run.jobName).toBe("send-email")
          expect(run.payload).toEqual({ to: "grace@example.com", tags: ["a", "b"] })
          expect(run.scheduleId).toBe("digest")
          expect(run.state).toBe("queued")
          expect(run.attempt).toBe(0)
          expect(millis(run.runAt)).toBe(t0 + minute)
          expect(millis(run.scheduledFor)).toBe(t0 + 30 * second)
          expect(run.priority).toBe(7)
          expect(run.key).toBe("mail:grace")
          expect(run.then).toEqual(["log-email"])
          expect(run.result).toBeUndefined()
          expect(run.error).toBeUndefined()
          expect(run.workerId).toBeUndefined()
          expect(millis(run.createdAt)).toBe(t0)

          const [plain] = yield* store.enqueue([newRun()], t0)
          const defaults = yield* store.getRun(plain!)
          expect(defaults.priority).toBe(0)
          expect(defaults.then).toEqual([])
          expect(defaults.scheduleId).toBeUndefined()
          expect(defaults.key).toBeUndefined()
        }))

      test("claim returns due runs only, highest priority first, then earliest runAt", (store) =>
        Effect.gen(function*() {
          const ids = yield* store.enqueue([
            newRun({ payload: "late", runAt: t0 + 2 * second }),
            newRun({ payload: "early", runAt: t0 + 1 * second }),
            newRun({ payload: "urgent", runAt: t0 + 3 * second, priority: 5 }),
            newRun({ payload: "future", runAt: t0 + minute, priority: 9 })
          ], t0)
          const claimed = yield* claimRuns(store, claimRequest({ now: t0 + 10 * second }))
          expect(claimed.map((c) => c.payload)).toEqual(["urgent", "early", "late"])
          expect(claimed.map((c) => c.id)).toEqual([ids[2], ids[1], ids[0]])
          expect(yield* claimRuns(store, claimRequest({ now: t0 + 10 * second }))).toEqual([])
          expect((yield* claimRuns(store, claimRequest({ now: t0 + minute }))).map((c) => c.id)).toEqual([ids[3]])
        }))

      test("a claimed run carries its attempt, payload, schedule and chain, and is held by the worker", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([
            newRun({ scheduleId: "digest", scheduledFor: t0 - second, then: ["log-email"] })
          ], t0)
          const claimed = yield* claimOne(store, { now: t0 + second, workerId: "worker-7" })
          expect(claimed).toEqual({
            id,
            jobName: "send-email",
            payload: { to: "ada@example.com" },
            attempt: 1,
            scheduledFor: t0 - second,
            scheduleId: "digest",
            then: ["log-email"],
            leaseExpiries: 0
          })
          const run = yield* store.getRun(id!)
          expect(run.state).toBe("running")
          expect(run.attempt).toBe(1)
          expect(run.workerId).toBe("worker-7")
        }))

      test("claim respects the limit and never hands out a run twice", (store) =>
        Effect.gen(function*() {
          const ids = yield* store.enqueue(Array.from({ length: 5 }, (_, i) => newRun({ payload: i })), t0)
          const first = yield* claimRuns(store, claimRequest({ limit: 2 }))
          const middle = yield* claimRuns(store, claimRequest({ limit: 2, workerId: "worker-2" }))
          const third = yield* claimRuns(store, claimRequest({ limit: 2 }))
          expect(first).toHaveLength(2)
          expect(middle).toHaveLength(2)
          expect(third).toHaveLength(1)
          expect(yield* claimRuns(store, claimRequest({ limit: 2 }))).toEqual([])
          expect(sorted([...first, ...middle, ...third].map((c) => c.id))).toEqual(sorted(ids))
        }))

      test("jobCapacity caps the runs of a job one claim takes; jobs left out of it are not capped", (store) =>
        Effect.gen(function*() {
          const [email, sms] = yield* store.enqueue([
            newRun({ jobName: "send-email" }),
            newRun({ jobName: "send-sms" }),
            newRun({ jobName: "send-push", payload: 1 }),
            newRun({ jobName: "send-push", payload: 2 }),
            newRun({ jobName: "send-push", payload: 3 })
          ], t0)
          const capped = yield* claimRuns(store, claimRequest({
            jobCapacity: new Map([["send-email", 0], ["send-push", 2]])
          }))
          expect(sorted(capped.map((c) => c.jobName))).toEqual(["send-push", "send-push", "send-sms"])
          expect(capped.map((c) => c.id)).toContain(sms)
          expect((yield* store.getRun(email!)).state).toBe("queued")
          expect(yield* store.listRuns({ jobName: "send-push", state: "queued" })).toHaveLength(1)

          const rest = yield* claimRuns(store, claimRequest({ jobCapacity: new Map([["send-email", 1], ["send-push", 1]]) }))
          expect(sorted(rest.map((c) => c.jobName))).toEqual(["send-email", "send-push"])
          expect(rest.map((c) => c.id)).toContain(email)
        }))

      test("jobNames restricts claims to those jobs", (store) =>
        Effect.gen(function*() {
          const [email, sms, push] = yield* store.enqueue([
            newRun({ jobName: "send-email" }),
            newRun({ jobName: "send-sms" }),
            newRun({ jobName: "send-push" })
          ], t0)
          const restricted = yield* claimRuns(store, claimRequest({ jobNames: ["send-sms", "send-push"] }))
          expect(sorted(restricted.map((c) => c.id))).toEqual(sorted([sms!, push!]))
          expect(yield* claimRuns(store, claimRequest({ jobNames: ["send-sms", "send-push"] }))).toEqual([])
          expect(yield* claimRuns(store, claimRequest({ jobNames: [] }))).toEqual([])
          expect((yield* store.getRun(email!)).state).toBe("queued")
          expect((yield* claimRuns(store, claimRequest())).map((c) => c.id)).toEqual([email])
        }))

      test("serial runs of one schedule start one at a time, in order", (store) =>
        Effect.gen(function*() {
          const [a, b, c, other] = yield* store.enqueue([
            newRun({ scheduleId: "digest", serial: true, runAt: t0, payload: "a" }),
            newRun({ scheduleId: "digest", serial: true, runAt: t0 + 1, payload: "b" }),
            newRun({ scheduleId: "digest", serial: true, runAt: t0 + 2, payload: "c" }),
            newRun({ scheduleId: "cleanup", serial: true, runAt: t0 + 3, payload: "other" })
          ], t0)
          const now = t0 + second
          const first = yield* claimRuns(store, claimRequest({ now }))
          expect(sorted(first.map((r) => r.id))).toEqual(sorted([a!, other!]))
          expect(yield* claimRuns(store, claimRequest({ now }))).toEqual([])

          yield* store.complete([outcomeOf(first.find((r) => r.id === a)!)])
          const next = yield* claimRuns(store, claimRequest({ now }))
          expect(next.map((r) => r.id)).toEqual([b])
          expect(yield* claimRuns(store, claimRequest({ now }))).toEqual([])

          yield* store.complete([outcomeOf(next[0]!, { status: "failed" })])
          expect((yield* claimRuns(store, claimRequest({ now }))).map((r) => r.id)).toEqual([c])
        }))

      test("a serial run waits behind an earlier one of its schedule that this worker cannot take", (store) =>
        Effect.gen(function*() {
          // the schedule's job changed between two fires: the earlier run is of a job this worker does not run
          const [early, late] = yield* store.enqueue([
            newRun({ jobName: "old-report", scheduleId: "digest", serial: true, runAt: t0 }),
            newRun({ jobName: "report", scheduleId: "digest", serial: true, runAt: t0 + 1 })
          ], t0)
          const now = t0 + second
          expect(yield* claimRuns(store, claimRequest({ now, jobNames: ["report"] }))).toEqual([])
          expect(yield* claimRuns(store, claimRequest({ now, jobCapacity: new Map([["old-report", 0]]) }))).toEqual([])
          const [first] = yield* claimRuns(store, claimRequest({ now, jobNames: ["old-report"] }))
          expect(first?.id).toBe(early)
          yield* store.complete([outcomeOf(first!)])
          expect((yield* claimRuns(store, claimRequest({ now, jobNames: ["report"] }))).map((r) => r.id)).toEqual([late])
        }))

      test("cancelling a queued serial run does not release the schedule's running one", (store) =>
        Effect.gen(function*() {
          const [a, b, c] = yield* store.enqueue([
            newRun({ scheduleId: "digest", serial: true, runAt: t0, payload: "a" }),
            newRun({ scheduleId: "digest", serial: true, runAt: t0 + 1, payload: "b" }),
            newRun({ scheduleId: "digest", serial: true, runAt: t0 + 2, payload: "c" })
          ], t0)
          const now = t0 + second
          const first = yield* claimOne(store, { now, limit: 10 })
          expect(first.id).toBe(a)
          expect(yield* store.cancel(b!, now)).toBe("cancelled")
          // `a` still runs, so `c` must wait for it
          expect(yield* claimRuns(store, claimRequest({ now }))).toEqual([])
          yield* store.complete([outcomeOf(first)])
          expect((yield* claimRuns(store, claimRequest({ now }))).map((r) => r.id)).toEqual([c])
        }))

      test("a dedup key returns the existing run while it is queued or running, a new run once it finished", (store) =>
        Effect.gen(function*() {
          const [first] = yield* store.enqueue([newRun({ key: "welcome:ada" })], t0)
          expect(yield* store.enqueue([newRun({ key: "welcome:ada", payload: "again" })], t0)).toEqual([first])
          const inOneCall = yield* store.enqueue([newRun({ key: "welcome:bob" }), newRun({ key: "welcome:bob" })], t0)
          expect(inOneCall[0]).toBe(inOneCall[1])
          expect(inOneCall[0]).not.toBe(first)

          const claimed = yield* claimRuns(store, claimRequest({ jobNames: ["send-email"], limit: 1 }))
          expect(claimed.map((c) => c.id)).toEqual([first])
          expect(yield* store.enqueue([newRun({ key: "welcome:ada" })], t0)).toEqual([first])
          expect((yield* store.getRun(first!)).payload).toEqual({ to: "ada@example.com" })

          yield* store.complete([outcomeOf(claimed[0]!)])
          const [renewed] = yield* store.enqueue([newRun({ key: "welcome:ada" })], t0 + 2 * second)
          expect(renewed).not.toBe(first)
          expect((yield* store.getRun(renewed!)).state).toBe("queued")

          // a cancelled run frees its key too
          expect(yield* store.cancel(renewed!, t0 + 2 * second)).toBe("cancelled")
          const [third] = yield* store.enqueue([newRun({ key: "welcome:ada" })], t0 + 3 * second)
          expect([first, renewed]).not.toContain(third)
          expect(yield* store.listRuns({ state: "queued" })).toHaveLength(2)
        }))

      test("nextRunAt(t) is the earliest runAt after t of a queued run", (store) =>
        Effect.gen(function*() {
          expect(yield* nextRunAt(store, t0)).toBeUndefined()
          const [late, early] = yield* store.enqueue([
            newRun({ runAt: t0 + 20 * second, priority: 9 }),
            newRun({ runAt: t0 + 5 * second })
          ], t0)
          expect(yield* nextRunAt(store, t0)).toBe(t0 + 5 * second)
          // runs due at or before t are the claim's business
          expect(yield* nextRunAt(store, t0 + 5 * second)).toBe(t0 + 20 * second)
          expect(yield* store.cancel(early!, t0)).toBe("cancelled")
          expect(yield* nextRunAt(store, t0)).toBe(t0 + 20 * second)
          yield* claimOne(store, { now: t0 + 20 * second })
          expect(yield* nextRunAt(store, t0)).toBeUndefined()
          expect((yield* store.getRun(late!)).state).toBe("running")
        }))

      test("a claim says when the next queued run after its now becomes due; a limit of 0 claims nothing", (store) =>
        Effect.gen(function*() {
          const [due, soon, later] = yield* store.enqueue([
            newRun({ runAt: t0 }),
            newRun({ runAt: t0 + 5 * second }),
            newRun({ runAt: t0 + 20 * second })
          ], t0)
          const nothing = yield* store.claim(claimRequest({ now: t0, limit: 0 }))
          expect(nothing).toEqual({ runs: [], nextRunAt: t0 + 5 * second, suspectWaiting: false })
          expect((yield* store.getRun(due!)).state).toBe("queued")
          const first = yield* store.claim(claimRequest({ now: t0 }))
          expect(first.runs.map((c) => c.id)).toEqual([due])
          expect(first.nextRunAt).toBe(t0 + 5 * second)
          const second_ = yield* store.claim(claimRequest({ now: t0 + 5 * second }))
          expect(second_.runs.map((c) => c.id)).toEqual([soon])
          expect(second_.nextRunAt).toBe(t0 + 20 * second)
          const last = yield* store.claim(claimRequest({ now: t0 + 20 * second }))
          expect(last.runs.map((c) => c.id)).toEqual([later])
          expect(last.nextRunAt).toBeUndefined()
        }))

      test("nextRunAt(t) sees future runs while due runs wait for capacity", (store) =>
        Effect.gen(function*() {
          yield* store.enqueue([
            newRun({ jobName: "busy", runAt: t0 }),
            newRun({ jobName: "other", runAt: t0 + 30 * second })
          ], t0)
          const claimed = yield* claimRuns(store, claimRequest({ now: t0, jobCapacity: new Map([["busy", 0]]) }))
          expect(claimed).toEqual([])
          expect(yield* nextRunAt(store, t0)).toBe(t0 + 30 * second)
        }))
    })

    describe("complete", () => {
      test("a succeeded run keeps its result and is recorded in the history", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun({ scheduleId: "digest", scheduledFor: t0 - second })], t0)
          const claimed = yield* claimOne(store, { now: t0 + second, workerId: "worker-3" })
          yield* store.complete([outcomeOf(claimed, {
            startedAt: t0 + second,
            finishedAt: t0 + 4 * second,
            workerId: "worker-3",
            result: { delivered: true, messageId: "m-1" },
            metrics: { bytes: 2048, provider: "smtp" }
          })])

          const run = yield* store.getRun(id!)
          expect(run.state).toBe("succeeded")
          expect(run.result).toEqual({ delivered: true, messageId: "m-1" })
          expect(run.attempt).toBe(1)

          const rows = yield* store.history({ runId: id! })
          expect(rows).toHaveLength(1)
          const row = rows[0]!
          expect(row.runId).toBe(id)
          expect(row.jobName).toBe("send-email")
          expect(row.scheduleId).toBe("digest")
          expect(row.status).toBe("succeeded")
          expect(row.attempt).toBe(1)
          expect(DateTime.isDateTime(row.startedAt)).toBe(true)
          expect(DateTime.isDateTime(row.finishedAt)).toBe(true)
          expect(millis(row.scheduledFor)).toBe(t0 - second)
          expect(millis(row.startedAt)).toBe(t0 + second)
          expect(millis(row.finishedAt)).toBe(t0 + 4 * second)
          expect(row.durationMs).toBe(3 * second)
          expect(row.result).toEqual({ delivered: true, messageId: "m-1" })
          expect(row.metrics).toEqual({ bytes: 2048, provider: "smtp" })
          expect(row.workerId).toBe("worker-3")
          expect(row.error).toBeUndefined()
          expect(row.retryAt).toBeUndefined()
        }))

      test("retryAt queues the run again, claimable at retryAt as attempt 2", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          const claimed = yield* claimOne(store)
          const error = new Run.RunError({
            tag: "SmtpError",
            message: "connection refused",
            cause: "Error: ECONNREFUSED"
          })
          yield* store.complete([outcomeOf(claimed, {
            status: "failed",
            finishedAt: t0 + second,
            error,
            retryAt: t0 + 10 * second
          })])

          const run = yield* store.getRun(id!)
          expect(run.state).toBe("queued")
          expect(run.attempt).toBe(1)
          expect(millis(run.runAt)).toBe(t0 + 10 * second)
          expect(run.error).toEqual(error)
          expect(yield* nextRunAt(store, t0 + 5 * second)).toBe(t0 + 10 * second)
          expect(yield* claimRuns(store, claimRequest({ now: t0 + 10 * second - 1 }))).toEqual([])

          const again = yield* claimOne(store, { now: t0 + 10 * second })
          expect(again.id).toBe(id)
          expect(again.attempt).toBe(2)
          expect((yield* store.getRun(id!)).attempt).toBe(2)

          const [row] = yield* store.history({ runId: id! })
          expect(row!.status).toBe("failed")
          expect(row!.attempt).toBe(1)
          expect(row!.error).toEqual(error)
          expect(millis(row!.retryAt)).toBe(t0 + 10 * second)
          expect(row!.durationMs).toBe(second)
        }))

      test("failed, timed_out and dead runs end in that state", (store) =>
        Effect.gen(function*() {
          yield* store.enqueue([newRun({ payload: 0 }), newRun({ payload: 1 }), newRun({ payload: 2 })], t0)
          const claimed = yield* claimRuns(store, claimRequest())
          const statuses = ["failed", "timed_out", "dead"] as const
          const error = new Run.RunError({ tag: "Boom", message: "it broke", cause: "Error: it broke" })
          yield* store.complete(claimed.map((c, i) => outcomeOf(c, { status: statuses[i]!, error })))
          for (const [i, c] of claimed.entries()) {
            const run = yield* store.getRun(c.id)
            expect(run.state).toBe(statuses[i])
            expect(run.error).toEqual(error)
          }
          expect(yield* claimRuns(store, claimRequest({ now: t0 + minute }))).toEqual([])
          expect(yield* nextRunAt(store, t0)).toBeUndefined()
        }))

      test("followUps are enqueued with the completion", (store) =>
        Effect.gen(function*() {
          yield* store.enqueue([newRun({ then: ["log-email"] })], t0)
          const claimed = yield* claimOne(store)
          yield* store.complete([outcomeOf(claimed, {
            result: { messageId: "m-1" },
            followUps: [
              newRun({ jobName: "log-email", payload: { messageId: "m-1" }, runAt: t0 + 2 * second }),
              newRun({ jobName: "bill-customer", payload: { cents: 5 }, runAt: t0 + 2 * second })
            ]
          })])
          expect(yield* claimRuns(store, claimRequest({ now: t0 + 2 * second - 1 }))).toEqual([])
          const next = yield* claimRuns(store, claimRequest({ now: t0 + 2 * second }))
          expect(sorted(next.map((c) => c.jobName))).toEqual(["bill-customer", "log-email"])
          expect(next.find((c) => c.jobName === "log-email")?.payload).toEqual({ messageId: "m-1" })
          expect(next.every((c) => c.attempt === 1)).toBe(true)
        }))

      test("one call completes a batch of many outcomes", (store) =>
        Effect.gen(function*() {
          const ids = yield* store.enqueue(Array.from({ length: 50 }, (_, i) => newRun({ payload: i })), t0)
          const claimed = yield* claimRuns(store, claimRequest())
          expect(claimed).toHaveLength(50)
          yield* store.complete(claimed.map((c) =>
            outcomeOf(c, {
              status: (c.payload as number) % 2 === 0 ? "succeeded" : "dead",
              result: (c.payload as number) * 10,
              finishedAt: t0 + second + (c.payload as number)
            })
          ))
          for (const [i, id] of ids.entries()) {
            const run = yield* store.getRun(id)
            expect(run.state).toBe(i % 2 === 0 ? "succeeded" : "dead")
          }
          expect(yield* store.history({ limit: 1000 })).toHaveLength(50)
          expect(yield* store.history({ status: "succeeded", limit: 1000 })).toHaveLength(25)
          expect(yield* store.listRuns({ state: ["queued", "running"] })).toEqual([])
        }))

      test("an outcome for an attempt the run no longer holds is refused: nothing of it is recorded", (store) =>
        Effect.gen(function*() {
          const [id, other] = yield* store.enqueue([newRun(), newRun({ runAt: t0 + 15 * second })], t0)
          const stale = yield* claimOne(store, { leaseMs: 10 * second })
          expect(yield* store.reapExpired(t0 + 11 * second)).toBe(1)
          const current = yield* claimOne(store, { now: t0 + 20 * second, workerId: "worker-2" })
          expect(current.id).toBe(id)
          expect(current.attempt).toBe(2)
          const otherClaim = yield* claimOne(store, { now: t0 + 20 * second, workerId: "worker-1" })
          expect(otherClaim.id).toBe(other)

          // the first worker was only slow, not dead, and reports late, in a batch with a run it still holds
          const { refused } = yield* store.complete([
            outcomeOf(stale, { finishedAt: t0 + 21 * second, result: "stale" }),
            outcomeOf(otherClaim, { finishedAt: t0 + 21 * second })
          ])
          expect(refused).toEqual([id])
          const run = yield* store.getRun(id!)
          expect(run.state).toBe("running")
          expect(run.attempt).toBe(2)
          expect(run.workerId).toBe("worker-2")
          // no second row beside the lease expiry's: the history has what the current holder reports, once
          expect((yield* store.history({ runId: id! })).map((r) => r.status)).toEqual(["interrupted"])
          expect((yield* store.getRun(other!)).state).toBe("succeeded")

          const { refused: none } = yield* store.complete([
            outcomeOf(current, { finishedAt: t0 + 22 * second, workerId: "worker-2" })
          ])
          expect(none).toEqual([])
          expect((yield* store.history({ runId: id! })).map((r) => [r.attempt, r.status])).toEqual([
            [2, "succeeded"],
            [1, "interrupted"]
          ])
        }))

      test("an outcome for a run that is not running is refused", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          const claimed = yield* claimOne(store)
          expect((yield* store.complete([outcomeOf(claimed)])).refused).toEqual([])
          expect((yield* store.complete([outcomeOf(claimed, { status: "failed" })])).refused).toEqual([id])
          expect((yield* store.getRun(id!)).state).toBe("succeeded")
          expect(yield* store.history({ runId: id! })).toHaveLength(1)
        }))
    })

    describe("dependents", () => {
      const parentFailed = (parent: JobStore.ClaimedRun, state: Run.RunState) =>
        new Run.ParentFailed({ parentRunId: parent.id, parentJobName: parent.jobName, parentState: state }).message

      test("a run that ends without success records each then-job as a cancelled run, with its history row", (store) =>
        Effect.gen(function*() {
          const statuses = ["failed", "timed_out", "dead", "cancelled", "interrupted"] as const
          yield* store.enqueue(statuses.map((_, i) => newRun({ payload: i, then: ["log-email", "bill-customer"] })), t0)
          const claimed = [...(yield* claimRuns(store, claimRequest()))].sort((a, b) =>
            (a.payload as number) - (b.payload as number)
          )
          const error = new Run.RunError({ tag: "Boom", message: "it broke", cause: "Error: it broke" })
          yield* store.complete(claimed.map((c, i) =>
            outcomeOf(c, { status: statuses[i]!, finishedAt: t0 + (i + 1) * second, error })
          ))

          // an interrupted attempt that is not queued again ends the run failed
          const ended = ["failed", "timed_out", "dead", "cancelled", "failed"] as const
          const logEmails = yield* store.listRuns({ jobName: "log-email" })
          const bills = yield* store.listRuns({ jobName: "bill-customer" })
          expect(logEmails).toHaveLength(5)
          expect(bills).toHaveLength(5)
          for (const [i, parent] of claimed.entries()) {
            expect((yield* store.getRun(parent.id)).state).toBe(ended[i])
            const message = parentFailed(parent, ended[i]!)
            for (const runs of [logEmails, bills]) {
              const dependent = runs.find((r) => r.error?.message === message)
              expect(dependent, message).toBeDefined()
              expect(dependent!.state).toBe("cancelled")
              expect(dependent!.attempt).toBe(0)
              expect(dependent!.error).toEqual(new Run.RunError({ tag: "ParentFailed", message, cause: "" }))
              expect(millis(dependent!.createdAt)).toBe(t0 + (i + 1) * second)
              const rows = yield* store.history({ runId: dependent!.id })
              expect(rows).toHaveLength(1)
              expect(rows[0]!.status).toBe("cancelled")
              expect(rows[0]!.jobName).toBe(dependent!.jobName)
              expect(rows[0]!.attempt).toBe(0)
              expect(rows[0]!.error).toEqual(dependent!.error)
              expect(millis(rows[0]!.finishedAt)).toBe(t0 + (i + 1) * second)
            }
          }
          // never run
          expect(yield* claimRuns(store, claimRequest({ now: t0 + minute }))).toEqual([])
          expect(yield* nextRunAt(store, t0)).toBeUndefined()
          // ten dependents, and the cancelled parent's own attempt
          expect(yield* store.history({ status: "cancelled", limit: 100 })).toHaveLength(11)
        }))

      test("a queued run cancelled, or one cancelled while it ran that ends at a workflow's wait, records its then-jobs cancelled", (store) =>
        Effect.gen(function*() {
          const [queued, waiting] = yield* store.enqueue([
            newRun({ payload: "queued", runAt: t0 + minute, then: ["log-email", "bill-customer"] }),
            newRun({ payload: "waiting", then: ["log-email"] })
          ], t0)
          expect(yield* store.cancel(queued!, t0 + second)).toBe("cancelled")
          const [claim] = yield* claimRuns(store, claimRequest())
          expect(claim!.id).toBe(waiting)
          expect(yield* store.cancel(waiting!, t0 + second)).toBe("running")
          expect(yield* store.suspend({ runId: waiting!, attempt: 1, wakeAt: t0 + minute, wakes: 0, now: t0 + 2 * second }))
            .toBe(true)
          expect((yield* store.getRun(waiting!)).state).toBe("cancelled")

          const parents = [
            { id: queued!, jobNames: ["bill-customer", "log-email"], at: t0 + second },
            { id: waiting!, jobNames: ["log-email"], at: t0 + 2 * second }
          ]
          const dependents = [
            ...(yield* store.listRuns({ jobName: "log-email" })),
            ...(yield* store.listRuns({ jobName: "bill-customer" }))
          ]
          expect(dependents).toHaveLength(3)
          for (const parent of parents) {
            const message = new Run.ParentFailed({ parentRunId: parent.id, parentJobName: "send-email", parentState: "cancelled" })
              .message
            const mine = dependents.filter((r) => r.error?.message === message)
            expect(mine.map((r) => r.jobName).sort(), message).toEqual(parent.jobNames)
            for (const dependent of mine) {
              expect(dependent.state).toBe("cancelled")
              expect(dependent.attempt).toBe(0)
              expect(dependent.error).toEqual(new Run.RunError({ tag: "ParentFailed", message, cause: "" }))
              expect(millis(dependent.createdAt)).toBe(parent.at)
              const rows = yield* store.history({ runId: dependent.id })
              expect(rows.map((r) => [r.status, r.attempt, millis(r.finishedAt)])).toEqual([["cancelled", 0, parent.at]])
              expect(rows[0]!.error).toEqual(dependent.error)
            }
          }
          // never run
          expect(yield* claimRuns(store, claimRequest({ now: t0 + 2 * minute }))).toEqual([])
        }))

      test("a retry, a success and an outcome for an attempt the run no longer holds record no dependent", (store) =>
        Effect.gen(function*() {
          const [retried, succeeded, stale] = yield* store.enqueue([
            newRun({ payload: "retried", then: ["log-email"] }),
            newRun({ payload: "succeeded", then: ["log-email"] }),
            newRun({ payload: "stale", then: ["log-email"] })
          ], t0)
          const claimed = yield* claimRuns(store, claimRequest({ leaseMs: 10 * second }))
          const of = (id: Run.RunId | undefined) => claimed.find((c) => c.id === id)!
          const error = new Run.RunError({ tag: "Boom", message: "it broke", cause: "" })
          yield* store.complete([
            outcomeOf(of(retried), { status: "failed", error, retryAt: t0 + 5 * second }),
            outcomeOf(of(succeeded), { result: "done" })
          ])
          // the stale attempt's lease was reaped; its late report of a failure changes nothing
          expect(yield* store.reapExpired(t0 + 11 * second)).toBe(1)
          yield* store.complete([outcomeOf(of(stale), { status: "dead", error })])
          expect(yield* store.listRuns({ jobName: "log-email" })).toEqual([])
          expect((yield* store.getRun(stale!)).state).toBe("queued")
        }))
    })

    describe("stored values", () => {
      // what the storable check lets through, every store must give back unchanged
      const awkward = {
        text: "quote \" backslash \\ tab \t newline \n escape-looking \\u0000 \u0001 \u001f \u007f",
        unicode: "é 😀 \uffff \u2028 \u{10ffff} 中文",
        numbers: [0, -1.5, 0.1 + 0.2, 1e21, 1e300, 5e-324, 2 ** 53, -(2 ** 53), Number.MAX_VALUE],
        nested: { "key with spaces": [null, true, false, { "": "empty key", "😀": 1 }] },
        empty: { object: {}, array: [], string: "" }
      }
      const awkwardName = "résumé \"quoted\" \\ 😀 \u0001"

      test("awkward but storable values, names and errors come back unchanged", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([
            newRun({ jobName: awkwardName, payload: awkward, key: awkwardName, scheduleId: awkwardName })
          ], t0)
          const run = yield* store.getRun(id!)
          expect(run.payload).toEqual(awkward)
          expect(run.jobName).toBe(awkwardName)
          expect(run.key).toBe(awkwardName)
          expect(run.scheduleId).toBe(awkwardName)

          const claimed = yield* claimOne(store)
          expect(claimed.payload).toEqual(awkward)
          const error = new Run.RunError({ tag: awkwardName, message: awkward.text, cause: awkward.unicode })
          yield* store.complete([outcomeOf(claimed, { status: "failed", result: awkward, metrics: awkward, error })])
          const [row] = yield* store.history({ runId: id! })
          expect(row!.result).toEqual(awkward)
          expect(row!.metrics).toEqual(awkward)
          expect(row!.error).toEqual(error)
          expect((yield* store.getRun(id!)).error).toEqual(error)

          const { schedule } = yield* store.upsertSchedule(scheduleInput({ id: awkwardName, payload: awkward }))
          expect(schedule.id).toBe(awkwardName)
          expect(schedule.payload).toEqual(awkward)
          expect((yield* store.getSchedule(awkwardName)).payload).toEqual(awkward)
          expect((yield* store.upsertSchedule(scheduleInput({ id: awkwardName, payload: awkward }))).outcome).toBe(
            "unchanged"
          )
        }))
    })

    describe("cancel", () => {
      test("a queued run is cancelled, recorded and never claimed", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun({ runAt: t0 + minute, scheduleId: "digest" })], t0)
          expect(yield* store.cancel(id!, t0 + second)).toBe("cancelled")
          expect((yield* store.getRun(id!)).state).toBe("cancelled")
          const rows = yield* store.history({ runId: id! })
          expect(rows).toHaveLength(1)
          expect(rows[0]!.status).toBe("cancelled")
          expect(rows[0]!.jobName).toBe("send-email")
          expect(rows[0]!.scheduleId).toBe("digest")
          expect(millis(rows[0]!.finishedAt)).toBe(t0 + second)
          expect(yield* claimRuns(store, claimRequest({ now: t0 + 2 * minute }))).toEqual([])
          expect(yield* nextRunAt(store, t0)).toBeUndefined()
          expect(yield* store.cancel(id!, t0 + 2 * second)).toBe("finished")
        }))

      test("a running run reports running and keeps running", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          yield* claimOne(store)
          expect(yield* store.cancel(id!, t0 + second)).toBe("running")
          const run = yield* store.getRun(id!)
          expect(run.state).toBe("running")
          expect(run.workerId).toBe("worker-1")
          expect(yield* store.history({ runId: id! })).toEqual([])
        }))

      test("cancelling a running run requests it: the holder hears it through the change feed and its heartbeat", (store) =>
        Effect.gen(function*() {
          const [id, other] = yield* store.enqueue([newRun(), newRun()], t0)
          const changes = yield* store.changes
          const claimed = yield* claimRuns(store, claimRequest())
          const held = claimed.map((c) => ({ runId: c.id, attempt: c.attempt }))
          expect(yield* store.heartbeat("worker-1", held, t0 + minute)).toEqual({ lost: [], cancelRequested: [] })
          yield* Queue.takeAll(changes)

          expect(yield* store.cancel(id!, t0 + second)).toBe("running")
          yield* Effect.repeat(Queue.take(changes), { until: (change) => change === "cancels" })
          const beat = yield* store.heartbeat("worker-1", held, t0 + minute)
          expect(beat).toEqual({ lost: [], cancelRequested: [id] })
          // a second request changes nothing
          expect(yield* store.cancel(id!, t0 + second)).toBe("running")

          // the worker interrupts it and reports it cancelled
          const cancelled = claimed.find((c) => c.id === id)!
          yield* store.complete([outcomeOf(cancelled, { status: "cancelled", finishedAt: t0 + 2 * second })])
          expect((yield* store.getRun(id!)).state).toBe("cancelled")
          expect((yield* store.getRun(other!)).state).toBe("running")
          expect((yield* store.history({ runId: id! })).map((r) => r.status)).toEqual(["cancelled"])
        }))

      test("a run whose cancellation was requested ends cancelled when its attempt would be retried", (store) =>
        Effect.gen(function*() {
          const [id, other] = yield* store.enqueue([newRun({ then: ["cleanup"] }), newRun()], t0)
          const claimed = yield* claimRuns(store, claimRequest())
          expect(yield* store.cancel(id!, t0 + second)).toBe("running")
          // the attempt failed before it heard of the request: its retry is not queued
          const failed = new Run.RunError({ tag: "Timeout", message: "upstream timed out", cause: "" })
          const run = claimed.find((c) => c.id === id)!
          const result = yield* store.complete([
            outcomeOf(run, { status: "failed", error: failed, finishedAt: t0 + 2 * second, retryAt: t0 + minute })
          ])
          expect(result.refused).toEqual([])
          expect((yield* store.getRun(id!)).state).toBe("cancelled")
          const [row] = yield* store.history({ runId: id! })
          expect([row?.status, row?.retryAt, row?.error?.tag]).toEqual(["cancelled", undefined, "Timeout"])
          expect(yield* claimRuns(store, claimRequest({ now: t0 + 2 * minute }))).toEqual([])
          expect((yield* store.listRuns({ jobName: "cleanup" })).map((r) => r.state)).toEqual(["cancelled"])
          // a run without a request is retried, and one queued again carries no request into its next attempt
          const second_ = claimed.find((c) => c.id === other)!
          yield* store.complete([outcomeOf(second_, { status: "failed", error: failed, retryAt: t0 + minute })])
          const again = yield* claimOne(store, { now: t0 + minute })
          expect([again.id, again.attempt]).toEqual([other, 2])
          expect(yield* store.heartbeat("worker-1", [{ runId: other!, attempt: 2 }], t0 + 2 * minute))
            .toEqual({ lost: [], cancelRequested: [] })
        }))

      test("a run whose cancellation was requested ends cancelled when its lease expires", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          yield* claimOne(store, { leaseMs: 10 * second })
          expect(yield* store.cancel(id!, t0 + second)).toBe("running")
          expect(yield* store.reapExpired(t0 + 11 * second)).toBe(1)
          expect((yield* store.getRun(id!)).state).toBe("cancelled")
          expect((yield* store.history({ runId: id! })).map((r) => r.status)).toEqual(["cancelled"])
          expect(yield* claimRuns(store, claimRequest({ now: t0 + 10 * minute }))).toEqual([])
        }))

      test("a finished run reports finished; an unknown id reports not_found", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          yield* store.complete([outcomeOf(yield* claimOne(store))])
          expect(yield* store.cancel(id!, t0 + second)).toBe("finished")
          expect((yield* store.getRun(id!)).state).toBe("succeeded")
          expect(yield* store.cancel("no-such-run" as Run.RunId, t0)).toBe("not_found")
        }))
    })

    describe("leases", () => {
      test("reapExpired queues again a run whose lease expired and records it as interrupted", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun({ scheduleId: "digest" })], t0)
          yield* claimOne(store, { now: t0, workerId: "worker-1", leaseMs: 30 * second })
          expect(yield* store.reapExpired(t0 + 10 * second)).toBe(0)
          expect((yield* store.getRun(id!)).state).toBe("running")

          expect(yield* store.reapExpired(t0 + 31 * second)).toBe(1)
          const run = yield* store.getRun(id!)
          expect(run.state).toBe("queued")
          expect(run.attempt).toBe(1)
          expect(run.workerId).toBeUndefined()
          // due again after the first expiry's backoff: 1 s times a random factor in [0.5, 1.5)
          const dueAgain = millis(run.runAt)!
          expect(dueAgain).toBeGreaterThanOrEqual(t0 + 31 * second + 500)
          expect(dueAgain).toBeLessThan(t0 + 31 * second + 1500)

          const rows = yield* store.history({ runId: id! })
          expect(rows).toHaveLength(1)
          const row = rows[0]!
          expect(row.status).toBe("interrupted")
          expect(row.attempt).toBe(1)
          expect(row.scheduleId).toBe("digest")
          expect(row.workerId).toBe("worker-1")
          expect(row.error).toBeDefined()
          expect(row.error!.tag).toBe("LeaseExpired")
          expect(millis(row.retryAt)).toBe(dueAgain)
          // the attempt started when it was claimed, not when its lease ran out
          expect(millis(row.startedAt)).toBe(t0)
          expect(millis(row.finishedAt)).toBe(t0 + 31 * second)

          expect(yield* claimRuns(store, claimRequest({ now: dueAgain - 1, workerId: "worker-2" }))).toEqual([])
          const again = yield* claimOne(store, { now: dueAgain, workerId: "worker-2" })
          expect(again.id).toBe(id)
          expect(again.attempt).toBe(2)
          expect(again.leaseExpiries).toBe(1)
          expect(yield* store.reapExpired(t0 + 40 * second)).toBe(0)
        }))

      test("each expiry of a run's lease is counted, and backs it off further", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          let now = t0
          for (let expiry = 1; expiry <= 4; expiry++) {
            const claimed = yield* claimOne(store, { now, leaseMs: second })
            expect(claimed.leaseExpiries).toBe(expiry - 1)
            now += 2 * second
            expect(yield* store.reapExpired(now)).toBe(1)
            const runAt = millis((yield* store.getRun(id!)).runAt)!
            const base = 1000 * 2 ** (expiry - 1)
            expect(runAt - now).toBeGreaterThanOrEqual(base * 0.5)
            expect(runAt - now).toBeLessThan(base * 1.5)
            now = runAt
          }
          const rows = yield* store.history({ runId: id! })
          expect(rows.map((r) => r.attempt)).toEqual([4, 3, 2, 1])
          expect(rows.every((r) => r.status === "interrupted" && r.error?.tag === "LeaseExpired")).toBe(true)
          expect(rows[0]!.error!.message).toContain("4 times")
        }))

      test("maxLeaseExpiries leaves runs whose lease expired more often to other claims", (store) =>
        Effect.gen(function*() {
          const { now, suspect } = yield* suspectRun(store)
          const [fresh] = yield* store.enqueue([newRun({ runAt: now })], now)
          const busy = yield* claimRuns(store, claimRequest({ now, maxLeaseExpiries: 1 }))
          expect(busy.map((c) => c.id)).toEqual([fresh])
          const idle = yield* claimRuns(store, claimRequest({ now }))
          expect(idle.map((c) => [c.id, c.leaseExpiries])).toEqual([[suspect, 2]])
        }))

      test("suspectIfNoneDue takes one suspect, alone, only when no other run is due; a claim says when one waits", (store) =>
        Effect.gen(function*() {
          const { now, suspect } = yield* suspectRun(store, { jobName: "send-sms" })
          const [fresh] = yield* store.enqueue([newRun({ runAt: now })], now)
          const ordinary = { now, maxLeaseExpiries: 1, suspectIfNoneDue: true }
          // another run is due: it is taken, and the claim says a suspect waits
          const busy = yield* store.claim(claimRequest(ordinary))
          expect(busy.runs.map((c) => c.id)).toEqual([fresh])
          expect(busy.suspectWaiting).toBe(true)
          // not for a worker without the suspect's job
          const elsewhere = yield* store.claim(claimRequest({ ...ordinary, jobNames: ["send-email"] }))
          expect(elsewhere.runs).toEqual([])
          expect(elsewhere.suspectWaiting).toBe(false)
          // without suspectIfNoneDue, nothing is taken
          const waiting = yield* store.claim(claimRequest({ now, maxLeaseExpiries: 1 }))
          expect(waiting.runs).toEqual([])
          expect(waiting.suspectWaiting).toBe(true)
          // with it, and nothing else due: the suspect, alone
          const idle = yield* store.claim(claimRequest(ordinary))
          expect(idle.runs.map((c) => [c.id, c.leaseExpiries])).toEqual([[suspect, 2]])
          expect(idle.suspectWaiting).toBe(false)
          expect((yield* store.getRun(suspect)).state).toBe("running")
        }))

      test("a crashed worker's runs come back spread out, not all due at one instant", (store) =>
        Effect.gen(function*() {
          const ids = yield* store.enqueue(Array.from({ length: 20 }, () => newRun()), t0)
          yield* claimRuns(store, claimRequest({ leaseMs: second }))
          expect(yield* store.reapExpired(t0 + 2 * second)).toBe(20)
          const dueAt = new Set<number>()
          for (const id of ids) dueAt.add(millis((yield* store.getRun(id)).runAt)!)
          expect(dueAt.size).toBeGreaterThan(10)
        }))

      test("a heartbeat from the holding worker extends the lease", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          yield* claimOne(store, { workerId: "worker-1", leaseMs: 30 * second })
          expect(yield* store.heartbeat("worker-1", [{ runId: id!, attempt: 1 }], t0 + 90 * second)).toEqual({
            lost: [],
            cancelRequested: []
          })
          expect(yield* store.reapExpired(t0 + 60 * second)).toBe(0)
          expect((yield* store.getRun(id!)).state).toBe("running")
          expect(yield* store.reapExpired(t0 + 91 * second)).toBe(1)
          expect((yield* store.getRun(id!)).state).toBe("queued")
        }))

      test("a heartbeat from another worker does not extend the lease", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          yield* claimOne(store, { workerId: "worker-1", leaseMs: 30 * second })
          expect(yield* store.heartbeat("worker-2", [{ runId: id!, attempt: 1 }], t0 + 90 * second)).toEqual({
            lost: [id],
            cancelRequested: []
          })
          expect(yield* store.reapExpired(t0 + 60 * second)).toBe(1)
          expect((yield* store.getRun(id!)).state).toBe("queued")
        }))

      test("a heartbeat for an attempt that lost its lease reports the run lost, even if this worker holds it again", (store) =>
        Effect.gen(function*() {
          const [id, kept] = yield* store.enqueue([newRun(), newRun({ runAt: t0 + 5 * second })], t0)
          yield* claimOne(store, { workerId: "worker-1", leaseMs: 10 * second })
          expect(yield* store.reapExpired(t0 + 11 * second)).toBe(1)
          const again = yield* claimRuns(store, claimRequest({ now: t0 + 20 * second, workerId: "worker-1" }))
          expect(sorted(again.map((c) => `${c.id}:${c.attempt}`))).toEqual(sorted([`${kept}:1`, `${id}:2`]))
          const beat = yield* store.heartbeat("worker-1", [
            { runId: id!, attempt: 1 },
            { runId: kept!, attempt: 1 },
            { runId: "no-such-run" as Run.RunId, attempt: 1 }
          ], t0 + minute)
          expect(sorted(beat.lost)).toEqual(sorted([id!, "no-such-run"]))
          expect(beat.cancelRequested).toEqual([])
        }))

      test("reapExpired leaves queued and finished runs alone", (store) =>
        Effect.gen(function*() {
          const [queued, done] = yield* store.enqueue([newRun({ runAt: t0 + minute }), newRun()], t0)
          yield* store.complete([outcomeOf(yield* claimOne(store, { leaseMs: second }))])
          expect(yield* store.reapExpired(t0 + 10 * minute)).toBe(0)
          expect((yield* store.getRun(queued!)).state).toBe("queued")
          expect((yield* store.getRun(done!)).state).toBe("succeeded")
        }))
    })

    describe("history", () => {
      const seed = (store: JobStore.JobStore) =>
        Effect.gen(function*() {
          const ids = yield* store.enqueue([
            newRun({ jobName: "send-email", scheduleId: "digest" }),
            newRun({ jobName: "send-email" }),
            newRun({ jobName: "build-report", scheduleId: "reports" }),
            newRun({ jobName: "build-report", scheduleId: "digest" })
          ], t0)
          const claimed = yield* claimRuns(store, claimRequest())
          const byId = new Map(claimed.map((c) => [c.id, c]))
          const statuses = ["succeeded", "failed", "dead", "timed_out"] as const
          // one completion per call, oldest first, so insertion order and finishedAt agree
          for (const [i, id] of ids.entries()) {
            const finishedAt = t0 + (i + 1) * second
            yield* store.complete([outcomeOf(byId.get(id)!, { status: statuses[i]!, finishedAt })])
          }
          return ids as [Run.RunId, Run.RunId, Run.RunId, Run.RunId]
        })

      const idsOf = (rows: ReadonlyArray<Run.RunRecord>) => rows.map((r) => r.runId)

      test("history is newest first and filters by job, run, schedule and status", (store) =>
        Effect.gen(function*() {
          const [r1, r2, r3, r4] = yield* seed(store)
          const all = yield* store.history({})
          expect(idsOf(all)).toEqual([r4, r3, r2, r1])
          expect(all.map((r) => millis(r.finishedAt))).toEqual([4, 3, 2, 1].map((n) => t0 + n * second))
          expect(idsOf(yield* store.history({ jobName: "send-email" }))).toEqual([r2, r1])
          expect(idsOf(yield* store.history({ runId: r3 }))).toEqual([r3])
          expect(idsOf(yield* store.history({ scheduleId: "digest" }))).toEqual([r4, r1])
          expect(idsOf(yield* store.history({ status: "failed" }))).toEqual([r2])
          expect(idsOf(yield* store.history({ status: ["dead", "timed_out"] }))).toEqual([r4, r3])
          expect(idsOf(yield* store.history({ jobName: "build-report", status: "dead" }))).toEqual([r3])
          expect(yield* store.history({ jobName: "nobody" })).toEqual([])
        }))

      test("history filters by finish time: from inclusive, to exclusive; and limits", (store) =>
        Effect.gen(function*() {
          const [r1, r2, r3, r4] = yield* seed(store)
          expect(idsOf(yield* store.history({ from: t0 + 2 * second }))).toEqual([r4, r3, r2])
          expect(idsOf(yield* store.history({ to: t0 + 3 * second }))).toEqual([r2, r1])
          expect(idsOf(yield* store.history({ from: t0 + 2 * second, to: t0 + 3 * second }))).toEqual([r2])
          expect(idsOf(yield* store.history({ limit: 2 }))).toEqual([r4, r3])
          expect(idsOf(yield* store.history({ scheduleId: "digest", limit: 1 }))).toEqual([r4])
        }))
    })

    describe("retention", () => {
      test("pruneHistory deletes rows and final runs that ended before the cutoff; active runs keep theirs", (store) =>
        Effect.gen(function*() {
          const ids = yield* store.enqueue([newRun(), newRun(), newRun(), newRun({ jobName: "flaky" })], t0)
          const claimed = new Map((yield* claimRuns(store, claimRequest())).map((c) => [c.id, c]))
          const [r1, r2, r3, flaky] = ids as [Run.RunId, Run.RunId, Run.RunId, Run.RunId]
          yield* store.complete([outcomeOf(claimed.get(r1)!, { finishedAt: t0 + 1 * second })])
          yield* store.complete([outcomeOf(claimed.get(r2)!, { status: "failed", finishedAt: t0 + 2 * second })])
          yield* store.complete([outcomeOf(claimed.get(r3)!, { finishedAt: t0 + 4 * second })])
          // failed long ago, retried later: still queued, so its first attempt's row stays
          yield* store.complete([
            outcomeOf(claimed.get(flaky)!, { status: "failed", finishedAt: t0 + 1 * second, retryAt: t0 + minute })
          ])

          expect(yield* store.pruneHistory(t0 + 3 * second)).toBe(2)
          const left = yield* store.history({})
          expect(left.map((r) => r.runId).sort()).toEqual([r3, flaky].sort())
          const gone = yield* Effect.flip(store.getRun(r1))
          expect(gone).toBeInstanceOf(JobStore.RunNotFound)
          expect(yield* Effect.flip(store.getRun(r2))).toBeInstanceOf(JobStore.RunNotFound)
          expect((yield* store.getRun(r3)).state).toBe("succeeded")
          expect((yield* store.getRun(flaky)).state).toBe("queued")
          // nothing more to do at the same cutoff
          expect(yield* store.pruneHistory(t0 + 3 * second)).toBe(0)
        }))

      test("pruneHistory keeps everything that ended at or after the cutoff", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          const [claim] = yield* claimRuns(store, claimRequest())
          yield* store.complete([outcomeOf(claim!, { finishedAt: t0 + second })])
          expect(yield* store.pruneHistory(t0 + second)).toBe(0)
          expect((yield* store.history({})).map((r) => r.runId)).toEqual([id])
        }))
    })

    describe("feed", () => {
      const attempts = (entries: ReadonlyArray<Feed.FeedEntry>) =>
        entries.flatMap((e) => e._tag === "Attempt" ? [[e.record.runId, e.record.status, e.record.final] as const] : [])
      const describeEntry = (e: Feed.FeedEntry) =>
        e._tag === "Attempt" ? `${e.record.jobName}:${e.record.status}` : `${e.scheduleId}:${e.change}`

      // every kind of entry: schedule changes, a success, a retried failure, a final failure, a cancelled
      // queued run, a dependent cancelled with its parent
      const seed = (store: JobStore.JobStore) =>
        Effect.gen(function*() {
          yield* store.upsertSchedule(scheduleInput())
          const [ok, flaky, doomed, idle] = (yield* store.enqueue([
            newRun({ jobName: "ok" }),
            newRun({ jobName: "flaky" }),
            newRun({ jobName: "doomed", then: ["cleanup"] }),
            newRun({ jobName: "idle", runAt: t0 + minute })
          ], t0)) as [Run.RunId, Run.RunId, Run.RunId, Run.RunId]
          const claimed = new Map((yield* claimRuns(store, claimRequest())).map((c) => [c.id, c]))
          yield* store.complete([outcomeOf(claimed.get(ok)!)])
          yield* store.complete([
            outcomeOf(claimed.get(flaky)!, { status: "failed", retryAt: t0 + minute, error: boom })
          ])
          yield* store.setPaused("digest", true, undefined, t0 + second)
          yield* store.complete([outcomeOf(claimed.get(doomed)!, { status: "failed", error: boom })])
          expect(yield* store.cancel(idle, t0 + 2 * second)).toBe("cancelled")
          yield* store.removeSchedule("digest", t0 + 3 * second)
          return { ok, flaky, doomed, idle }
        })

      const boom = new Run.RunError({ tag: "Boom", message: "boom", cause: "Error: boom" })

      test("readFeed hands out attempts and schedule changes in commit order, marking final attempts", (store) =>
        Effect.gen(function*() {
          const { doomed, flaky, idle, ok } = yield* seed(store)
          const entries = yield* store.readFeed(Feed.start, 100)
          const described = entries.map(describeEntry)
          // a run and its cancelled dependent are committed together, in either order
          expect([...described.slice(0, 4), ...described.slice(4, 6).sort(), ...described.slice(6)]).toEqual([
            "digest:created",
            "ok:succeeded",
            "flaky:failed",
            "digest:paused",
            "cleanup:cancelled",
            "doomed:failed",
            "idle:cancelled",
            "digest:removed"
          ])
          const rows = attempts(entries)
          expect(rows).toContainEqual([ok, "succeeded", true])
          expect(rows).toContainEqual([flaky, "failed", false])
          expect(rows).toContainEqual([doomed, "failed", true])
          expect(rows).toContainEqual([idle, "cancelled", true])
          const dependent = entries.find((e) => e._tag === "Attempt" && e.record.jobName === "cleanup")!
          assertAttempt(dependent)
          expect(dependent.record.error?.tag).toBe("ParentFailed")
          expect(dependent.record.final).toBe(true)
          expect(entries.filter((e) => e._tag === "Attempt" && Feed.isFinalFailure(e.record)).map(describeEntry))
            .toEqual(["doomed:failed"])
          const changed = entries[0]!
          expect(changed).toMatchObject({ _tag: "ScheduleChanged", scheduleId: "digest", jobName: "send-digest", at: t0 })
          expect(entries[7]).toMatchObject({ _tag: "ScheduleChanged", change: "removed", at: t0 + 3 * second })
          // each attempt entry is the row the history holds
          const history = yield* store.history({ runId: ok })
          const okEntry = entries[1]!
          assertAttempt(okEntry)
          expect(okEntry.record).toEqual(history[0])
        }))

      test("a reader that goes on from the cursor of the last entry it read sees each entry once", (store) =>
        Effect.gen(function*() {
          yield* seed(store)
          const all = yield* store.readFeed(Feed.start, 100)
          const seen: Array<string> = []
          let cursor = Feed.start
          for (let round = 0; round < 20; round++) {
            const batch = yield* store.readFeed(cursor, 3)
            expect(batch.length).toBeLessThanOrEqual(3)
            if (batch.length === 0) break
            seen.push(...batch.map((e) => e.cursor))
            cursor = batch[batch.length - 1]!.cursor
          }
          expect(seen).toEqual(all.map((e) => e.cursor))
          expect(new Set(seen).size).toBe(all.length)
          expect(yield* store.readFeed(cursor, 100)).toEqual([])
        }))

      test("feedEnd is after every entry so far: a reader from there sees only what comes next", (store) =>
        Effect.gen(function*() {
          yield* seed(store)
          const end = yield* store.feedEnd
          expect(yield* store.readFeed(end, 100)).toEqual([])
          const [id] = yield* store.enqueue([newRun({ jobName: "late" })], t0)
          const [claim] = yield* claimRuns(store, claimRequest())
          yield* store.complete([outcomeOf(claim!)])
          const next = yield* store.readFeed(end, 100)
          expect(attempts(next)).toEqual([[id, "succeeded", true]])
        }))

      test("an interrupted attempt and a lease expiry are in the feed, not final", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          yield* claimRuns(store, claimRequest())
          yield* store.reapExpired(t0 + minute)
          const [claim] = yield* claimRuns(store, claimRequest({ now: t0 + 10 * minute }))
          yield* store.complete([outcomeOf(claim!, { status: "interrupted", retryAt: t0 + 11 * minute })])
          const entries = yield* store.readFeed(Feed.start, 100)
          expect(attempts(entries)).toEqual([[id, "interrupted", false], [id, "interrupted", false]])
        }))

      test("a subscriber hears that the feed grew when an attempt is recorded", (store) =>
        Effect.gen(function*() {
          yield* store.enqueue([newRun()], t0)
          const [claim] = yield* claimRuns(store, claimRequest())
          const changes = yield* store.changes
          yield* store.complete([outcomeOf(claim!)])
          const heard = yield* Queue.take(changes).pipe(
            Effect.repeat({ until: (change) => change === "feed" }),
            Effect.timeoutOption("10 seconds")
          )
          expect(heard._tag).toBe("Some")
        }))

      test("pruneHistory takes the feed's old entries with it", (store) =>
        Effect.gen(function*() {
          yield* seed(store)
          yield* store.pruneHistory(t0 + 10 * minute)
          // what is left: the retried run's attempt (its run is still queued)
          expect((yield* store.readFeed(Feed.start, 100)).map(describeEntry)).toEqual(["flaky:failed"])
        }))

      describe("consumers", () => {
      const hold = (fields: Partial<JobStore.ConsumerHold> = {}): JobStore.ConsumerHold => ({
        name: "alerts",
        holder: "a",
        now: t0,
        leaseUntil: t0 + 30 * second,
        startAt: "start",
        ...fields
      })

      test("one holder at a time: another gets the name when the lease runs out, and the first then cannot commit", (store) =>
        Effect.gen(function*() {
          expect(yield* store.holdConsumer(hold())).toBe(Feed.start)
          expect(yield* store.holdConsumer(hold({ holder: "b", now: t0 + second }))).toBeUndefined()
          // renewing by the holder itself
          expect(yield* store.holdConsumer(hold({ now: t0 + 20 * second, leaseUntil: t0 + 50 * second })))
            .toBe(Feed.start)
          expect(yield* store.holdConsumer(hold({ holder: "b", now: t0 + 40 * second }))).toBeUndefined()
          const taken = yield* store.holdConsumer(
            hold({ holder: "b", now: t0 + 50 * second, leaseUntil: t0 + 80 * second })
          )
          expect(taken).toBe(Feed.start)
          const cursor = Feed.FeedCursor.make("0.5")
          expect(yield* store.commitConsumer({ name: "alerts", holder: "a", cursor, now: t0, leaseUntil: t0 })).toBe(false)
          expect(
            yield* store.commitConsumer({ name: "alerts", holder: "b", cursor, now: t0 + 51 * second, leaseUntil: t0 + 90 * second })
          ).toBe(true)
          expect(yield* store.holdConsumer(hold({ holder: "b", now: t0 + 52 * second }))).toBe(cursor)
        }))

      test("the stored cursor only moves forward, and survives a release", (store) =>
        Effect.gen(function*() {
          yield* store.holdConsumer(hold())
          const commit = (cursor: string) =>
            store.commitConsumer({
              name: "alerts",
              holder: "a",
              cursor: Feed.FeedCursor.make(cursor),
              now: t0,
              leaseUntil: t0 + 30 * second
            })
          expect(yield* commit("0.7")).toBe(true)
          expect(yield* commit("0.3")).toBe(true)
          yield* store.releaseConsumer("alerts", "a")
          // released: another holder takes it at once, with the cursor as it was
          expect(yield* store.holdConsumer(hold({ holder: "b", now: t0 + second }))).toBe("0.7")
          // a release by someone who does not hold it changes nothing
          yield* store.releaseConsumer("alerts", "a")
          expect(yield* store.holdConsumer(hold({ holder: "c", now: t0 + 2 * second }))).toBeUndefined()
        }))

      test("a new consumer starts at the feed's start or its end, as asked; names are independent", (store) =>
        Effect.gen(function*() {
          yield* seed(store)
          const fromStart = yield* store.holdConsumer(hold({ name: "all" }))
          const fromNow = yield* store.holdConsumer(hold({ name: "new-only", startAt: "now" }))
          expect((yield* store.readFeed(fromStart!, 100)).length).toBe(8)
          expect(yield* store.readFeed(fromNow!, 100)).toEqual([])
        }))
      })
    })

    describe("workers", () => {
      const info = new JobStore.WorkerInfo({ concurrency: 8, jobs: ["send-email"], running: 0 })
      const beatOf = (id: string, now: number, fields: Partial<JobStore.WorkerBeat> = {}): JobStore.WorkerBeat => ({
        id,
        startedAt: t0,
        now,
        expiresAt: now + minute,
        info,
        ...fields
      })

      test("a beat lists the worker until it expires; reapExpired forgets it then", (store) =>
        Effect.gen(function*() {
          yield* store.workerBeat(beatOf("worker-b", t0))
          yield* store.workerBeat(beatOf("worker-a", t0, { expiresAt: t0 + 2 * minute }))
          const listed = yield* store.listWorkers(t0 + second)
          expect(listed.map((w) => w.id)).toEqual(["worker-a", "worker-b"])
          const b = listed[1]!
          expect([millis(b.startedAt), millis(b.heartbeatAt), millis(b.expiresAt)]).toEqual([t0, t0, t0 + minute])
          expect(b.info).toEqual(info)

          // worker-b's beat has expired: not listed, though its row is there until a reaper runs
          expect((yield* store.listWorkers(t0 + minute + second)).map((w) => w.id)).toEqual(["worker-a"])
          yield* store.reapExpired(t0 + minute + second)
          expect((yield* store.listWorkers(t0)).map((w) => w.id)).toEqual(["worker-a"])
        }))

      test("a later beat updates the worker's row; removeWorker forgets it", (store) =>
        Effect.gen(function*() {
          yield* store.workerBeat(beatOf("worker-1", t0))
          const busy = new JobStore.WorkerInfo({ concurrency: 8, jobs: ["send-email"], running: 3 })
          yield* store.workerBeat(beatOf("worker-1", t0 + 20 * second, { info: busy }))
          const [worker] = yield* store.listWorkers(t0 + 20 * second)
          expect(millis(worker!.heartbeatAt)).toBe(t0 + 20 * second)
          expect(millis(worker!.expiresAt)).toBe(t0 + 20 * second + minute)
          expect(worker!.info.running).toBe(3)
          yield* store.removeWorker("worker-1")
          expect(yield* store.listWorkers(t0)).toEqual([])
          // removing a worker that is not there is not an error
          yield* store.removeWorker("worker-1")
        }))
    })

    describe("runs", () => {
      test("listRuns filters by state, job and schedule, and limits", (store) =>
        Effect.gen(function*() {
          const [queuedEmail, queuedReport, runningEmail, doneReport] = yield* store.enqueue([
            newRun({ jobName: "send-email", runAt: t0 + minute }),
            newRun({ jobName: "build-report", runAt: t0 + minute, scheduleId: "reports" }),
            newRun({ jobName: "send-email" }),
            newRun({ jobName: "build-report", scheduleId: "reports" })
          ], t0)
          const claimed = yield* claimRuns(store, claimRequest())
          expect(sorted(claimed.map((c) => c.id))).toEqual(sorted([runningEmail!, doneReport!]))
          yield* store.complete([outcomeOf(claimed.find((c) => c.id === doneReport)!)])

          const ids = (runs: ReadonlyArray<Run.Run>) => sorted(runs.map((r) => r.id))
          expect(ids(yield* store.listRuns({}))).toEqual(
            sorted([queuedEmail!, queuedReport!, runningEmail!, doneReport!])
          )
          expect(ids(yield* store.listRuns({ state: "queued" }))).toEqual(sorted([queuedEmail!, queuedReport!]))
          expect(ids(yield* store.listRuns({ state: ["running", "succeeded"] }))).toEqual(
            sorted([runningEmail!, doneReport!])
          )
          expect(ids(yield* store.listRuns({ jobName: "send-email" }))).toEqual(sorted([queuedEmail!, runningEmail!]))
          expect(ids(yield* store.listRuns({ jobName: "build-report", state: "queued" }))).toEqual([queuedReport])
          expect(ids(yield* store.listRuns({ scheduleId: "reports" }))).toEqual(sorted([queuedReport!, doneReport!]))
          expect(yield* store.listRuns({ state: "dead" })).toEqual([])

          const limited = yield* store.listRuns({ limit: 2 })
          expect(limited).toHaveLength(2)
          expect(new Set(limited.map((r) => r.id)).size).toBe(2)
          expect((yield* store.listRuns({ state: "queued", limit: 1 })).map((r) => r.state)).toEqual(["queued"])
        }))

      test("getRun of an unknown id fails with RunNotFound", (store) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(store.getRun("no-such-run" as Run.RunId))
          expect(error).toBeInstanceOf(JobStore.RunNotFound)
          expect(error).toMatchObject({ _tag: "RunNotFound", runId: "no-such-run" })
        }))
    })

    describe("changes", () => {
      test("a subscriber hears of new runs", (store) =>
        Effect.gen(function*() {
          const changes = yield* store.changes
          yield* store.enqueue([newRun()], t0)
          expect(yield* Queue.take(changes)).toBe("runs")
        }))

      test("a subscriber hears of schedule changes", (store) =>
        Effect.gen(function*() {
          const changes = yield* store.changes
          yield* store.upsertSchedule(scheduleInput())
          expect(yield* Queue.take(changes)).toBe("schedules")
        }))
    })

    describe("workflows", () => {
      const recordOne = (store: JobStore.JobStore, step: Journal.StepRecord) =>
        Effect.map(store.recordSteps([step]), (stored) => stored?.[0])

      /** A workflow run ("order") that started one child (`child`) and waits for it. */
      const waitingForChild = (store: JobStore.JobStore, child: JobStore.NewRun) =>
        Effect.gen(function*() {
          const [parentId] = yield* store.enqueue([newRun({ jobName: "order" })], t0)
          const parent = yield* claimOne(store)
          const [childId] = (yield* store.startChildren({
            parentRunId: parentId!,
            attempt: parent.attempt,
            now: t0,
            children: [{ step: `child:${child.jobName}@0`, position: "0", run: child }]
          }))!
          expect(yield* store.suspend({ runId: parentId!, attempt: parent.attempt, wakeAt: undefined, wakes: 0, now: t0 }))
            .toBe(true)
          return { parentId: parentId!, childId: childId! }
        })

      const step = (claimed: JobStore.ClaimedRun, fields: Partial<Journal.StepRecord> & { name: string }) =>
        new Journal.StepRecord({
          runId: claimed.id,
          kind: "step",
          status: "succeeded",
          position: "0",
          attempt: claimed.attempt,
          startedAt: t0,
          finishedAt: t0 + second,
          ...fields
        })

      test("recordStep writes only while the attempt holds the run, and never replaces a succeeded entry", (store) =>
        Effect.gen(function*() {
          yield* store.enqueue([newRun()], t0)
          const claimed = yield* claimOne(store)
          const failed = yield* recordOne(store, step(claimed, {
            name: "charge",
            status: "failed",
            error: new Run.RunError({ tag: "Declined", message: "card declined", cause: "" })
          }))
          expect(failed?.status).toBe("failed")
          const charged = yield* recordOne(store, step(claimed, { name: "charge", result: { receipt: "r-1" } }))
          expect(charged?.result).toEqual({ receipt: "r-1" })
          const again = yield* recordOne(store, step(claimed, { name: "charge", result: { receipt: "r-2" } }))
          expect(again?.result).toEqual({ receipt: "r-1" })
          yield* recordOne(store, step(claimed, { name: "email", position: "1", result: null }))
          // another attempt's write is refused (fencing)
          expect(yield* recordOne(store, step({ ...claimed, attempt: 2 }, { name: "late" }))).toBeUndefined()
          const journal = yield* store.journal(claimed.id)
          expect(journal.wakes).toBe(0)
          expect(journal.steps.map((s) => [s.name, s.status, s.position, s.result])).toEqual([
            ["charge", "succeeded", "0", { receipt: "r-1" }],
            ["email", "succeeded", "1", null]
          ])
          expect(journal.steps[0]?.error).toBeUndefined()
          yield* store.complete([outcomeOf(claimed)])
          expect(yield* recordOne(store, step(claimed, { name: "after" }))).toBeUndefined()
          // retention deletes a finished run's journal with it
          yield* store.pruneHistory(t0 + minute)
          expect((yield* store.journal(claimed.id)).steps).toEqual([])
        }))

      test("recordSteps writes a batch in one step, in order, keeping what succeeded", (store) =>
        Effect.gen(function*() {
          yield* store.enqueue([newRun()], t0)
          const claimed = yield* claimOne(store)
          yield* recordOne(store, step(claimed, { name: "a", result: 1 }))
          yield* recordOne(store, step(claimed, { name: "b", status: "failed", position: "1" }))
          const stored = yield* store.recordSteps([
            step(claimed, { name: "c", position: "2", kind: "sleep", status: "waiting", wakeAt: t0 + minute }),
            step(claimed, { name: "a", result: 2 }),
            step(claimed, { name: "b", position: "1", result: "ok" })
          ])
          expect(stored?.map((s) => [s.name, s.status, s.result, s.wakeAt])).toEqual([
            ["c", "waiting", undefined, t0 + minute],
            ["a", "succeeded", 1, undefined],
            ["b", "succeeded", "ok", undefined]
          ])
          expect((yield* store.journal(claimed.id)).steps.map((s) => s.name)).toEqual(["a", "b", "c"])
          expect(yield* store.recordSteps([])).toEqual([])
        }))

      test("a waiting attempt is not counted; the run waits for its instant, or is due at once if woken meanwhile", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          const first = yield* claimOne(store)
          const { wakes } = yield* store.journal(id!)
          const wakeAt = t0 + 3 * 24 * 60 * minute
          expect(yield* store.suspend({ runId: id!, attempt: 1, wakeAt, wakes, now: t0 + second })).toBe(true)
          const waiting = yield* store.getRun(id!)
          expect([waiting.state, waiting.attempt, millis(waiting.runAt)]).toEqual(["queued", 0, wakeAt])
          expect(yield* store.history({ runId: id! })).toEqual([])
          expect(yield* claimRuns(store, claimRequest({ now: wakeAt - 1 }))).toEqual([])
          expect(yield* nextRunAt(store, t0 + second)).toBe(wakeAt)
          // the same attempt cannot end waiting twice
          expect(yield* store.suspend({ runId: id!, attempt: first.attempt, wakeAt, wakes, now: t0 })).toBe(false)
          const second_ = yield* claimOne(store, { now: wakeAt })
          expect(second_.attempt).toBe(1)
          // a signal while it runs: ending waiting now makes it due at once
          expect(yield* store.signal({ runId: id!, name: "go", value: 1, now: wakeAt + second })).toBe("delivered")
          expect(yield* store.suspend({ runId: id!, attempt: 1, wakeAt: undefined, wakes, now: wakeAt + 2 * second }))
            .toBe(true)
          expect(millis((yield* store.getRun(id!)).runAt)).toBe(wakeAt + 2 * second)
          expect((yield* store.journal(id!)).wakes).toBe(1)
          // cancelled while it ran: it ends cancelled instead of waiting
          yield* claimOne(store, { now: wakeAt + 2 * second })
          expect(yield* store.cancel(id!, wakeAt + 3 * second)).toBe("running")
          expect(yield* store.suspend({ runId: id!, attempt: 1, wakeAt: undefined, wakes: 1, now: wakeAt + 4 * second }))
            .toBe(true)
          expect((yield* store.getRun(id!)).state).toBe("cancelled")
          expect((yield* store.history({ runId: id! })).map((r) => [r.status, r.attempt])).toEqual([["cancelled", 1]])
        }))

      test("children are started once per step; one that ends wakes its parent; cancelling the parent cancels the rest", (store) =>
        Effect.gen(function*() {
          const [parentId] = yield* store.enqueue([newRun({ jobName: "order" })], t0)
          const parent = yield* claimOne(store)
          const children = [0, 1, 2].map((n) => ({
            step: `child:resize@${n}`,
            position: String(n),
            run: newRun({ jobName: "resize", payload: { n } })
          }))
          const ids = yield* store.startChildren({ parentRunId: parentId!, attempt: 1, now: t0, children })
          expect(ids).toHaveLength(3)
          expect(yield* store.startChildren({ parentRunId: parentId!, attempt: 1, now: t0, children })).toEqual(ids)
          expect(yield* store.startChildren({ parentRunId: parentId!, attempt: 2, now: t0, children })).toBeUndefined()
          expect(yield* store.listRuns({ jobName: "resize" })).toHaveLength(3)
          expect(yield* store.suspend({ runId: parentId!, attempt: parent.attempt, wakeAt: undefined, wakes: 0, now: t0 }))
            .toBe(true)
          expect(millis((yield* store.getRun(parentId!)).runAt)).toBe(Journal.untilWoken)

          const [first, second_] = yield* claimRuns(store, claimRequest({ now: t0 + second, limit: 2, jobNames: ["resize"] }))
          yield* store.complete([outcomeOf(first!, { result: { url: "a.png" }, finishedAt: t0 + 2 * second })])
          expect(millis((yield* store.getRun(parentId!)).runAt)).toBe(t0 + 2 * second)
          const journal = yield* store.journal(parentId!)
          expect(journal.wakes).toBe(1)
          const entry = journal.steps.find((s) => s.childRunId === first!.id)
          expect([entry?.kind, entry?.status, entry?.child?.state, entry?.child?.result])
            .toEqual(["child", "waiting", "succeeded", { url: "a.png" }])

          expect(yield* store.cancel(parentId!, t0 + 3 * second)).toBe("cancelled")
          const states = new Map((yield* store.listRuns({ jobName: "resize" })).map((r) => [r.id, r.state]))
          expect(states.get(first!.id)).toBe("succeeded")
          expect(states.get(second_!.id)).toBe("running")
          const third = ids!.find((id) => id !== first!.id && id !== second_!.id)!
          expect(states.get(third)).toBe("cancelled")
          const beat = yield* store.heartbeat("worker-1", [{ runId: second_!.id, attempt: 1 }], t0 + minute)
          expect(beat.cancelRequested).toEqual([second_!.id])
        }))

      test("a child cancelled while it ran, ending at its own wait, wakes its parent", (store) =>
        Effect.gen(function*() {
          const { childId, parentId } = yield* waitingForChild(store, newRun({ jobName: "ship" }))
          // the child is a workflow too: asked to stop while it runs, it ends cancelled where it would wait
          const child = yield* claimOne(store, { now: t0 + second, jobNames: ["ship"] })
          expect(yield* store.cancel(childId, t0 + 2 * second)).toBe("running")
          expect(yield* store.suspend({ runId: childId, attempt: child.attempt, wakeAt: undefined, wakes: 0, now: t0 + 3 * second }))
            .toBe(true)
          expect((yield* store.getRun(childId)).state).toBe("cancelled")
          expect(millis((yield* store.getRun(parentId)).runAt)).toBe(t0 + 3 * second)
          expect((yield* store.journal(parentId)).wakes).toBe(1)
          expect((yield* claimOne(store, { now: t0 + 3 * second })).id).toBe(parentId)
        }))

      test("a child whose cancellation its dead worker never heard ends cancelled at the reaper: its then-jobs are recorded cancelled, its parent wakes", (store) =>
        Effect.gen(function*() {
          const { childId, parentId } = yield* waitingForChild(store, newRun({ jobName: "ship", then: ["log-email"] }))
          yield* claimOne(store, { now: t0 + second, jobNames: ["ship"], leaseMs: 10 * second })
          // its worker is gone: the request waits for the reaper
          expect(yield* store.cancel(childId, t0 + 2 * second)).toBe("running")
          expect(yield* store.reapExpired(t0 + 12 * second)).toBe(1)
          expect((yield* store.getRun(childId)).state).toBe("cancelled")

          const [dependent] = yield* store.listRuns({ jobName: "log-email" })
          const message = new Run.ParentFailed({ parentRunId: childId, parentJobName: "ship", parentState: "cancelled" })
            .message
          expect([dependent?.state, dependent?.attempt, dependent?.error]).toEqual([
            "cancelled",
            0,
            new Run.RunError({ tag: "ParentFailed", message, cause: "" })
          ])
          expect((yield* store.history({ runId: dependent!.id })).map((r) => [r.status, millis(r.finishedAt)]))
            .toEqual([["cancelled", t0 + 12 * second]])

          expect(millis((yield* store.getRun(parentId)).runAt)).toBe(t0 + 12 * second)
          expect((yield* store.journal(parentId)).wakes).toBe(1)
          expect((yield* claimOne(store, { now: t0 + 12 * second, jobNames: ["order"] })).id).toBe(parentId)
        }))

      test("cancelling a workflow run that already finished changes nothing, its unfinished children included", (store) =>
        Effect.gen(function*() {
          const [parentId] = yield* store.enqueue([newRun({ jobName: "order" })], t0)
          const parent = yield* claimOne(store)
          const [child] = (yield* store.startChildren({
            parentRunId: parentId!,
            attempt: parent.attempt,
            now: t0,
            children: [{ step: "child:resize@0", position: "0", run: newRun({ jobName: "resize" }) }]
          }))!
          // the parent ends without waiting for its child
          yield* store.complete([outcomeOf(parent, { finishedAt: t0 + second })])
          expect(yield* store.cancel(parentId!, t0 + 2 * second)).toBe("finished")
          expect((yield* store.getRun(child!)).state).toBe("queued")
          expect((yield* claimRuns(store, claimRequest({ now: t0 + 3 * second }))).map((r) => r.id)).toEqual([child])
        }))

      test("a signal is delivered once per name, kept until the run waits for it, and refused after its wait timed out", (store) =>
        Effect.gen(function*() {
          const [id] = yield* store.enqueue([newRun()], t0)
          const claimed = yield* claimOne(store)
          expect(yield* store.signal({ runId: id!, name: "shipped", value: { carrier: "UPS" }, now: t0 })).toBe("delivered")
          expect(yield* store.signal({ runId: id!, name: "shipped", value: { carrier: "DHL" }, now: t0 })).toBe("duplicate")
          const waiting = yield* recordOne(store, step(claimed, {
            name: "signal:shipped",
            kind: "signal",
            status: "waiting",
            wakeAt: t0 + minute
          }))
          expect([waiting?.status, waiting?.result]).toEqual(["succeeded", { carrier: "UPS" }])
          yield* recordOne(store, step(claimed, { name: "signal:paid", kind: "signal", status: "failed", position: "1" }))
          expect(yield* store.signal({ runId: id!, name: "paid", value: true, now: t0 })).toBe("expired")
          yield* store.complete([outcomeOf(claimed)])
          expect(yield* store.signal({ runId: id!, name: "late", value: 1, now: t0 })).toBe("finished")
          expect(yield* store.signal({ runId: "00000000-0000-4000-8000-000000000000" as Run.RunId, name: "x", value: 1, now: t0 }))
            .toBe("not_found")
        }))

      test("a run woken before its instant is due at once, after other runs were woken and queued again", (store) =>
        Effect.gen(function*() {
          // the memory store once kept a woken run's old place in its queue keyed on the run's instant, which
          // moved under it when the run was queued again: the second woken run below stayed hidden behind it
          const [later, early, latest] = yield* store.enqueue([
            newRun({ runAt: t0 + 1100 * second }),
            newRun({ runAt: t0 + 1000 * second }),
            newRun({ runAt: t0 + 1200 * second })
          ], t0)
          expect(yield* store.signal({ runId: early!, name: "go", value: 1, now: t0 + 10 * second })).toBe("delivered")
          const [woken] = yield* claimRuns(store, claimRequest({ now: t0 + 10 * second }))
          expect(woken?.id).toBe(early)
          const refused = yield* store.complete([
            outcomeOf(woken!, { status: "failed", finishedAt: t0 + 10 * second, retryAt: t0 + 5000 * second })
          ])
          expect(refused.refused).toEqual([])
          expect(yield* store.signal({ runId: latest!, name: "go", value: 1, now: t0 + 20 * second })).toBe("delivered")
          const claimed = yield* store.claim(claimRequest({ now: t0 + 20 * second }))
          expect(claimed.runs.map((r) => r.id)).toEqual([latest])
          expect(claimed.nextRunAt).toBe(t0 + 1100 * second)
          expect((yield* claimRuns(store, claimRequest({ now: t0 + 1100 * second }))).map((r) => r.id)).toEqual([later])
          expect(yield* nextRunAt(store, t0 + 1100 * second)).toBe(t0 + 5000 * second)
        }))
    })

    describe("bulk", () => {
      // a persistent store may take a few seconds here; the memory store takes milliseconds
      test("10,000 runs enqueued in one call are claimed in batches of 500, each exactly once", (store) =>
        Effect.gen(function*() {
          const count = 10_000
          const ids = yield* store.enqueue(Array.from({ length: count }, (_, n) => newRun({ payload: { n } })), t0)
          expect(new Set(ids).size).toBe(count)

          const seen = new Set<string>()
          const payloads = new Set<number>()
          for (let batch = 0; batch < count / 500; batch++) {
            const claimed = yield* claimRuns(store, claimRequest({ limit: 500 }))
            expect(claimed).toHaveLength(500)
            for (const c of claimed) {
              seen.add(c.id)
              payloads.add((c.payload as { n: number }).n)
            }
          }
          expect(yield* claimRuns(store, claimRequest({ limit: 500 }))).toEqual([])
          expect(seen.size).toBe(count)
          expect(payloads.size).toBe(count)
          expect(ids.every((id) => seen.has(id))).toBe(true)
          expect(yield* nextRunAt(store, t0)).toBeUndefined()
        }), 60_000)
    })
  })
}
