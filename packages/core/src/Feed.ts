/**
 * The run feed: every attempt's outcome and every schedule change, in the
 * order the store committed them, durable and readable from any process.
 * `Scheduler.feed` follows it as a `Stream` from a cursor; `Scheduler.consume`
 * runs a named consumer that stores its cursor in the store and holds its name
 * with a lease, so across any number of processes one instance handles each
 * entry (at least once), and a restarted consumer resumes where it stopped.
 * Notifiers and dashboards are built on it.
 *
 * The feed is the history: entries pruned by retention are gone from it too,
 * and a consumer that was stopped longer than retention keeps goes on from the
 * oldest entry kept.
 *
 * @since 0.1.0
 */
import { type Duration, Schema } from "effect"
import { isFinalFailure as isFinalFailureRecord, RunRecord } from "./Run.js"

/**
 * A position in the feed, just after one entry. Opaque: store it, hand it
 * back; only the store compares cursors.
 *
 * @since 0.1.0
 * @category models
 */
export const FeedCursor = Schema.String.pipe(
  Schema.pattern(/^\d{1,20}\.\d{1,20}$/, { message: () => "a feed cursor is two whole numbers joined by a dot" }),
  Schema.brand("@clockwork/FeedCursor")
)

/**
 * @since 0.1.0
 * @category models
 */
export type FeedCursor = typeof FeedCursor.Type

/**
 * What happened to a schedule.
 *
 * @since 0.1.0
 * @category models
 */
export const ScheduleChange = Schema.Literal("created", "updated", "paused", "resumed", "removed")

/**
 * @since 0.1.0
 * @category models
 */
export type ScheduleChange = typeof ScheduleChange.Type

/**
 * One entry of the feed: an attempt's outcome (the row `Scheduler.history`
 * returns), or a schedule change. `cursor` is the position just after it.
 *
 * @since 0.1.0
 * @category models
 */
export const FeedEntry = Schema.Union(
  Schema.TaggedStruct("Attempt", { cursor: FeedCursor, record: RunRecord }),
  Schema.TaggedStruct("ScheduleChanged", {
    cursor: FeedCursor,
    scheduleId: Schema.String,
    jobName: Schema.String,
    change: ScheduleChange,
    /** epoch ms */
    at: Schema.Number
  })
)

/**
 * @since 0.1.0
 * @category models
 */
export type FeedEntry = typeof FeedEntry.Type

/**
 * Where a reader starts: after a cursor it stored, at the oldest entry kept
 * (`"start"`), or with the entries committed from now on (`"now"`).
 *
 * @since 0.1.0
 * @category models
 */
export type FeedStart = FeedCursor | "start" | "now"

/**
 * How `Scheduler.feed` reads.
 *
 * @since 0.1.0
 * @category models
 */
export interface FeedOptions {
  /** where to start (default `"now"`) */
  readonly after?: FeedStart | undefined
  /** keep following new entries (default true); false: end at the current end */
  readonly follow?: boolean | undefined
  /** entries read per round trip (default 100) */
  readonly batchSize?: number | undefined
  /**
   * how often to look for new entries when no notification came (default 1
   * second; entries of this process and, on PostgreSQL, of any process wake
   * the reader at once)
   */
  readonly pollInterval?: Duration.DurationInput | undefined
}

/**
 * A named consumer of the feed.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumerOptions {
  /** one instance at a time holds the name, across all processes */
  readonly name: string
  /** where a consumer without a stored cursor begins (default `"now"`) */
  readonly startAt?: "start" | "now" | undefined
  /** at most this many entries per call of the handler (default 100) */
  readonly batchSize?: number | undefined
  /** how long the name stays held without renewal (default 30 seconds; renewed every third of it) */
  readonly lease?: Duration.DurationInput | undefined
  /** how often to look for new entries when no notification came (default 1 second) */
  readonly pollInterval?: Duration.DurationInput | undefined
}

/**
 * A consumer's name or options are not usable.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidConsumer extends Schema.TaggedError<InvalidConsumer>()("InvalidConsumer", {
  name: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `consumer "${this.name}": ${this.reason}`
  }
}

/**
 * Whether an attempt ended its run without success for good (failed, timed
 * out or dead, with no attempt to follow): what an alert waits for.
 *
 * @example
 * ```ts
 * entries.filter((e) => e._tag === "Attempt" && Feed.isFinalFailure(e.record))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const isFinalFailure: (record: RunRecord) => boolean = isFinalFailureRecord

/**
 * A cursor handed to the feed is not one (a cursor is two whole numbers
 * joined by a dot, as an entry's `cursor` reads).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidFeedCursor extends Schema.TaggedError<InvalidFeedCursor>()("InvalidFeedCursor", {
  cursor: Schema.String
}) {
  override get message() {
    return `"${this.cursor}" is not a feed cursor (two whole numbers joined by a dot, as an entry's cursor reads)`
  }
}

/**
 * The cursor before every entry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start: FeedCursor = FeedCursor.make("0.0")
