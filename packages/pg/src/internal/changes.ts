import type { PgClient } from "@effect/sql-pg/PgClient"
import { Clock, Deferred, Duration, Effect, PubSub, Queue, type Scope, Stream } from "effect"
import type { Change } from "./sql/notify.js"
import type { Tables } from "./tables.js"

const ping = "listening"

/**
 * The store's change feed: notifications on the schema's channel (from any
 * process, this one included: its own NOTIFYs come back through its LISTEN
 * connection), plus a poll that wakes each subscriber every `pollInterval`.
 *
 * Why the poll: `PgClient.listen` keeps one LISTEN connection and does not
 * reconnect; if that connection drops, notifications stop without an error.
 * The poll turns that into latency (at most `pollInterval`) instead of a stall.
 * Reconnecting the LISTEN connection is left for later (see the README).
 *
 * Returns once LISTEN is in place (it sends itself pings until one arrives),
 * so a subscriber never misses a change made after it subscribed.
 */
export const make = (
  t: Tables,
  pg: PgClient,
  pollInterval: Duration.Duration
): Effect.Effect<Effect.Effect<Queue.Dequeue<Change>, never, Scope.Scope>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const hub = yield* PubSub.sliding<Change>(16)
    const listening = yield* Deferred.make<void>()
    // waiting for a connection is I/O, not the schedule's time: the live clock paces it, so a
    // TestClock in the app's tests cannot stall the store's start or its recovery
    const liveClock = Clock.make()

    const listen = pg.listen(t.channel).pipe(
      Stream.runForEach((payload) =>
        Effect.zipRight(
          Deferred.succeed(listening, undefined),
          payload === "runs" || payload === "schedules" ? PubSub.publish(hub, payload) : Effect.void
        )
      ),
      Effect.catchAllCause((cause) => Effect.logWarning(`clockwork: LISTEN ${t.channel} failed; retrying`, cause)),
      Effect.zipRight(Effect.sleep("1 second")),
      Effect.forever
    )
    yield* Effect.forkScoped(Effect.withClock(listen, liveClock))

    const handshake = t.sql`select pg_notify(${t.channel}, ${ping})`.pipe(
      Effect.zipRight(Deferred.await(listening).pipe(Effect.timeoutFail({ duration: "100 millis", onTimeout: () => ping }))),
      Effect.retry({ times: 50 }),
      Effect.catchAll(() =>
        Effect.logWarning(
          `clockwork: LISTEN ${t.channel} is not answering; changes from other processes arrive by polling until it does`
        )
      )
    )
    yield* Effect.withClock(handshake, liveClock)

    // the poll uses the ambient Clock on purpose: under a TestClock it fires only when the test moves time
    const poll = (queue: Queue.Queue<Change>) =>
      Effect.forever(Effect.zipRight(Effect.sleep(pollInterval), Queue.offerAll(queue, ["runs", "schedules"])))

    return Effect.gen(function*() {
      const queue = yield* Effect.acquireRelease(Queue.sliding<Change>(16), Queue.shutdown)
      const subscription = yield* PubSub.subscribe(hub)
      yield* Effect.forkScoped(
        Effect.forever(Effect.flatMap(Queue.take(subscription), (change) => Queue.offer(queue, change)))
      )
      if (Duration.greaterThan(pollInterval, Duration.zero)) yield* Effect.forkScoped(poll(queue))
      return queue
    })
  })
