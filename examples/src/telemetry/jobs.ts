import { Job } from "@clockwork/core"
import { Data, Effect, Schedule, Schema } from "effect"

class Declined extends Data.TaggedError("Declined")<{ readonly order: string }> {}

let attempts = 0

/** Charges an order; the payment provider declines the first attempt. */
export const chargeCard = Job.make({
  name: "charge-card",
  payload: Schema.Struct({ order: Schema.String, cents: Schema.Number }),
  retry: Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(2))),
  run: ({ order }) =>
    Effect.suspend(() => ++attempts === 1 ? Effect.fail(new Declined({ order })) : Effect.void).pipe(
      Effect.withSpan("psp.charge", { attributes: { order } })
    )
})
