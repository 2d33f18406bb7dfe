import { Scheduler, Testing } from "@clockwork/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Services from "../src/orders/services.js"
import { fulfilOrder } from "../src/orders/workflow.js"

const order = { orderId: "o-7", email: "ada@example.com", sku: "LAMP-01", quantity: 2, cents: 8_400 }

const app = (book: Services.Ledger) =>
  Testing.layer([fulfilOrder]).pipe(Layer.provide(Services.layer(book)))

describe("the order workflow, under TestClock", () => {
  it.scoped("shipped within two days: the customer is mailed; a mail outage retries the mail, never the charge", () => {
    const book = Services.ledger()
    book.refuseMails = 2
    return Effect.gen(function*() {
      const handle = yield* Scheduler.enqueue(fulfilOrder, order)
      yield* Testing.advance("1 day")
      expect(yield* Scheduler.signal(handle.id, "shipped", { carrier: "UPS", tracking: "1Z999" })).toBe("delivered")
      // the default retry policy backs off 1 s, then 2 s (with jitter) before the third mail attempt
      yield* Testing.advance("1 minute")
      expect(yield* Scheduler.result(handle)).toEqual({ status: "shipped", tracking: "1Z999" })
      expect(book.calls).toEqual([
        "reserve 2 × LAMP-01",
        "charge 8400",
        "mail ada@example.com: order o-7 shipped with UPS: 1Z999"
      ])
      const attempts = yield* Scheduler.history({ runId: handle.id })
      expect(attempts.map((r) => r.status).reverse()).toEqual(["failed", "failed", "succeeded"])
      const steps = yield* Scheduler.steps(handle.id)
      expect(steps.map((s) => `${s.name} ${s.status} ${s.attempt}`)).toEqual([
        "reserve-stock succeeded 1",
        "charge succeeded 1",
        "signal:shipped succeeded 1",
        "mail-shipped succeeded 3"
      ])
    }).pipe(Effect.provide(app(book)))
  })

  it.scoped("no shipping signal within two days: the charge is refunded and the stock released, at the deadline", () => {
    const book = Services.ledger()
    return Effect.gen(function*() {
      const start = (yield* Scheduler.getRun((yield* Scheduler.enqueue(fulfilOrder, order)).id)).createdAt.epochMillis
      // two days of waiting hold no runner slot, and no attempt is recorded for them
      yield* Testing.advance("1 hour")
      expect(yield* Scheduler.history({ jobName: "fulfil-order" })).toEqual([])
      yield* Testing.advance("46 hours")
      expect(book.calls).toEqual(["reserve 2 × LAMP-01", "charge 8400"])
      yield* Testing.advance("2 hours")
      const [record] = yield* Scheduler.history({ jobName: "fulfil-order" })
      expect(record?.status).toBe("succeeded")
      expect(record?.result).toEqual({ status: "refunded", receipt: "rcpt-1" })
      expect(record!.startedAt.epochMillis - start).toBe(2 * 24 * 3_600_000)
      expect(book.calls).toEqual([
        "reserve 2 × LAMP-01",
        "charge 8400",
        "refund rcpt-1",
        "release res-1",
        "mail ada@example.com: order o-7 refunded"
      ])
    }).pipe(Effect.provide(app(book)))
  })
})
