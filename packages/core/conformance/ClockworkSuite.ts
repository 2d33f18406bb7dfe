/**
 * The whole engine on one store, with the live clock: what no store can hold
 * is refused or recorded the same way on every store, one run's data never
 * stops the others' outcomes, and dependents of a run that did not succeed
 * stay visible. Run against each store, like the JobStore conformance suite.
 *
 * @since 0.1.0
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Effect, Either, Fiber, Layer, Logger, Queue, Schedule, Schema, Stream } from "effect"
import { Clockwork, Events, Feed, Job, JobStore, Run, Scheduler, Trigger } from "../src/index.js"

/** Log lines at info level and above, as "LEVEL message". */
const captureLogs = (lines: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
  )

/** Retries `check` (an Effect failing until its condition holds) every 50 ms, for at most `seconds`. */
const eventually = <A, E, R>(check: Effect.Effect<A, E, R>, seconds = 30) =>
  check.pipe(Effect.retry(Schedule.spaced("50 millis")), Effect.timeout(`${seconds} seconds`))

const nul = (at: number) =>
  `contains a NUL character (U+0000) at index ${at}, which PostgreSQL cannot store`

const unstorable = (field: string, reason: string, jobError?: string) =>
  new Run.UnstorableOutcome({ field, reason, ...(jobError === undefined ? {} : { jobError }) }).message

/**
 * Declares the engine suite for one store layer. As for the JobStore suite,
 * each build of `layer` must be a fresh, empty store; within a test one build
 * serves every app started on it (a restart finds what the first one left).
 *
 * @example
 * ```ts
 * run("memory", JobStore.layerMemory)
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const run = (name: string, layer: Layer.Layer<JobStore.JobStore, unknown>): void => {
  /** The app on the store built in `context`, logging into `lines`. */
  const appOn = (
    jobs: ReadonlyArray<Job.Job<any, any, any, never>>,
    context: Context.Context<JobStore.JobStore>,
    lines: Array<string>
  ) =>
    Clockwork.layer(jobs, { runner: { shutdownGrace: "5 seconds" } }).pipe(
      Layer.provideMerge(Layer.succeedContext(context)),
      Layer.provide(captureLogs(lines))
    )

  describe(`Clockwork on a store: ${name}`, () => {
    it.scopedLive("values no store can hold are refused by enqueue and schedule, naming the field; nothing is stored", () =>
      Effect.gen(function*() {
        const numbers = Job.make({ name: "numbers", payload: Schema.Struct({ n: Schema.Number }), run: () => Effect.void })
        const texts = Job.make({ name: "texts", payload: Schema.Struct({ text: Schema.String }), run: () => Effect.void })
        const anything = Job.make({ name: "anything", payload: Schema.Unknown, run: () => Effect.void })
        const badName = Job.make({ name: "bad\u0000name", payload: Schema.Struct({}), run: () => Effect.void })
        const lines: Array<string> = []
        const context = yield* Layer.build(layer)
        const store = Context.get(context, JobStore.JobStore)
        yield* Effect.gen(function*() {
          const refused = (field: string, reason: string | RegExp, jobName: string) =>
            (effect: Effect.Effect<unknown, unknown, Scheduler.Scheduler>) =>
              Effect.gen(function*() {
                const error = yield* Effect.flip(effect)
                assert(error instanceof Job.InvalidPayload, String(error))
                expect(error.jobName).toBe(jobName)
                expect(error.field).toBe(field)
                if (typeof reason === "string") expect(error.reason).toBe(reason)
                else expect(error.reason).toMatch(reason)
                // the message can itself be stored: what could not be is escaped
                expect(error.message).not.toMatch(/\u0000|\p{Cs}/u)
              })

          const notJson = "is not a JSON number (it would be stored as null)"
          yield* refused("payload.n", `NaN ${notJson}`, "numbers")(Scheduler.enqueue(numbers, { n: NaN }))
          yield* refused("payload.n", `Infinity ${notJson}`, "numbers")(Scheduler.enqueue(numbers, { n: Infinity }))
          yield* refused("payload.n", `-Infinity ${notJson}`, "numbers")(
            Scheduler.enqueueMany(numbers, [{ n: 1 }, { n: -Infinity }])
          )
          yield* refused("payload.text", nul(1), "texts")(Scheduler.enqueue(texts, { text: "a\u0000b" }))
          yield* refused("payload.text", /^contains a lone surrogate \(U\+D800\) at index 1/, "texts")(
            Scheduler.enqueue(texts, { text: "a\ud800b" })
          )
          yield* refused("payload", /^a Date is not plain JSON/, "anything")(Scheduler.enqueue(anything, new Date(0)))
          yield* refused("payload[1]", /^undefined in an array is not JSON/, "anything")(
            Scheduler.enqueue(anything, [1, undefined])
          )
          yield* refused("payload.nested[\"k\\u0000\"]", `its key ${nul(1)}`, "anything")(
            Scheduler.enqueue(anything, { nested: { "k\u0000": 1 } })
          )
          yield* refused("payload", /^a bigint \(10n\) is not JSON/, "anything")(Scheduler.enqueue(anything, 10n))
          yield* refused("jobName", nul(3), "bad\u0000name")(Scheduler.enqueue(badName, {}))
          yield* refused("key", nul(1), "texts")(Scheduler.enqueue(texts, { text: "ok" }, { key: "k\u0000" }))
          yield* refused("payload.n", `NaN ${notJson}`, "numbers")(
            Scheduler.schedule("nan", numbers, { trigger: Trigger.every("1 minute"), payload: { n: NaN } })
          )
          yield* refused("jobName", nul(3), "bad\u0000name")(
            Scheduler.schedule("bad-name", badName, { trigger: Trigger.every("1 minute"), payload: {} })
          )
          const badId = yield* Effect.flip(
            Scheduler.schedule("tick\u0000", numbers, { trigger: Trigger.every("1 minute"), payload: { n: 1 } })
          )
          assert(badId._tag === "InvalidScheduleId")
          expect(badId.reason).toBe(nul(4))
          expect(badId.message).toBe(`invalid schedule id "tick\\u0000": ${nul(4)}`)
          // in a batch, the bad entry fails it whole: "fine" is not stored either
          const many = (entry: Scheduler.ScheduleEntry<{ readonly n: number }>) =>
            Scheduler.scheduleMany(numbers, [
              { id: "fine", trigger: Trigger.every("1 minute"), payload: { n: 1 } },
              entry
            ])
          yield* refused("payload.n", `NaN ${notJson}`, "numbers")(
            many({ id: "nan", trigger: Trigger.every("1 minute"), payload: { n: NaN } })
          )
          const badIdInMany = yield* Effect.flip(
            many({ id: "tick\u0000", trigger: Trigger.every("1 minute"), payload: { n: 1 } })
          )
          expect(badIdInMany).toMatchObject({ _tag: "InvalidScheduleId", reason: nul(4) })

          expect(yield* store.listRuns({})).toEqual([])
          expect(yield* store.listSchedules).toEqual([])

          // what JSON changes without loss is stored alike everywhere: no undefined properties, no -0
          const handle = yield* Scheduler.enqueue(anything, { dropped: undefined, zero: -0, kept: [1] })
          const payload = (yield* store.getRun(handle.id)).payload as Record<string, unknown>
          expect(payload).toStrictEqual({ zero: 0, kept: [1] })
          expect(Object.is(payload.zero, 0)).toBe(true)
        }).pipe(Effect.provide(appOn([numbers, texts, anything], context, lines)))
      }), 60_000)

    it.scopedLive(
      "outcomes no store can hold are recorded as UnstorableOutcome; every other run and tick is recorded; a restart finds them final",
      () =>
        Effect.gen(function*() {
          const nulResult = Job.make({
            name: "nul-result",
            payload: Schema.Struct({}),
            success: Schema.String,
            retry: Job.noRetry,
            run: () => Effect.succeed("before\u0000after")
          })
          const nulError = Job.make({
            name: "nul-error",
            payload: Schema.Struct({}),
            retry: Job.noRetry,
            run: () => Effect.fail(new Error("bad\u0000message"))
          })
          const nulMetric = Job.make({
            name: "nul-metric",
            payload: Schema.Struct({}),
            retry: Job.noRetry,
            run: (_, ctx) => ctx.metrics({ count: 3, note: "x\u0000y" })
          })
          const count = Job.make({
            name: "count",
            payload: Schema.Struct({ n: Schema.Number }),
            success: Schema.Number,
            run: ({ n }) => Effect.succeed(n)
          })
          const tick = Job.make({ name: "tick", payload: Schema.Struct({}), run: () => Effect.void })
          const jobs = [nulResult, nulError, nulMetric, count, tick] as const

          const lines: Array<string> = []
          const context = yield* Layer.build(layer)
          const store = Context.get(context, JobStore.JobStore)
          const ticks = (atLeast: number) =>
            eventually(Effect.filterOrFail(
              Scheduler.history({ scheduleId: "canary", status: "succeeded", limit: 1000 }),
              (rows) => rows.length >= atLeast,
              () => `fewer than ${atLeast} ticks recorded`
            ))
          const canary = Scheduler.schedule("canary", tick, { trigger: Trigger.every("1 second"), payload: {} })

          const bad = yield* Effect.gen(function*() {
            yield* canary
            const handles = {
              result: yield* Scheduler.enqueue(nulResult, {}),
              error: yield* Scheduler.enqueue(nulError, {}),
              metric: yield* Scheduler.enqueue(nulMetric, {})
            }
            const ordinary = yield* Scheduler.enqueueMany(count, Array.from({ length: 20 }, (_, n) => ({ n })))
            const results = yield* Effect.forEach(ordinary, Scheduler.result).pipe(Effect.timeout("30 seconds"))
            expect(results).toEqual(Array.from({ length: 20 }, (_, n) => n))
            yield* ticks(2)

            const failure = <A>(handle: Scheduler.Handle<A>) =>
              Effect.flip(Scheduler.result(handle)).pipe(Effect.timeout("30 seconds"))

            const result = yield* failure(handles.result)
            assert(result._tag === "RunFailed")
            expect(result.state).toBe("failed")
            expect(result.error).toEqual(new Run.RunError({
              tag: "UnstorableOutcome",
              message: unstorable("result", nul(6)),
              cause: ""
            }))

            const error = yield* failure(handles.error)
            assert(error._tag === "RunFailed")
            expect(error.state).toBe("failed")
            expect(error.error?.tag).toBe("UnstorableOutcome")
            expect(error.error?.message).toBe(unstorable("error.message", nul(3), "Error: bad\\u0000message"))
            expect(error.error?.cause).toContain("bad\\u0000message")

            const metric = yield* failure(handles.metric)
            assert(metric._tag === "RunFailed")
            expect(metric.state).toBe("failed")
            expect(metric.error?.message).toBe(unstorable("metrics.note", nul(1)))
            const [metricRow] = yield* Scheduler.history({ runId: handles.metric.id })
            expect(metricRow!.metrics).toBeUndefined()
            expect(metricRow!.status).toBe("failed")
            return handles
          }).pipe(Effect.scoped, Effect.provide(appOn(jobs, context, lines)))

          // the app comes back on the same store: the bad runs stay as they were recorded, new runs run
          yield* Effect.gen(function*() {
            const before = (yield* Scheduler.history({ scheduleId: "canary", limit: 1000 })).length
            expect((yield* canary).id).toBe("canary")
            expect(yield* Scheduler.run(count, { n: 100 }).pipe(Effect.timeout("30 seconds"))).toBe(100)
            yield* ticks(before + 1)
            for (const handle of Object.values(bad)) {
              expect((yield* store.getRun(handle.id)).state).toBe("failed")
              expect(yield* store.history({ runId: handle.id })).toHaveLength(1)
            }
          }).pipe(Effect.scoped, Effect.provide(appOn(jobs, context, lines)))

          expect(yield* store.listRuns({ state: ["queued", "running"], jobName: "count" })).toEqual([])
          // the store never stopped answering, and nothing was refused by it
          expect(lines.filter((line) => line.startsWith("WARN") || line.startsWith("ERROR"))).toEqual([])
        }),
      120_000
    )

    it.scopedLive("a failed, a timed-out and a dead parent each leave their dependent visible, with an event", () =>
      Effect.gen(function*() {
        let childRuns = 0
        const child = Job.make({
          name: "child",
          payload: Schema.Void,
          run: () =>
            Effect.sync(() => {
              childRuns++
            })
        })
        const fails = Job.make({
          name: "parent-fails",
          payload: Schema.Struct({}),
          retry: Job.noRetry,
          run: () => Effect.fail(new Error("boom"))
        })
        const timesOut = Job.make({
          name: "parent-times-out",
          payload: Schema.Struct({}),
          retry: Job.noRetry,
          timeout: "200 millis",
          run: () => Effect.sleep("1 minute")
        })
        const dies = Job.make({
          name: "parent-dies",
          payload: Schema.Struct({}),
          retry: Schedule.recurs(1),
          run: () => Effect.fail(new Error("boom"))
        })
        const lines: Array<string> = []
        const context = yield* Layer.build(layer)
        const store = Context.get(context, JobStore.JobStore)
        yield* Effect.gen(function*() {
          const subscription = yield* Effect.flatMap(Events.Events, (events) => events.subscribe)
          const parents = [
            { handle: yield* Scheduler.enqueue(fails, {}, { then: child }), state: "failed" },
            { handle: yield* Scheduler.enqueue(timesOut, {}, { then: child }), state: "timed_out" },
            { handle: yield* Scheduler.enqueue(dies, {}, { then: child }), state: "dead" }
          ] as const
          const cancelled: Array<Extract<Events.Event, { _tag: "DependentCancelled" }>> = []
          while (cancelled.length < 3) {
            const event = yield* Queue.take(subscription).pipe(Effect.timeout("30 seconds"))
            if (event._tag === "DependentCancelled") cancelled.push(event)
          }

          const children = yield* store.listRuns({ jobName: "child" })
          expect(children).toHaveLength(3)
          for (const { handle, state } of parents) {
            const parent = yield* store.getRun(handle.id)
            expect(parent.state).toBe(state)
            const message = new Run.ParentFailed({
              parentRunId: handle.id,
              parentJobName: handle.job.name,
              parentState: state
            }).message
            const dependent = children.find((run) => run.error?.message === message)
            expect(dependent, message).toBeDefined()
            expect(dependent!.state).toBe("cancelled")
            expect(dependent!.error?.tag).toBe("ParentFailed")
            const rows = yield* store.history({ runId: dependent!.id })
            expect(rows.map((row) => [row.status, row.jobName, row.error?.message])).toEqual([
              ["cancelled", "child", message]
            ])
            const event = cancelled.find((e) => e.parentRunId === handle.id)
            expect(event).toMatchObject({ jobName: "child", parentJobName: handle.job.name, error: { message } })
          }
          expect(childRuns).toBe(0)
          expect(Either.isRight(Schema.decodeUnknownEither(Events.Event)(cancelled[0]))).toBe(true)
        }).pipe(Effect.provide(appOn([child, fails, timesOut, dies], context, lines)))
      }), 60_000)

    it.scopedLive("a run that fails for good without a retry is final in its event, its history row and the feed", () =>
      Effect.gen(function*() {
        const once = Job.make({
          name: "fails-once-for-good",
          payload: Schema.Struct({}),
          retry: Job.noRetry,
          run: () => Effect.fail(new Error("no retry"))
        })
        const twice = Job.make({
          name: "fails-then-dies",
          payload: Schema.Struct({}),
          retry: Schedule.recurs(1),
          run: () => Effect.fail(new Error("again"))
        })
        const lines: Array<string> = []
        const context = yield* Layer.build(layer)
        yield* Effect.gen(function*() {
          const subscription = yield* Effect.flatMap(Events.Events, (events) => events.subscribe)
          const start = yield* Effect.flatMap(JobStore.JobStore, (store) => store.feedEnd)
          const a = yield* Scheduler.enqueue(once, {})
          const b = yield* Scheduler.enqueue(twice, {})
          // the README's alert: every run that ends without success for good, once
          const alerts: Array<Events.Event> = []
          while (alerts.length < 2) {
            const event = yield* Queue.take(subscription).pipe(Effect.timeout("30 seconds"))
            if (Events.isFinalFailure(event)) alerts.push(event)
          }
          expect(alerts.map((e) => [e._tag, "runId" in e ? e.runId : ""]).sort()).toEqual(
            [["DeadLettered", b.id], ["Failed", a.id]].sort()
          )
          const rowsA = yield* Scheduler.history({ runId: a.id })
          expect(rowsA.map((r) => [r.status, r.final])).toEqual([["failed", true]])
          const rowsB = yield* Scheduler.history({ runId: b.id })
          expect(rowsB.map((r) => [r.status, r.final])).toEqual([["dead", true], ["failed", false]])
          const entries = yield* Scheduler.feed({ after: start, follow: false }).pipe(Stream.runCollect)
          const finalFailures = Chunk.toArray(entries).flatMap((e) =>
            e._tag === "Attempt" && Feed.isFinalFailure(e.record) ? [e.record.runId] : []
          )
          expect(finalFailures.sort()).toEqual([a.id, b.id].sort())
        }).pipe(Effect.provide(appOn([once, twice], context, lines)))
      }), 60_000)

    it.scopedLive("the feed follows runs of another app on the store; a named consumer resumes after a restart", () =>
      Effect.gen(function*() {
        const greet = Job.make({ name: "greet", payload: Schema.Struct({ n: Schema.Number }), run: () => Effect.void })
        const lines: Array<string> = []
        const context = yield* Layer.build(layer)
        const seen: Array<string> = []
        const consumer = Scheduler.consume({ name: "audit", startAt: "start", pollInterval: "100 millis" }, (entries) =>
          Effect.sync(() => {
            for (const e of entries) {
              if (e._tag === "Attempt" && e.record.jobName === "greet") seen.push(e.record.runId)
            }
          }))
        const runs = (from: number, to: number) =>
          Effect.forEach(
            Array.from({ length: to - from }, (_, i) => from + i),
            (n) => Effect.flatMap(Scheduler.enqueue(greet, { n }), Scheduler.result)
          )
        yield* Effect.gen(function*() {
          // a reader following from now sees the runs made after it started
          const followed = yield* Scheduler.feed({ pollInterval: "100 millis" }).pipe(
            Stream.filter((e) => e._tag === "Attempt"),
            Stream.take(3),
            Stream.runCollect,
            Effect.fork
          )
          yield* Effect.sleep("200 millis")
          const first = yield* consumer.pipe(Effect.fork)
          yield* runs(0, 3)
          expect(Chunk.size(yield* Fiber.join(followed).pipe(Effect.timeout("30 seconds")))).toBe(3)
          yield* eventually(Effect.suspend(() => seen.length >= 3 ? Effect.void : Effect.fail("waiting")))
          yield* Fiber.interrupt(first)
          // stopped: runs happen meanwhile; a consumer started again under the name resumes after the 3
          yield* runs(3, 5)
          yield* consumer.pipe(Effect.forkScoped)
          yield* eventually(Effect.suspend(() => seen.length >= 5 ? Effect.void : Effect.fail("waiting")))
          yield* Effect.sleep("300 millis")
          // each run once: none handed again after the restart, none missed while stopped
          expect(seen).toHaveLength(5)
          expect(new Set(seen).size).toBe(5)
        }).pipe(Effect.provide(appOn([greet], context, lines)))
      }), 60_000)

    it.scopedLive("two consumers under one name: one handles each batch; when it stops the other goes on from its cursor", () =>
      Effect.gen(function*() {
        const tick = Job.make({ name: "tick", payload: Schema.Struct({ n: Schema.Number }), run: () => Effect.void })
        const lines: Array<string> = []
        const context = yield* Layer.build(layer)
        const handled: Array<{ readonly by: string; readonly runId: string }> = []
        const consumer = (by: string) =>
          Scheduler.consume({ name: "shared", lease: "2 seconds", pollInterval: "100 millis" }, (entries) =>
            Effect.sync(() => {
              for (const e of entries) {
                if (e._tag === "Attempt") handled.push({ by, runId: e.record.runId })
              }
            }))
        yield* Effect.gen(function*() {
          const a = yield* Effect.fork(consumer("a"))
          yield* Effect.sleep("300 millis")
          const b = yield* Effect.fork(consumer("b"))
          yield* Effect.sleep("300 millis")
          for (let n = 0; n < 4; n++) yield* Scheduler.enqueue(tick, { n })
          yield* eventually(Effect.suspend(() => handled.length >= 4 ? Effect.void : Effect.fail("waiting")))
          expect(new Set(handled.map((h) => h.by))).toEqual(new Set(["a"]))
          // a stops (its name is let go): b takes over with the cursor a stored
          yield* Fiber.interrupt(a)
          for (let n = 4; n < 6; n++) yield* Scheduler.enqueue(tick, { n })
          yield* eventually(Effect.suspend(() => handled.length >= 6 ? Effect.void : Effect.fail("waiting")))
          yield* Effect.sleep("300 millis")
          expect(handled).toHaveLength(6)
          expect(new Set(handled.map((h) => h.runId)).size).toBe(6)
          expect(handled.slice(4).map((h) => h.by)).toEqual(["b", "b"])
          yield* Fiber.interrupt(b)
        }).pipe(Effect.provide(appOn([tick], context, lines)))
      }), 60_000)
  })
}
