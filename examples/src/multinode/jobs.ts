/**
 * The jobs of the multi-node example, imported by both roles: the scheduler
 * enqueues and schedules them (it needs their names and payload Schemas), the
 * workers run them. Each takes a short, simulated time.
 */
import { Job, Scheduler, Trigger } from "@clockwork/core"
import { Effect, Schema } from "effect"

export const resizeImage = Job.make({
  name: "resize-image",
  payload: Schema.Struct({ image: Schema.String, width: Schema.Int }),
  success: Schema.Struct({ image: Schema.String, bytes: Schema.Int }),
  timeout: "10 seconds",
  run: ({ image, width }) =>
    Effect.gen(function*() {
      yield* Effect.sleep(`${100 + width / 8} millis`)
      const bytes = width * width * 3 / 10
      yield* Effect.log(`resized ${image} to ${width}px (${bytes} bytes)`)
      return { image, bytes }
    })
})

export const sendReceipt = Job.make({
  name: "send-receipt",
  payload: Schema.Struct({ order: Schema.Int, email: Schema.String }),
  timeout: "10 seconds",
  run: ({ email, order }) =>
    Effect.zipRight(Effect.sleep("150 millis"), Effect.log(`sent the receipt of order ${order} to ${email}`))
})

export const purgeSessions = Job.make({
  name: "purge-sessions",
  payload: Schema.Struct({ idleMinutes: Schema.Int }),
  timeout: "10 seconds",
  run: ({ idleMinutes }, ctx) => {
    const tick = ctx.scheduledFor.toISOString().slice(11, 19)
    return Effect.zipRight(
      Effect.sleep("50 millis"),
      Effect.log(`purged sessions idle for ${idleMinutes} minutes (the ${tick} tick)`)
    )
  }
})

/** What a worker registers: every job any process may enqueue. */
export const jobs = [resizeImage, sendReceipt, purgeSessions] as const

/** A stable id: every start of a scheduler registers it again, and nothing is duplicated. */
export const purgeSessionsScheduleId = "purge-sessions-every-5s"

/** The cron job every 5 seconds (six fields: seconds first). */
export const schedulePurgeSessions = Effect.flatMap(
  Trigger.cron("*/5 * * * * *"),
  (trigger) => Scheduler.schedule(purgeSessionsScheduleId, purgeSessions, { trigger, payload: { idleMinutes: 30 } })
)
