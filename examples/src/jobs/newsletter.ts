/**
 * The weekly newsletter (`send_weekly_newsletter` in the Python scheduler):
 * an absolute schedule, every monday at 08:00 Berlin time, so a restart never
 * shifts it. Payload and result are Schemas; the counts go to the run history
 * as metrics.
 */
import { Job, Scheduler, Trigger } from "@clockwork/core"
import { Effect, Schema } from "effect"

export const Newsletter = Schema.Struct({
  edition: Schema.String
})

export const NewsletterSent = Schema.Struct({
  edition: Schema.String,
  sent: Schema.Number
})

const subscribers = ["ada@example.com", "grace@example.com", "linus@example.com", "nobody@bounce.invalid"]

export const sendNewsletter = Job.make({
  name: "send-newsletter",
  payload: Newsletter,
  success: NewsletterSent,
  timeout: "30 minutes",
  run: ({ edition }, ctx) =>
    Effect.gen(function*() {
      let sent = 0
      let bounced = 0
      for (const address of subscribers) {
        yield* Effect.sleep("50 millis")
        if (address.endsWith(".invalid")) bounced++
        else sent++
      }
      yield* ctx.metrics({ sent, bounced })
      yield* Effect.log(`sent the ${edition} newsletter to ${sent} subscribers (${bounced} bounced)`)
      return { edition, sent }
    })
})

/** A stable id: scheduling it again after a restart updates the schedule, never duplicates it. */
export const newsletterScheduleId = "weekly-newsletter"

export const newsletterTrigger = Trigger.weekly("monday", "08:00", { timeZone: "Europe/Berlin" })

export const scheduleNewsletter = Scheduler.schedule(newsletterScheduleId, sendNewsletter, {
  trigger: newsletterTrigger,
  payload: { edition: "weekly" }
})
