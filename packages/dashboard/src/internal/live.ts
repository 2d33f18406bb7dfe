/**
 * What the page hears live: which views changed (finished attempts, the
 * queue, schedules, workers), as server-sent events. The page fetches the
 * views it shows again when it hears of them.
 */
import type { JobStore, Run, Scheduler } from "@clockwork/core"
import { DateTime, Effect, Option, Queue, Stream } from "effect"

/** A part of the dashboard that changed. */
export type Topic = "runs" | "queue" | "schedules" | "workers"

/** How often the views are compared when the store's change feed stays quiet. */
const pollEvery = "1 second"

const keyOf = (record: Run.RunRecord) => `${record.runId}:${record.attempt}`

/**
 * Attempts that finish from now on, in batches: the history read again from
 * the newest finish time seen. The one place to switch to the store's run
 * feed, which also reports attempts that finish in other processes at once.
 */
export const finishedAttempts = (
  scheduler: Scheduler.Scheduler,
  wake: Effect.Effect<void>
): Stream.Stream<ReadonlyArray<Run.RunRecord>, JobStore.StoreError> =>
  Stream.unwrap(Effect.gen(function*() {
    const head = yield* scheduler.history({ limit: 1 })
    let since = head[0] === undefined ? 0 : DateTime.toEpochMillis(head[0].finishedAt)
    // rows at `since` already reported: the next read starts at `since` again, as more may finish in that millisecond
    let seen = new Set(head.map(keyOf))
    return Stream.repeatEffectOption(Effect.gen(function*() {
      for (;;) {
        yield* wake
        const rows = yield* Effect.mapError(scheduler.history({ from: since, limit: 500 }), Option.some)
        const fresh = rows.filter((row) => !seen.has(keyOf(row)))
        if (fresh.length === 0) continue
        const newest = Math.max(...rows.map((row) => DateTime.toEpochMillis(row.finishedAt)))
        const atNewest = rows.filter((row) => DateTime.toEpochMillis(row.finishedAt) === newest).map(keyOf)
        seen = newest === since ? new Set([...seen, ...atNewest]) : new Set(atNewest)
        since = newest
        return fresh
      }
    }))
  }))

/** Wakes on each change the store announces (this process, or others through the store) and at least every second. */
const waker = (store: JobStore.JobStore) =>
  Effect.map(store.changes, (changes) =>
    Effect.asVoid(Effect.race(
      Effect.zipRight(Queue.take(changes), Queue.takeAll(changes)),
      Effect.sleep(pollEvery)
    )))

/** The views that changed, as they change; a connection's lifetime. */
export const updates = (
  scheduler: Scheduler.Scheduler,
  store: JobStore.JobStore
): Stream.Stream<ReadonlyArray<Topic>, JobStore.StoreError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const wake = yield* waker(store)
    const views = Effect.all({
      queue: Effect.map(scheduler.queue, (jobs) => JSON.stringify(jobs.map((j) => [j.jobName, j.due, j.later, j.running]))),
      schedules: Effect.map(scheduler.schedules, (all) =>
        JSON.stringify(all.map((s) => [s.id, s.paused, s.nextFireAt?.epochMillis, s.lastFireAt?.epochMillis]))),
      workers: Effect.map(scheduler.workers, (all) => JSON.stringify(all.map((w) => [w.id, w.info.running])))
    })
    let last = yield* views
    const viewChanges = Stream.repeatEffectOption(Effect.gen(function*() {
      for (;;) {
        yield* wake
        const now = yield* Effect.mapError(views, Option.some)
        const topics = (["queue", "schedules", "workers"] as const).filter((topic) => now[topic] !== last[topic])
        last = now
        if (topics.length > 0) return topics as ReadonlyArray<Topic>
      }
    }))
    const runs = Stream.as(finishedAttempts(scheduler, yield* waker(store)), ["runs"] as ReadonlyArray<Topic>)
    return Stream.merge(runs, viewChanges)
  }))
