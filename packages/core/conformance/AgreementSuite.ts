/**
 * The same random sequences of store operations, run on a store and on the
 * memory store: every answer must be the same. The memory store is what apps
 * test their jobs on (`Testing.layer`); where it and a persistent store part,
 * one of them is wrong, and a test passes there that fails in production (or
 * the other way round). The conformance suite specifies the cases someone
 * thought of; this walk finds the combinations nobody did (a retry of a run
 * whose cancellation was requested, a serial run behind one of another job).
 *
 * Each sequence is drawn from a seed: enqueues (priorities, dedup keys,
 * then-jobs), schedules (created or changed one or several at once, paused,
 * removed, fired with each overlap policy), claims (limits, job filters,
 * capacities, suspects), outcomes (success with follow-ups, failure, retry,
 * each final status), cancels, signals, children, waits, heartbeats, steps,
 * retention and queue depths, at instants that move forward by up to 0.4 s;
 * at the end, every field of every run, history row and schedule. Leases
 * never expire here: the reaper's backoff is random, so two stores would
 * rightly disagree on when a reaped run is due. The feed is left to the
 * conformance suite: on PostgreSQL a reader waits for every older transaction
 * of the server, other tests' included.
 *
 * @since 0.1.0
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, type Layer } from "effect"
import { JobStore, Journal, Policy, type Run, Trigger } from "../src/index.js"

const t0 = Date.UTC(2026, 0, 1)
const second = 1000
/** A changed trigger restarts a schedule at its first fire time; anything else keeps it. */
const triggers = [
  new Trigger.Every({ interval: Duration.seconds(1) }),
  new Trigger.Every({ interval: Duration.seconds(2) })
]

/** A linear congruential generator: the same seed draws the same sequence on every store. */
const random = (seed: number) => {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff
    return state / 0x7fffffff
  }
}

const millis = (instant: { readonly epochMillis: number } | undefined) => instant?.epochMillis ?? "-"

/**
 * Runs the sequence of `seed` on `store`; returns every answer, as text in
 * which run ids are replaced by the order they were first seen in (each store
 * makes its own ids).
 */
const walk = (store: JobStore.JobStore, seed: number, steps: number) =>
  Effect.gen(function*() {
    const draw = random(seed)
    const pick = <A>(values: ReadonlyArray<A>) => values[Math.floor(draw() * values.length)]!
    const below = (n: number) => Math.floor(draw() * n)
    const seen = new Map<string, number>()
    const ids: Array<Run.RunId> = []
    const known = (id: Run.RunId) => {
      let n = seen.get(id)
      if (n === undefined) {
        n = ids.length
        ids.push(id)
        seen.set(id, n)
      }
      return n
    }
    const list = (runIds: ReadonlyArray<Run.RunId>) => runIds.map(known).join(",")
    // for lists whose order is not promised: by the order the runs were first seen in
    const set = (runIds: ReadonlyArray<Run.RunId>) => runIds.map(known).sort((x, y) => x - y).join(",")
    const held: Array<JobStore.ClaimedRun> = []
    const takeHeld = () => held.splice(below(held.length), 1)[0]!
    const answers: Array<string> = []
    let now = t0

    for (let step = 0; step < steps; step++) {
      now += below(400)
      const at = `${step} at +${now - t0}`
      const say = (answer: string) => answers.push(`${at}: ${answer}`)
      const op = draw()
      if (op < 0.12) {
        const runs = Array.from({ length: 1 + below(3) }, (): JobStore.NewRun => {
          const runAt = now + below(1500) - 100
          return {
            jobName: pick(["a", "b"]),
            payload: { step },
            runAt,
            scheduledFor: runAt,
            priority: draw() < 0.3 ? 1 : 0,
            ...(draw() < 0.2 ? { key: pick(["k1", "k2"]) } : {}),
            ...(draw() < 0.2 ? { then: ["c"] } : {})
          }
        })
        say(`enqueue ${list(yield* store.enqueue(runs, now))}`)
      } else if (op < 0.2) {
        const input = (id: string): JobStore.ScheduleInput => ({
          id,
          jobName: pick(["a", "b"]),
          payload: { schedule: id },
          trigger: pick(triggers),
          misfire: Policy.coalesce,
          overlap: pick(["allow", "skip", "queue"] as const),
          misfireGraceMs: 60 * second,
          firstFireAt: now + second,
          now
        })
        const upserted = draw() < 0.5
          ? [yield* store.upsertSchedule(input(pick(["s1", "s2", "s3"])))]
          : yield* store.upsertSchedules(["s1", "s2", "s3"].filter(() => draw() < 0.6).map(input))
        for (const { outcome, schedule } of upserted) {
          say(`upsert ${schedule.id} ${outcome}, next ${millis(schedule.nextFireAt)}, paused ${schedule.paused}`)
        }
      } else if (op < 0.3) {
        // ties in the fire time come in no promised order
        const due = [...yield* store.dueSchedules(now, 10)].sort((x, y) => x.id < y.id ? -1 : 1)
        say(`due ${due.map((s) => `${s.id} ${millis(s.nextFireAt)}`).join(", ")}; next ${yield* store.nextFireAt}`)
        for (const schedule of due) {
          const fireAt = schedule.nextFireAt!.epochMillis
          const fired = yield* store.fire({
            scheduleId: schedule.id,
            expectedNextFireAt: fireAt,
            nextFireAt: Trigger.nextFireAfter(schedule.trigger, fireAt),
            runs: [{
              jobName: schedule.jobName,
              payload: schedule.payload,
              runAt: fireAt,
              scheduledFor: fireAt,
              scheduleId: schedule.id,
              serial: schedule.overlap === "queue"
            }],
            skipIfActive: schedule.overlap === "skip",
            now
          })
          say(`fire ${schedule.id} ${fired.fired} ${list(fired.runIds)}, skipped ${fired.skipped}`)
        }
      } else if (op < 0.34) {
        const id = pick(["s1", "s2", "s3"])
        const paused = draw() < 0.5
        const result = yield* Effect.either(store.setPaused(id, paused, now + 500, now))
        say(`paused ${id} ${paused}: ${result._tag === "Left" ? result.left._tag : millis(result.right.nextFireAt)}`)
      } else if (op < 0.36) {
        const id = pick(["s1", "s2", "s3"])
        const result = yield* Effect.either(store.removeSchedule(id, now))
        say(`remove ${id}: ${result._tag === "Left" ? result.left._tag : "removed"}`)
      } else if (op < 0.53) {
        const limit = 1 + below(3)
        const suspects = draw() < 0.3
        const request: JobStore.ClaimRequest = {
          now,
          limit,
          workerId: "worker-1",
          leaseMs: 1e9,
          ...(draw() < 0.3 ? { jobNames: ["a", "c"] } : {}),
          ...(draw() < 0.2 ? { jobCapacity: new Map([["a", 1], ["b", 0], ["c", 2]]) } : {}),
          ...(suspects ? { maxLeaseExpiries: 1, suspectIfNoneDue: draw() < 0.5 } : {})
        }
        const claimed = yield* store.claim(request)
        held.push(...claimed.runs)
        say(
          `claim ${claimed.runs.map((r) => `${known(r.id)} ${r.jobName} #${r.attempt}`).join(", ")}; ` +
            `next ${claimed.nextRunAt}, suspect waiting ${claimed.suspectWaiting}`
        )
      } else if (op < 0.64 && held.length > 0) {
        const run = takeHeld()
        const kind = draw()
        const ended = kind < 0.4
          ? {
            status: "succeeded" as const,
            result: { step },
            ...(draw() < 0.3 ? { followUps: [{ jobName: "c", payload: { step }, runAt: now, scheduledFor: now }] } : {})
          }
          : kind < 0.7
          ? { status: "failed" as const, retryAt: now + below(1000) }
          : { status: pick(["failed", "timed_out", "interrupted", "dead"] as const) }
        const { refused } = yield* store.complete([{
          runId: run.id,
          jobName: run.jobName,
          attempt: run.attempt,
          scheduledFor: run.scheduledFor,
          scheduleId: run.scheduleId,
          startedAt: now,
          finishedAt: now,
          workerId: "worker-1",
          ...ended
        }])
        say(`complete ${known(run.id)} ${ended.status}${"retryAt" in ended ? " (retry)" : ""}, refused ${list(refused)}`)
      } else if (op < 0.68 && ids.length > 0) {
        const id = pick(ids)
        say(`cancel ${known(id)}: ${yield* store.cancel(id, now)}`)
      } else if (op < 0.72 && ids.length > 0) {
        const id = pick(ids)
        say(`signal ${known(id)}: ${yield* store.signal({ runId: id, name: `s${step % 3}`, value: step, now })}`)
      } else if (op < 0.77 && held.length > 0) {
        const run = pick(held)
        const children = Array.from({ length: 1 + below(2) }, (_, n) => ({
          step: `child:${n}`,
          position: String(n),
          run: { jobName: "c", payload: { n }, runAt: now, scheduledFor: now }
        }))
        const started = yield* store.startChildren({ parentRunId: run.id, attempt: run.attempt, now, children })
        say(`children of ${known(run.id)}: ${started === undefined ? "refused" : list(started)}`)
      } else if (op < 0.81 && held.length > 0) {
        const run = pick(held)
        const recorded = yield* store.recordSteps([
          new Journal.StepRecord({
            runId: run.id,
            name: `step:${below(3)}`,
            kind: "step",
            status: pick(["succeeded", "failed"] as const),
            position: String(step),
            attempt: run.attempt,
            startedAt: now,
            finishedAt: now,
            result: step
          })
        ])
        say(`steps of ${known(run.id)}: ${recorded?.map((s) => `${s.name} ${s.status} ${s.result}`).join(", ") ?? "refused"}`)
      } else if (op < 0.86 && held.length > 0) {
        const run = takeHeld()
        const { steps: journal, wakes } = yield* store.journal(run.id)
        const waits = yield* store.suspend({
          runId: run.id,
          attempt: run.attempt,
          wakeAt: draw() < 0.5 ? undefined : now + below(1000),
          wakes,
          now
        })
        say(`wait ${known(run.id)}: ${waits}; journal ${journal.map((s) => `${s.name} ${s.status}`).join(", ")}`)
      } else if (op < 0.9 && held.length > 0) {
        const beat = yield* store.heartbeat(
          "worker-1",
          held.map((run) => ({ runId: run.id, attempt: run.attempt })),
          now + 1e9
        )
        say(`heartbeat lost ${set(beat.lost)}, cancel ${set(beat.cancelRequested)}`)
      } else if (op < 0.93) {
        say(`prune ${yield* store.pruneHistory(now - 5 * second)}`)
      } else {
        const depth = yield* store.queueDepth(now)
        say(`depth ${depth.map((d) => `${d.jobName} ${d.due}/${d.later}/${d.running} ${millis(d.oldestDueAt)}`).join(", ")}`)
      }
    }

    const runs = (yield* store.listRuns({ limit: 10_000 }))
      .map((r) =>
        `${known(r.id)} ${r.jobName} ${r.state} #${r.attempt} ${millis(r.runAt)} ${millis(r.scheduledFor)} ` +
        `p${r.priority} ${r.key ?? "-"} ${r.scheduleId ?? "-"} [${r.then.join(",")}] ${JSON.stringify(r.payload)} ` +
        `${JSON.stringify(r.result) ?? "-"} ${r.error?.tag ?? "-"} ${r.workerId ?? "-"} ${millis(r.createdAt)}`
      )
      .sort()
    answers.push(`runs: ${runs.join("; ")}`)
    const history = (yield* store.history({ limit: 10_000 }))
      .map((h) =>
        `${known(h.runId)} ${h.jobName} ${h.status} #${h.attempt} ${millis(h.retryAt)} ${h.scheduleId ?? "-"} ` +
        `${millis(h.scheduledFor)} ${millis(h.startedAt)} ${millis(h.finishedAt)} ${h.error?.tag ?? "-"} ` +
        `${JSON.stringify(h.result) ?? "-"} ${h.workerId ?? "-"}`
      )
      .sort()
    answers.push(`history: ${history.join("; ")}`)
    const schedules = (yield* store.listSchedules)
      .map((s) => `${s.id} ${s.paused} ${millis(s.nextFireAt)} ${millis(s.lastFireAt)}`)
    answers.push(`schedules: ${schedules.join("; ")}`)
    return answers
  })

/**
 * Declares the agreement suite for one store layer: `seeds` sequences of
 * `steps` operations each, on a fresh build of `layer` and on a fresh memory
 * store, in tests of ten sequences. A disagreement names the seed, the step
 * and the three answers before it.
 *
 * @example
 * ```ts
 * run("PostgreSQL", freshStore(), { seeds: 40 })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const run = (
  name: string,
  layer: Layer.Layer<JobStore.JobStore, unknown>,
  options?: { readonly seeds?: number; readonly steps?: number }
): void => {
  const seeds = options?.seeds ?? 40
  const steps = options?.steps ?? 150
  describe(`JobStore agreement with the memory store: ${name}`, () => {
    for (let first = 1; first <= seeds; first += 10) {
      const last = Math.min(seeds, first + 9)
      it.effect(`random sequences ${first} to ${last} get the answers the memory store gives`, () =>
        Effect.forEach(
          Array.from({ length: last - first + 1 }, (_, i) => first + i),
          (seed) =>
            Effect.gen(function*() {
              const expected = yield* walk(yield* JobStore.makeMemory, seed, steps)
              const actual = yield* walk(yield* JobStore.JobStore, seed, steps)
              const length = Math.max(expected.length, actual.length)
              let at = 0
              while (at < length && actual[at] === expected[at]) at++
              if (at === length) return
              expect({ seed, before: expected.slice(Math.max(0, at - 3), at), answer: actual[at] })
                .toEqual({ seed, before: expected.slice(Math.max(0, at - 3), at), answer: expected[at] })
            }).pipe(Effect.scoped, Effect.provide(layer)),
          { discard: true }
        ), 120_000)
    }
  })
}
