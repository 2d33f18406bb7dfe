import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Deferred, Duration, Effect, PubSub, Queue, type Scope, Stream } from "effect"
import type { Change } from "./sql/notify.js"
import type { Tables } from "./tables.js"

const ping = "listening"

/**
 * Where notifications come from: `PgClient.listen` (a LISTEN connection of the
 * pool) on PostgreSQL, `PgliteClient.listen` (the one session) on PGlite.
 */
export type Listen = (channel: string) => Stream.Stream<string, SqlError>

/**
 * The store's change feed: notifications on the schema's channel (from any
 * process, this one included: its own NOTIFYs come back through its LISTEN
 * connection), plus a poll that wakes each subscriber every `pollInterval`.
 *
 * Why the poll: `PgClient.listen` keeps one LISTEN connection and does not
 * reconnect; if that connection drops, notifications stop without an error.
 * The poll turns that into latency (at most `pollInterval`) instead of a stall.
 * Reconnecting the LISTEN connection is left for later (see the README).
 * PGlite has no connection to lose, and its store polls only when asked to.
 *
 * Returns once LISTEN is in place (it sends itself pings until one arrives),
 * so a subscriber never misses a change made after it subscribed.
 */
export const make = (
  t: Tables,
  listen: Listen,
  pollInterval: Duration.Duration
): Effect.Effect<Effect.Effect<Queue.Dequeue<Change>, never, Scope.Scope>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const hub = yield* PubSub.sliding<Change>(16)
    const listening = yield* Deferred.make<void>()
    // waiting for a connection is I/O, not the schedule's time: the live clock paces it, so a
    // TestClock in the app's tests cannot stall the store's start or its recovery
    const liveClock = Clock.make()

    const feed = listen(t.channel).pipe(
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
    yield* Effect.forkScoped(Effect.withClock(feed, liveClock))

    const pingAnswered = (wait: number) =>
      t.sql`select pg_notify(${t.channel}, ${ping})`.pipe(
        Effect.zipRight(Deferred.await(listening).pipe(Effect.timeoutFail({ duration: wait, onTimeout: () => ping })))
      )
    // the first pings usually go out before LISTEN is in place and are lost, so the first waits
    // are short (a PGlite store is listening within milliseconds); then every 100 ms, 50 pings in all
    const waits = [5, 10, 20, 40, 80, ...Array.from({ length: 45 }, () => 100)]
    const handshake = Effect.firstSuccessOf(waits.map(pingAnswered)).pipe(
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
