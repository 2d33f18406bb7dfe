/**
 * The notifier end to end on the memory job store under TestClock, mailing
 * through a real SMTP server on 127.0.0.1: a job that fails for good is mailed
 * once; a down SMTP server delays nothing and its alerts arrive when it is
 * back; a delivery is given up after its last round, logged once.
 */
import { Job, Scheduler, Testing, Trigger } from "@clockwork/core"
import { describe, expect, it } from "@effect/vitest"
import { FetchHttpClient } from "@effect/platform"
import { Context, DateTime, type Duration, Effect, Layer, Logger, Redacted, Ref, Schema } from "effect"
import { Channel, DeliveryStore, Email, Log, Notify, Webhook } from "../src/index.js"
import { httpServer, smtpServer } from "./servers.js"

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

const app = (
  port: number,
  options?: Partial<Notify.Options<[typeof Email.Email]>>,
  store: Layer.Layer<DeliveryStore.DeliveryStore> = DeliveryStore.layerMemory
) =>
  Notify.layer({ name: "ops", channels: [Email.Email], ...options }).pipe(
    Layer.provide(Email.layer({ host: "127.0.0.1", port, from: "cw@example.com", to: "ops@example.com" })),
    Layer.provideMerge(store),
    Layer.provideMerge(Testing.layer([scrape]))
  )

/**
 * The memory store, whose first `add` fails after writing: the notifier's
 * handler fails, so the feed hands the same batch again.
 */
const failingOnce = (added: { count: number }) =>
  Layer.effect(
    DeliveryStore.DeliveryStore,
    Effect.map(Effect.provide(DeliveryStore.DeliveryStore, DeliveryStore.layerMemory), (store) => ({
      ...store,
      add: (notifier, deliveries, now) =>
        Effect.zipRight(
          store.add(notifier, deliveries, now),
          ++added.count === 1
            ? Effect.fail(new DeliveryStore.DeliveryStoreError({ operation: "add", reason: "the connection dropped" }))
            : Effect.void
        )
    }))
  )

describe("Notify", () => {
  it.scoped("a job that fails for good is mailed once; its successes and the other job's are not", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(scrape, { page: "ok" })
        yield* Scheduler.enqueue(scrape, { page: "<meetings>" })
        yield* Testing.advance("1 second")
        // the mail arrives before the notifier hears the server's 250 and records it delivered
        yield* waitUntil(Effect.map(deliveries, (ds) => smtp.received.length === 1 && ds[0]?.status === "delivered"))
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
        yield* Testing.advance("1 minute")
        const warnings = (yield* Ref.get(logs)).filter((line) => line.includes("was not delivered"))
        expect(warnings).toHaveLength(1)
        expect(warnings[0]).toContain(delivery!.alertId)
        expect(smtp.received).toHaveLength(0)
      }).pipe(
        Effect.provide(app(smtp.port, { rounds: 2, backoff: "1 second" })),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
    }), 90_000)

  it.scoped("a batch handed again (its handler failed after writing) resends nothing delivered", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      const added = { count: 0 }
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(scrape, { page: "x" })
        yield* Testing.advance("1 second")
        yield* waitUntil(
          Effect.map(deliveries, (ds) => smtp.received.length === 1 && added.count >= 2 && ds[0]?.status === "delivered"),
          "1 second"
        )
        yield* Testing.advance("1 minute")
        expect(smtp.received).toHaveLength(1)
        expect((yield* deliveries).map((d) => [d.status, d.attempts])).toEqual([["delivered", 1]])
      }).pipe(Effect.provide(app(smtp.port, {}, failingOnce(added))), Effect.provide(Logger.remove(Logger.defaultLogger)))
    }), 90_000)

  it.scoped("several channels at once: a webhook that is down holds back neither the email nor the next alerts", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      const hook = yield* httpServer
      hook.status = 500
      const secret = Redacted.make("s")
      yield* Effect.gen(function*() {
        yield* Scheduler.enqueue(scrape, { page: "one" })
        yield* Testing.advance("1 second")
        yield* Scheduler.enqueue(scrape, { page: "two" })
        yield* Testing.advance("1 second")
        yield* waitUntil(Effect.sync(() => smtp.received.length === 2), "1 second")
        const byChannel = (yield* deliveries).filter((d) => d.channel === "webhook")
        expect(byChannel.every((d) => d.status === "pending")).toBe(true)
        hook.status = 200
        expect(hook.requests.filter((r) => r.status === 500).length).toBeGreaterThanOrEqual(2)
        yield* waitUntil(Effect.map(deliveries, (ds) => ds.length === 4 && ds.every((d) => d.status === "delivered")), "5 seconds")
        const accepted = hook.requests.filter((r) => r.status === 200).map((r) => r.headers["clockwork-alert-id"])
        expect(new Set(accepted)).toEqual(new Set(byChannel.map((d) => d.alertId)))
        expect(smtp.received).toHaveLength(2)
      }).pipe(
        Effect.provide(
          Notify.layer({ name: "ops", channels: [Email.Email, Webhook.Webhook] }).pipe(
            Layer.provide(Email.layer({ host: "127.0.0.1", port: smtp.port, from: "cw@example.com", to: "ops@example.com" })),
            Layer.provide(Webhook.layer({ url: hook.url, secret }).pipe(Layer.provide(FetchHttpClient.layer))),
            Layer.provideMerge(DeliveryStore.layerMemory),
            Layer.provideMerge(Testing.layer([scrape]))
          )
        )
      )
    }), 90_000)

  it.effect("refuses invalid rules and two channels of one name at start-up", () =>
    Effect.gen(function*() {
      const start = (layer: Layer.Layer<never, unknown, never>) => Effect.flip(Effect.scoped(Layer.build(layer)))
      const base = Layer.mergeAll(DeliveryStore.layerMemory, Log.layer, Testing.layer([scrape]))
      const invalid = yield* start(Notify.layer({ name: "ops", channels: [Log.Log], rules: { on: ["sometimes" as never] } }).pipe(Layer.provide(base)))
      expect(invalid).toMatchObject({ _tag: "InvalidRules", path: "on.0" })
      class Other extends Context.Tag("Other")<Other, Channel.Channel>() {}
      const twice = yield* start(
        Notify.layer({ name: "ops", channels: [Log.Log, Other] }).pipe(
          Layer.provide(Layer.merge(base, Layer.succeed(Other, Log.channel)))
        )
      )
      expect(twice).toMatchObject({ _tag: "DuplicateChannel", name: "log" })
    }))
})
