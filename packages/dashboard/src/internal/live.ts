/**
 * What the page hears live: which views changed, as server-sent events. The
 * page fetches the views it shows again when it hears of them.
 *
 * Finished attempts and schedule changes come from the run feed, so an
 * attempt that ends in any process sharing the store shows at once. The
 * queue, the workers and the schedules' fire times are not in the feed: they
 * are compared whenever the store announces a change, and every second.
 */
import type { JobStore, Scheduler } from "@clockwork/core"
import { Chunk, Effect, Option, Queue, Stream } from "effect"

/** A part of the dashboard that changed. */
export type Topic = "runs" | "queue" | "schedules" | "workers"

/** How often the views outside the feed are compared when the store stays quiet. */
const pollEvery = "1 second"

/** The feed's entries from now on, as the topics they touch, a batch at a time. */
const fromFeed = (scheduler: Scheduler.Scheduler): Stream.Stream<ReadonlyArray<Topic>, JobStore.StoreError> =>
  scheduler.feed({ after: "now" }).pipe(
    // "now" is always a valid start: there is no cursor to be malformed
    Stream.catchTag("InvalidFeedCursor", (error) => Stream.die(error)),
    Stream.groupedWithin(500, "100 millis"),
    Stream.map((entries) =>
      [...new Set(Chunk.toReadonlyArray(entries).map((entry): Topic => entry._tag === "Attempt" ? "runs" : "schedules"))]
    )
  )

/** Wakes on each change the store announces (this process, or others through the store) and at least every second. */
const waker = (store: JobStore.JobStore) =>
  Effect.map(store.changes, (changes) =>
    Effect.asVoid(Effect.race(
      Effect.zipRight(Queue.take(changes), Queue.takeAll(changes)),
      Effect.sleep(pollEvery)
    )))

/** The views outside the feed, as they change. */
const fromViews = (
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
    return Stream.repeatEffectOption(Effect.gen(function*() {
      for (;;) {
        yield* wake
        const now = yield* Effect.mapError(views, Option.some)
        const topics = (["queue", "schedules", "workers"] as const).filter((topic) => now[topic] !== last[topic])
        last = now
        if (topics.length > 0) return topics as ReadonlyArray<Topic>
      }
    }))
  }))

/** The views that changed, as they change; a connection's lifetime. */
export const updates = (
  scheduler: Scheduler.Scheduler,
  store: JobStore.JobStore
): Stream.Stream<ReadonlyArray<Topic>, JobStore.StoreError> =>
  Stream.merge(fromFeed(scheduler), fromViews(scheduler, store))
