/**
 * The order workflow on the embedded PostgreSQL (PGlite, in memory here): an
 * order is placed, its stock reserved and card charged; a second later the
 * warehouse signals that the parcel shipped, from outside the workflow, and
 * the customer is mailed. The mail server refuses the first mail: the retry
 * resumes at the mail, without charging again. The journal is printed at the
 * end.
 *
 * Run it with `npm run orders --workspace examples`. The two-day timeout, and
 * the refund it leads to, are shown by the example's TestClock test.
 */
import { Clockwork, Scheduler } from "@clockwork/core"
import { PgliteStore } from "@clockwork/pg"
import { Console, Effect, Layer } from "effect"
import * as Services from "./services.js"
import { fulfilOrder } from "./workflow.js"

const book = Services.ledger()
book.refuseMails = 1

const program = Effect.gen(function*() {
  const handle = yield* Scheduler.enqueue(fulfilOrder, {
    orderId: "o-1001",
    email: "ada@example.com",
    sku: "LAMP-01",
    quantity: 2,
    cents: 8_400
  })
  yield* Effect.sleep("1 second")
  yield* Scheduler.signal(handle.id, "shipped", { carrier: "UPS", tracking: "1Z999AA10123456784" })
  const outcome = yield* Scheduler.result(handle)
  yield* Console.log(`outcome: ${JSON.stringify(outcome)}`)
  yield* Console.log(`the services were asked: ${book.calls.join("; ")}`)
  for (const step of yield* Scheduler.steps(handle.id)) {
    yield* Console.log(`  ${step.name.padEnd(16)} ${step.kind.padEnd(7)} ${step.status.padEnd(10)} attempt ${step.attempt}`)
  }
})

program.pipe(
  Effect.provide(
    Clockwork.layer([fulfilOrder], { runner: { shutdownGrace: "1 second" } }).pipe(
      Layer.provideMerge(PgliteStore.layer()),
      Layer.provide(Services.layer(book))
    )
  ),
  Effect.runPromise
)
