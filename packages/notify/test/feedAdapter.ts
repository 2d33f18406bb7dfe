import { Events, Scheduler } from "@clockwork/core"
import { Effect, Layer, Stream } from "effect"
import type { ConsumerOptions, FeedEntry } from "../src/internal/feed.js"

// Temporary: @clockwork/core's run feed (Scheduler.consume) is not on main yet. Until it is, the
// memory-store tests give the Scheduler a `consume` that follows this process's outcome events and
// reads each attempt's history row. Removed when the feed lands.
const outcomes = new Set(["Succeeded", "Failed", "TimedOut", "DeadLettered", "Cancelled"])

export const layerFeed = Layer.effect(
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
        Stream.runForEach((record) =>
          record === undefined ? Effect.void : handle([{ _tag: "Attempt", cursor: String(++cursor), record }])
        ),
        Effect.zipRight(Effect.never)
      )
    return { ...scheduler, consume } as Scheduler.Scheduler
  })
)
