/**
 * The notifier end to end on the memory job store under TestClock, mailing
 * through a real SMTP server on 127.0.0.1: a job that fails for good is mailed
 * once; a down SMTP server delays nothing and its alerts arrive when it is
 * back; a delivery is given up after its last round, logged once.
 */
import { Job, Scheduler, Testing, Trigger } from "@clockwork/core"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, type Duration, Effect, Layer, Logger, Ref, Schema } from "effect"
import { DeliveryStore, Email, Notify } from "../src/index.js"
import { layerFeed } from "./feedAdapter.js"
import { smtpServer } from "./servers.js"

class ScrapeFailed extends Schema.TaggedError<ScrapeFailed>()("ScrapeFailed", { page: Schema.String }) {
  override get message() {
    return `could not scrape ${this.page}`
  }
}

const scrape = Job.make({
  name: "scrape-meetings",
  payload: Schema.Struct({ page: Schema.String }),
  retry: Job.noRetry,
  run: ({ page }) => page === "ok" ? Effect.void : Effect.fail(new ScrapeFailed({ page }))
})

/**
 * Waits until `check` holds, for up to 60 seconds of real time (SMTP is real
 * I/O), moving the TestClock by `step` each round (the notifier's retries and
 * rounds wait on it).
 */
const waitUntil = (check: Effect.Effect<boolean, unknown, DeliveryStore.DeliveryStore>, step: Duration.DurationInput = 0) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1500; i++) {
      if (yield* check) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 40)))
      yield* Testing.advance(step)
    }
    expect(yield* check).toBe(true)
  })

const deliveries = Effect.flatMap(DeliveryStore.DeliveryStore, (store) => store.list("ops"))

const app = (port: number, options?: Partial<Notify.Options<[typeof Email.Email]>>) =>
  Notify.layer({ name: "ops", channels: [Email.Email], ...options }).pipe(
    Layer.provide(Email.layer({ host: "127.0.0.1", port, from: "cw@example.com", to: "ops@example.com" })),
    Layer.provideMerge(DeliveryStore.layerMemory),
    Layer.provideMerge(layerFeed),
    Layer.provideMerge(Testing.layer([scrape]))
  )

describe("Notify", () => {
  it.scoped("a job that fails for good is mailed once; its successes and the other job's are not", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(scrape, { page: "ok" })
        yield* Scheduler.enqueue(scrape, { page: "<meetings>" })
        yield* Testing.advance("1 second")
        yield* waitUntil(Effect.sync(() => smtp.received.length === 1))
        expect((yield* deliveries).map((d) => [d.channel, d.status, d.attempts])).toEqual([["email", "delivered", 1]])
        yield* Testing.advance("1 minute")
        expect(smtp.received).toHaveLength(1)
        const [mail] = smtp.received
        expect(mail!.mail.subject).toBe("[clockwork] scrape-meetings failed for good")
        expect(mail!.mail.text).toContain("ScrapeFailed: could not scrape <meetings>")
        expect(String(mail!.mail.html)).toContain("could not scrape &lt;meetings&gt;")
      }).pipe(Effect.provide(app(smtp.port)))
    }), 90_000)

  it.scoped("SMTP down: every run still happens on time, and the alerts arrive once it is back", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      smtp.refuse = true
      yield* Effect.gen(function*() {
        yield* Scheduler.schedule("every-10s", scrape, { trigger: Trigger.every("10 seconds"), payload: { page: "x" } })
        yield* Testing.advance("35 seconds")
        // three alerts, each tried and refused
        yield* waitUntil(
          Effect.map(deliveries, (ds) => ds.length >= 3 && ds.slice(0, 3).every((d) => d.attempts >= 1 && d.status === "pending")),
          "1 second"
        )
        expect(smtp.received).toHaveLength(0)
        const down = yield* Scheduler.history({ jobName: "scrape-meetings" })
        expect(down.map((r) => DateTime.toEpochMillis(r.scheduledFor) / 1000).sort((a, b) => a - b).slice(0, 3)).toEqual([10, 20, 30])
        expect(down.every((r) => DateTime.distance(r.scheduledFor, r.startedAt) === 0)).toBe(true)
        const first = (yield* deliveries).slice(0, 3).map((d) => d.alertId)

        smtp.refuse = false
        const ids = () => smtp.received.map((r) => String(r.mail.headers.get("x-clockwork-alert-id")))
        yield* waitUntil(Effect.sync(() => first.every((id) => ids().includes(id))), "5 seconds")
        expect(new Set(ids()).size).toBe(ids().length)
        // every tick ran on time through the outage
        const runs = yield* Scheduler.history({ jobName: "scrape-meetings" })
        expect(runs.every((r) => DateTime.distance(r.scheduledFor, r.startedAt) === 0)).toBe(true)
      }).pipe(Effect.provide(app(smtp.port)))
    }), 90_000)

  it.scoped("after its last round a delivery is recorded undelivered and logged once", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      smtp.refuse = true
      const logs = yield* Ref.make<Array<string>>([])
      const logger = Logger.make(({ message }) => {
        const text = Array.isArray(message) ? message.join(" ") : String(message)
        Effect.runSync(Ref.update(logs, (all) => [...all, text]))
      })
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(scrape, { page: "x" })
        yield* Testing.advance("1 second")
        yield* waitUntil(Effect.map(deliveries, (ds) => ds.length === 1 && ds[0]!.status === "undelivered"), "1 second")
        const [delivery] = yield* deliveries
        expect(delivery!.attempts).toBe(2)
        expect(delivery!.lastError).toContain("451")
        yield* Testing.advance("5 minutes")
        const warnings = (yield* Ref.get(logs)).filter((line) => line.includes("was not delivered"))
        expect(warnings).toHaveLength(1)
        expect(warnings[0]).toContain(delivery!.alertId)
        expect(smtp.received).toHaveLength(0)
      }).pipe(
        Effect.provide(app(smtp.port, { rounds: 2, backoff: "1 second" })),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
    }), 90_000)
})
