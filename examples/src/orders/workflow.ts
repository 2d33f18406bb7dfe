/**
 * An order, as a durable workflow: reserve the stock, charge the card (a step
 * that must never run twice), wait up to two days for the warehouse to say
 * the parcel shipped, then mail the customer. If no shipping signal comes in
 * time, the charge is refunded and the stock released instead.
 *
 * Each step's result is journaled: when the mail server is down and the run
 * is retried, it resumes at the mail; the stock is not reserved again and the
 * card is not charged again. The two days of waiting hold no runner slot.
 */
import { Workflow } from "@clockwork/core"
import { Effect, Schema } from "effect"
import { Mailer, Payments, Receipt, Reservation, Warehouse } from "./services.js"

export const Order = Schema.Struct({
  orderId: Schema.String,
  email: Schema.String,
  sku: Schema.String,
  quantity: Schema.Number,
  cents: Schema.Number
})

/** What the warehouse sends with the `shipped` signal. */
export const Shipment = Schema.Struct({ carrier: Schema.String, tracking: Schema.String })

export const Outcome = Schema.Union(
  Schema.Struct({ status: Schema.Literal("shipped"), tracking: Schema.String }),
  Schema.Struct({ status: Schema.Literal("refunded"), receipt: Schema.String })
)

export const fulfilOrder = Workflow.make({
  name: "fulfil-order",
  payload: Order,
  success: Outcome,
  run: (order, ctx) =>
    Effect.gen(function*() {
      const warehouse = yield* Warehouse
      const payments = yield* Payments
      const mailer = yield* Mailer
      const reservation = yield* Workflow.step(
        "reserve-stock",
        warehouse.reserve(order.sku, order.quantity),
        { success: Reservation }
      )
      // the provider's idempotency key makes even a crash between the charge and its journal entry harmless
      const receipt = yield* Workflow.step(
        "charge",
        payments.charge(order.cents, `${ctx.runId}:charge`),
        { success: Receipt, timeout: "30 seconds" }
      )
      const shipment = yield* Workflow.signal("shipped", Shipment, { timeout: "2 days" }).pipe(
        Effect.catchTag("SignalTimeout", () => Effect.succeed(undefined))
      )
      if (shipment === undefined) {
        yield* Workflow.step("refund", payments.refund(receipt.id))
        yield* Workflow.step("release-stock", warehouse.release(reservation.id))
        yield* Workflow.step("mail-refund", mailer.send(order.email, `order ${order.orderId} refunded`))
        return { status: "refunded" as const, receipt: receipt.id }
      }
      yield* Workflow.step(
        "mail-shipped",
        mailer.send(order.email, `order ${order.orderId} shipped with ${shipment.carrier}: ${shipment.tracking}`)
      )
      return { status: "shipped" as const, tracking: shipment.tracking }
    })
})
