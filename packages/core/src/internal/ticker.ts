import { Clock, DateTime, Effect } from "effect"
import type { Events } from "../Events.js"
import type { JobStore, NewRun, ScheduleRecord } from "../JobStore.js"
import * as Trigger from "../Trigger.js"
import * as Outage from "./outage.js"
import { takeMatching } from "./takeMatching.js"
import { sleepAtMost } from "./timer.js"

/** Due schedules fired per store round trip. */
const batch = 100

/**
 * The ticks of a schedule that are due at `now` (the latest `keep` of them),
 * and the first tick after it. Interval ticks are counted arithmetically and
 * cron ticks looked for back from `now`, so a long gap costs nothing.
 */
export const dueTicks = (
  trigger: Trigger.Trigger,
  first: number,
  now: number,
  keep: number
): { readonly ticks: ReadonlyArray<number>; readonly next: number | undefined } => {
  if (first > now) return { ticks: [], next: first }
  if (trigger._tag === "Every") {
    const interval = Trigger.intervalMillis(trigger)
    const count = Math.floor((now - first) / interval) + 1
    const ticks: Array<number> = []
    for (let i = Math.max(0, count - keep); i < count; i++) ticks.push(first + i * interval)
    return { ticks, next: first + count * interval }
  }
  const next = Trigger.nextFireAfter(trigger, now)
  if (keep <= 0) return { ticks: [], next }
  // the last `keep` ticks: in a window before `now` that grows until it holds them or reaches `first`
  for (let span = 60_000;; span *= 8) {
    const from = Math.max(first, now - span)
    const ticks: Array<number> = []
    for (
      let t: number | undefined = from === first ? first : Trigger.nextFireAfter(trigger, from - 1);
      t !== undefined && t <= now;
      t = Trigger.nextFireAfter(trigger, t)
    ) {
      ticks.push(t)
      if (ticks.length > keep) ticks.shift()
    }
    if (ticks.length >= keep || from === first) return { ticks, next }
  }
}

/** Which of the due ticks become runs, by the schedule's misfire policy. */
export const ticksToFire = (schedule: ScheduleRecord, now: number): {
  readonly fire: ReadonlyArray<number>
  readonly next: number | undefined
} => {
  const first = DateTime.toEpochMillis(schedule.nextFireAt!)
  const misfire = schedule.misfire
  const keep = misfire._tag === "CatchUp" ? misfire.limit : 1
  const { next, ticks } = dueTicks(schedule.trigger, first, now, keep)
  if (misfire._tag === "Skip") {
    return { fire: ticks.filter((t) => now - t <= schedule.misfireGraceMs), next }
  }
  return { fire: ticks, next }
}

/**
 * The ticker turns due schedules into queued runs. Each tick is applied with a
 * compare-and-set on the schedule's next fire time, so any number of tickers
 * can run against one store without firing a tick twice.
 */
export const make = (store: JobStore, events: Events) =>
  Effect.gen(function*() {
    const changes = yield* store.changes
    // runs come and go all the time; only a change to the schedules can move the next tick
    const scheduleChange = takeMatching(changes, (change) => change === "schedules")
    const outage = Outage.of(store)

    const fireOne = (schedule: ScheduleRecord, now: number) =>
      Effect.gen(function*() {
        const { fire, next } = ticksToFire(schedule, now)
        const runs: Array<NewRun> = fire.map((tick) => ({
          jobName: schedule.jobName,
          payload: schedule.payload,
          runAt: tick,
          scheduledFor: tick,
          scheduleId: schedule.id,
          serial: schedule.overlap === "queue"
        }))
        const result = yield* store.fire({
          scheduleId: schedule.id,
          expectedNextFireAt: DateTime.toEpochMillis(schedule.nextFireAt!),
          nextFireAt: next,
          runs,
          skipIfActive: schedule.overlap === "skip",
          now
        })
        if (!events.hasSubscribers() || !result.fired) return
        if (result.skipped > 0) {
          yield* events.publish({
            _tag: "Skipped",
            scheduleId: schedule.id,
            jobName: schedule.jobName,
            reason: "previous run still active (overlap: skip)",
            at: now
          })
        }
        for (let i = 0; i < result.runIds.length; i++) {
          yield* events.publish({
            _tag: "Enqueued",
            runId: result.runIds[i]!,
            jobName: schedule.jobName,
            attempt: 0,
            scheduleId: schedule.id,
            runAt: runs[i]!.runAt,
            at: now
          })
        }
      })

    const loop = Effect.gen(function*() {
      for (;;) {
        const now = yield* Clock.currentTimeMillis
        const due = yield* store.dueSchedules(now, batch)
        yield* outage.answered
        for (const schedule of due) yield* fireOne(schedule, now)
        if (due.length === batch) continue
        const next = yield* store.nextFireAt
        if (next !== undefined && next > now) {
          // the clock again: firing and these queries took time, and the tick is due at `next` sharp
          const until = next - (yield* Clock.currentTimeMillis)
          yield* Effect.raceFirst(scheduleChange, sleepAtMost(until))
        } else if (next === undefined) {
          yield* scheduleChange
        }
      }
    }).pipe(
      Effect.catchAllCause((cause) => outage.failed("tick", cause)),
      Effect.forever
    )
    // its store calls are not traced: each would be a root span, every tick
    yield* Effect.forkScoped(Effect.withTracerEnabled(loop, false))
  })
