import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Deferred, Duration, Effect, Exit, Queue, Runtime, type Scope } from "effect"
import type { Change } from "./sql/notify.js"
import { toTheEnd } from "./statements.js"
import type { Tables } from "./tables.js"

const ping = "listening"
const feedNotifyInterval = Duration.millis(100)
// after LISTEN was lost, everything may have changed meanwhile (a cancellation included)
const everything: ReadonlyArray<Change> = ["runs", "schedules", "cancels", "feed"]

/**
 * Where notifications come from: the store's own LISTEN connection on
 * PostgreSQL (listen.ts), `PgliteClient.listen` (the one session) on PGlite.
 * Listens on `channel`, calls `onListening` once the LISTEN is in place (or
 * as it starts, where that is at once), and `onPayload` with each payload, at
 * once and synchronously, until the connection is lost: then it fails (or ends).
 */
export type Listen = (
  channel: string,
  onPayload: (payload: string) => void,
  onListening: () => void
) => Effect.Effect<void, SqlError, Scope.Scope>

/** Subscriptions to the feed, and a way to tell this process's subscribers at once. */
export interface Feed {
  readonly subscribe: Effect.Effect<Queue.Dequeue<Change>, never, Scope.Scope>
  /**
   * the NOTIFY payload for a change this process announces itself with
   * `local`: other processes hear "runs", this one ignores its echo
   */
  readonly own: string
  /**
   * wakes this process's subscribers now, without waiting for the NOTIFY to
   * come back from the server (it still comes, and wakes them again)
   */
  readonly local: (change: Change) => Effect.Effect<void>
  /**
   * the run feed grew (committed): this process's readers wake now; other
   * processes hear one NOTIFY for all the growth of the next 100 ms
   */
  readonly feedGrew: Effect.Effect<void>
}

/**
 * The store's change feed: notifications on the schema's channel (from any
 * process, this one included: its own NOTIFYs come back through LISTEN), plus
 * a poll that wakes each subscriber every `pollInterval`.
 *
 * When the LISTEN connection is lost (PostgreSQL restarted, the backend was
 * terminated), the feed says so once, opens a new one with backoff (250 ms
 * doubling to 10 s), says once that it is back, and then wakes every
 * subscriber, since changes made meanwhile were not announced. The poll covers
 * the gap, and a connection that dies without a word.
 *
 * Returns once LISTEN is in place (it sends itself pings until one arrives),
 * so a subscriber never misses a change made after it subscribed.
 */
export const make = (
  t: Tables,
  listen: Listen,
  pollInterval: Duration.Duration
): Effect.Effect<Feed, never, Scope.Scope> =>
  Effect.gen(function*() {
    // each subscriber's queue, offered every change directly: a change wakes each subscriber once, with
    // no hub and no fiber in between (a PubSub and a forwarding fiber per subscriber cost 0.1 ms a change)
    const subscribers = new Set<Queue.Queue<Change>>()
    const publish = (change: Change) => {
      for (const queue of subscribers) queue.unsafeOffer(change)
    }
    // the payload of this process's own enqueues, which woke its subscribers already (`local`)
    const own = `runs:${crypto.randomUUID().slice(0, 8)}`
    // waiting for a connection is I/O, not the schedule's time: the live clock paces it, so a
    // TestClock in the app's tests cannot stall the store's start or its recovery
    const liveClock = Clock.make()
    // when the current connection was lost, until a ping comes back on the next one
    let lostAt: number | undefined
    let listening = yield* Deferred.make<void>()

    const heard = Effect.gen(function*() {
      if (!(yield* Deferred.succeed(listening, undefined)) || lostAt === undefined) return
      const lost = (yield* Clock.currentTimeMillis) - lostAt
      lostAt = undefined
      yield* Effect.logInfo(`clockwork: LISTEN ${t.channel} is back after ${Duration.format(Duration.millis(lost))}`)
      for (const change of everything) publish(change)
    })

    const pingAnswered = (wait: number) =>
      toTheEnd(t.sql`select pg_notify(${t.channel}, ${ping})`).pipe(
        // the current connection's answer
        Effect.zipRight(Effect.suspend(() => Deferred.await(listening))),
        Effect.timeoutFail({ duration: wait, onTimeout: () => ping })
      )
    // pings go out once LISTEN is in place (a connection may take seconds to open); the first waits are
    // short, as the answer usually comes within milliseconds; then every 100 ms, 50 pings in all
    const waits = [5, 10, 20, 40, 80, ...Array.from({ length: 45 }, () => 100)]
    const handshake = Effect.firstSuccessOf(waits.map(pingAnswered))

    // one connection's life: LISTEN, and pings until it answers; it ends only when the connection is lost
    const session = Effect.gen(function*() {
      // a new connection needs its own answer (the first one uses the deferred the start waits for)
      if (yield* Deferred.isDone(listening)) listening = yield* Deferred.make<void>()
      const inPlace = yield* Deferred.make<void>()
      yield* Effect.forkScoped(Effect.zipRight(Deferred.await(inPlace), Effect.ignore(handshake)))
      const runFork = Runtime.runFork(yield* Effect.runtime<never>())
      // a payload is dispatched where the connection delivers it: a queue offer per subscriber
      return yield* listen(t.channel, (payload) => {
        if (payload === ping) runFork(heard)
        else if (payload === own) return
        else if (payload.startsWith("runs")) publish("runs")
        else if (payload === "schedules" || payload === "cancels" || payload === "feed") publish(payload)
      }, () => Deferred.unsafeDone(inPlace, Exit.void))
    }).pipe(Effect.scoped)

    const feed = Effect.gen(function*() {
      let failures = 0
      for (;;) {
        const exit = yield* Effect.exit(session)
        if (lostAt === undefined) {
          lostAt = yield* Clock.currentTimeMillis
          failures = 0
          const meanwhile = Duration.greaterThan(pollInterval, Duration.zero)
            ? `polling every ${Duration.format(pollInterval)} meanwhile`
            : "changes from other processes are heard when it is back"
          yield* Effect.logWarning(
            `clockwork: LISTEN ${t.channel} lost its connection; reconnecting, ${meanwhile}`,
            exit._tag === "Failure" ? exit.cause : "the stream ended"
          )
        }
        yield* Effect.sleep(Math.min(10_000, 250 * 2 ** failures))
        failures += 1
      }
    })
    yield* Effect.forkScoped(Effect.withClock(feed, liveClock))

    yield* Effect.withClock(Deferred.await(listening), liveClock).pipe(
      Effect.timeoutFail({ duration: "6 seconds", onTimeout: () => ping }),
      Effect.catchAll(() =>
        Effect.logWarning(
          `clockwork: LISTEN ${t.channel} is not answering; changes from other processes arrive by polling until it does`
        )
      )
    )

    // the poll uses the ambient Clock on purpose: under a TestClock it fires only when the test moves time
    const poll = (queue: Queue.Queue<Change>) =>
      Effect.forever(Effect.zipRight(Effect.sleep(pollInterval), Queue.offerAll(queue, ["runs", "schedules"])))

    const subscribe = Effect.gen(function*() {
      const queue = yield* Effect.acquireRelease(
        Effect.tap(Queue.sliding<Change>(16), (queue) => Effect.sync(() => subscribers.add(queue))),
        (queue) => Effect.zipRight(Effect.sync(() => subscribers.delete(queue)), Queue.shutdown(queue))
      )
      if (Duration.greaterThan(pollInterval, Duration.zero)) yield* Effect.forkScoped(poll(queue))
      return queue
    })
    // at most one NOTIFY "feed" per interval: a drain completes a batch every few milliseconds, and
    // every NOTIFY wakes every listening process
    const grown = yield* Queue.sliding<void>(1)
    yield* Effect.forkScoped(Effect.withClock(
      Effect.forever(
        Queue.take(grown).pipe(
          Effect.zipRight(Effect.ignore(toTheEnd(t.sql`select pg_notify(${t.channel}, 'feed')`))),
          Effect.zipRight(Effect.sleep(feedNotifyInterval))
        )
      ),
      liveClock
    ))
    const feedGrew = Effect.sync(() => {
      publish("feed")
      grown.unsafeOffer(undefined)
    })
    return { subscribe, own, local: (change: Change) => Effect.sync(() => publish(change)), feedGrew }
  })
