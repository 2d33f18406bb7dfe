import { Chunk, Clock, Duration, Effect, Option, Queue, Schedule, Schema, Stream } from "effect"
import type * as Feed from "../Feed.js"
import { FeedCursor, InvalidConsumer, InvalidFeedCursor, start } from "../Feed.js"
import type { Change, JobStore, StoreError } from "../JobStore.js"
import { takeMatching } from "./takeMatching.js"

const defaultBatchSize = 100
const defaultPoll = Duration.seconds(1)
const defaultLease = Duration.seconds(30)

// the store answers again: a reader or consumer waits out an outage (0.1 s doubling to 5 s), never
// a refusal of its data
const untilTheStoreAnswers = {
  schedule: Schedule.union(Schedule.exponential("100 millis"), Schedule.spaced("5 seconds")),
  while: (error: StoreError) => error.kind !== "permanent"
}

const isFeedChange = (change: Change) => change === "feed" || change === "schedules"

/** Waits until the store says the feed grew, or `poll` passed. */
const nextWake = (changes: Queue.Dequeue<Change>, poll: Duration.Duration) =>
  Effect.raceFirst(Effect.asVoid(takeMatching(changes, isFeedChange)), Effect.sleep(poll))

const decodeCursor = (cursor: string) =>
  Effect.mapError(Schema.decodeUnknown(FeedCursor)(cursor), () => new InvalidFeedCursor({ cursor }))

const batchSizeOf = (batchSize: number | undefined) =>
  batchSize === undefined || !Number.isFinite(batchSize) ? defaultBatchSize : Math.max(1, Math.floor(batchSize))

/**
 * The feed as a stream from `options.after`: each read hands a batch on; an
 * empty read ends the stream, or (following) waits for the store to say the
 * feed grew, or for the poll.
 */
export const follow = (
  store: JobStore,
  options: Feed.FeedOptions | undefined
): Stream.Stream<Feed.FeedEntry, StoreError | InvalidFeedCursor> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const batchSize = batchSizeOf(options?.batchSize)
    const poll = Duration.decode(options?.pollInterval ?? defaultPoll)
    // subscribed before the first read, so nothing committed after it goes unannounced
    const changes = yield* store.changes
    const after = options?.after ?? "now"
    let cursor = after === "now" ? yield* store.feedEnd : after === "start" ? start : yield* decodeCursor(after)
    const following = options?.follow !== false
    const pull = Effect.gen(function*() {
      for (;;) {
        const entries = yield* Effect.mapError(store.readFeed(cursor, batchSize), Option.some)
        if (entries.length > 0) {
          cursor = entries[entries.length - 1]!.cursor
          return Chunk.unsafeFromArray(entries as Array<Feed.FeedEntry>)
        }
        if (!following) return yield* Effect.fail(Option.none())
        yield* nextWake(changes, poll)
      }
    })
    return Stream.repeatEffectChunkOption(pull)
  }))

/**
 * A named consumer: holds its name (waiting while another instance does),
 * hands each batch after the stored cursor to `handle`, stores the cursor
 * after it, and renews its lease meanwhile. When the name is lost (this
 * process stalled past its lease and another instance took over), or its
 * lease runs out before a renewal is answered (another instance may take over
 * from then on), the current batch is interrupted and the consumer waits to
 * hold the name again; the instance that took over starts from the last
 * stored cursor (at least once). The name is let go when the consumer stops.
 */
export const consume = <E, R>(
  store: JobStore,
  options: Feed.ConsumerOptions,
  handle: (entries: ReadonlyArray<Feed.FeedEntry>) => Effect.Effect<void, E, R>
): Effect.Effect<never, E | StoreError | InvalidConsumer, R> =>
  Effect.gen(function*() {
    const name = options.name
    if (name.length === 0 || name.length > 200 || name.includes("\u0000")) {
      return yield* new InvalidConsumer({ name, reason: "a name is 1 to 200 characters, without NUL" })
    }
    const leaseMs = Duration.toMillis(Duration.decode(options.lease ?? defaultLease))
    if (!(leaseMs >= 1_000) || !Number.isFinite(leaseMs)) {
      return yield* new InvalidConsumer({ name, reason: `the lease must be at least 1 second, not ${leaseMs} ms` })
    }
    const batchSize = batchSizeOf(options.batchSize)
    const poll = Duration.decode(options.pollInterval ?? defaultPoll)
    const startAt = options.startAt ?? "now"
    const holder = crypto.randomUUID()
    const changes = yield* store.changes

    // the end of the lease this instance last took or renewed (by its clock): until then no other holds the name
    let heldUntil = 0
    const hold = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.tap(store.holdConsumer({ name, holder, now, leaseUntil: now + leaseMs, startAt }), (cursor) => {
        if (cursor !== undefined) heldUntil = now + leaseMs
      }))

    // ends when another instance holds the name, or when the lease runs out without a renewal (the store
    // did not answer in time): from then on another instance may take the name, and this one stops
    const renewWhileHeld = Effect.gen(function*() {
      for (;;) {
        yield* Effect.sleep(Math.max(0, Math.min(leaseMs / 3, heldUntil - (yield* Clock.currentTimeMillis))))
        const left = heldUntil - (yield* Clock.currentTimeMillis)
        if (left <= 0) return "ran out" as const
        const held = yield* Effect.timeoutOption(Effect.either(hold), left)
        if (held._tag === "None") return "ran out" as const
        if (held.value._tag === "Right" && held.value.right === undefined) return "taken" as const
      }
    })

    // ends when a commit finds the name lost
    const work = (from: FeedCursor) =>
      Effect.gen(function*() {
        let cursor = from
        for (;;) {
          const entries = yield* Effect.retry(store.readFeed(cursor, batchSize), untilTheStoreAnswers)
          if (entries.length === 0) {
            yield* nextWake(changes, poll)
            continue
          }
          yield* handle(entries)
          cursor = entries[entries.length - 1]!.cursor
          const now = yield* Clock.currentTimeMillis
          const kept = yield* Effect.retry(
            store.commitConsumer({ name, holder, cursor, now, leaseUntil: now + leaseMs }),
            untilTheStoreAnswers
          )
          if (!kept) return "taken" as const
          heldUntil = Math.max(heldUntil, now + leaseMs)
        }
      })

    const waitToHold: Effect.Effect<FeedCursor, StoreError> = Effect.gen(function*() {
      for (;;) {
        const cursor = yield* Effect.retry(hold, untilTheStoreAnswers)
        if (cursor !== undefined) return cursor
        yield* Effect.sleep(leaseMs / 3)
      }
    })

    yield* Effect.addFinalizer(() => Effect.ignore(store.releaseConsumer(name, holder)))
    for (;;) {
      const cursor = yield* waitToHold
      const lost = yield* Effect.raceFirst(work(cursor), renewWhileHeld)
      yield* Effect.logWarning(
        lost === "taken"
          ? `clockwork: feed consumer "${name}" lost its name to another instance; waiting to hold it again`
          : `clockwork: feed consumer "${name}" could not renew its hold on the name before its lease ran out (the ` +
            `store did not answer); stopped its batch, waiting to hold it again`
      )
    }
  }).pipe(Effect.scoped)
