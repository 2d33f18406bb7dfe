import { Events, Scheduler } from "@clockwork/core"
import { type Duration, Effect, Layer, Stream } from "effect"
import type { ConsumerOptions, FeedEntry } from "../src/internal/feed.js"

// Temporary: @clockwork/core's run feed (Scheduler.consume) is not on main yet. Until it is, the
// memory-store tests give the Scheduler a `consume` that follows this process's outcome events and
// reads each attempt's history row. Removed when the feed lands. `replayAfter` hands every batch
// again after that time, as the feed does (at least once) with a batch whose cursor was not stored.
const outcomes = new Set(["Succeeded", "Failed", "TimedOut", "DeadLettered", "Cancelled"])

export const layerFeed = (options?: { readonly replayAfter?: Duration.DurationInput; readonly handed?: { count: number } }) => Layer.effect(
  Scheduler.Scheduler,
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const events = yield* Events.Events
    let cursor = 0
    const consume = <E, R>(_: ConsumerOptions, handle: (entries: ReadonlyArray<FeedEntry>) => Effect.Effect<void, E, R>) =>
      events.stream.pipe(
        Stream.filter((event) => outcomes.has(event._tag)),
        Stream.mapEffect((event) =>
          Effect.map(
            scheduler.history({ runId: (event as { readonly runId: string }).runId as never }),
            (rows) => rows.find((row) => row.attempt === (event as { readonly attempt: number }).attempt)
          )
        ),
        Stream.runForEach((record) => {
          if (record === undefined) return Effect.void
          const batch: ReadonlyArray<FeedEntry> = [{ _tag: "Attempt", cursor: String(++cursor), record }]
          const hand = Effect.zipRight(Effect.sync(() => options?.handed && options.handed.count++), handle(batch))
          const replay = options?.replayAfter
          return replay === undefined ? hand : Effect.zipRight(hand, Effect.forkScoped(Effect.delay(hand, replay)))
        }),
        Effect.zipRight(Effect.never),
        Effect.scoped
      )
    return { ...scheduler, consume } as Scheduler.Scheduler
  })
)
