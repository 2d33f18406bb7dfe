/**
 * The services the order workflow talks to: a warehouse, a payment provider
 * and a mailer. Here they keep what they did in memory (so a test can count
 * it); in an app they would call real systems. The payment provider honours
 * idempotency keys, as real ones do: a charge repeated with the same key is
 * answered with the first receipt, never charged twice.
 */
import { Context, Effect, Layer, Schema } from "effect"

export class OutOfStock extends Schema.TaggedError<OutOfStock>()("OutOfStock", { sku: Schema.String }) {}

export class MailRefused extends Schema.TaggedError<MailRefused>()("MailRefused", { to: Schema.String }) {}

export const Reservation = Schema.Struct({ id: Schema.String, sku: Schema.String, quantity: Schema.Number })
export const Receipt = Schema.Struct({ id: Schema.String, cents: Schema.Number })

export class Warehouse extends Context.Tag("examples/Warehouse")<Warehouse, {
  readonly reserve: (sku: string, quantity: number) => Effect.Effect<typeof Reservation.Type, OutOfStock>
  readonly release: (reservationId: string) => Effect.Effect<void>
}>() {}

export class Payments extends Context.Tag("examples/Payments")<Payments, {
  readonly charge: (cents: number, idempotencyKey: string) => Effect.Effect<typeof Receipt.Type>
  readonly refund: (receiptId: string) => Effect.Effect<void>
}>() {}

export class Mailer extends Context.Tag("examples/Mailer")<Mailer, {
  readonly send: (to: string, subject: string) => Effect.Effect<void, MailRefused>
}>() {}

/** What the services were asked to do, in order. */
export interface Ledger {
  readonly calls: Array<string>
  /** the next sends to refuse (a mail server that is down for a while) */
  refuseMails: number
}

export const ledger = (): Ledger => ({ calls: [], refuseMails: 0 })

/** The three services, in memory, writing into `book`. */
export const layer = (book: Ledger): Layer.Layer<Warehouse | Payments | Mailer> => {
  const receipts = new Map<string, typeof Receipt.Type>()
  return Layer.mergeAll(
    Layer.succeed(Warehouse, {
      reserve: (sku, quantity) =>
        Effect.sync(() => {
          book.calls.push(`reserve ${quantity} × ${sku}`)
          return { id: `res-${book.calls.length}`, sku, quantity }
        }),
      release: (reservationId) => Effect.sync(() => void book.calls.push(`release ${reservationId}`))
    }),
    Layer.succeed(Payments, {
      charge: (cents, idempotencyKey) =>
        Effect.sync(() => {
          const known = receipts.get(idempotencyKey)
          if (known !== undefined) return known
          book.calls.push(`charge ${cents}`)
          const receipt = { id: `rcpt-${receipts.size + 1}`, cents }
          receipts.set(idempotencyKey, receipt)
          return receipt
        }),
      refund: (receiptId) => Effect.sync(() => void book.calls.push(`refund ${receiptId}`))
    }),
    Layer.succeed(Mailer, {
      send: (to, subject) =>
        Effect.suspend(() => {
          if (book.refuseMails > 0) {
            book.refuseMails--
            return Effect.fail(new MailRefused({ to }))
          }
          book.calls.push(`mail ${to}: ${subject}`)
          return Effect.void
        })
    })
  )
}
