/**
 * The store: schedules, the run queue, claims and the run history behind one
 * small interface. `layerMemory` keeps everything in the process (tests, demos);
 * `@clockwork/pg` implements the same interface on PostgreSQL and PGlite, and
 * both pass the same conformance suite.
 *
 * Instants cross this interface as epoch milliseconds taken from Effect's
 * Clock by the caller, so a store never reads the time itself. Values cross it
 * already checked: core refuses (payloads, names) or replaces (outcomes) what
 * no store can hold, so every store holds the same values; a store that
 * refuses data anyway fails with a `StoreError` of kind `permanent`.
 *
 * @since 0.1.0
 */
import { Context, type Effect, Layer, type Queue, type Scope } from "effect"
import type { FeedCursor, FeedEntry } from "./Feed.js"
import type { Journal, SignalResult, StepRecord } from "./Journal.js"
import * as leaseExpiry from "./internal/leaseExpiry.js"
import * as scheduleBatch from "./internal/scheduleBatch.js"
import * as internal from "./internal/memoryStore.js"
import type { QueueDepth } from "./JobQueue.js"
import type { Misfire, Overlap } from "./Policy.js"
import type { HistoryQuery, Metrics, Run, RunError, RunId, RunRecord, RunState, RunStatus } from "./Run.js"
import type { ScheduleRecord } from "./ScheduleRecord.js"
import type { RunNotFound, ScheduleNotFound, StoreError } from "./StoreError.js"
import type { Trigger } from "./Trigger.js"
import type { WorkerInfo, WorkerRecord } from "./Worker.js"

// the models a store reads and returns live in their own modules (so the memory store imports
// them, not this module); they are exported here too, as the store's vocabulary
export {
  /** @since 0.1.0 */
  JobQueue,
  /** @since 0.1.0 */
  jobQueues,
  /** @since 0.1.0 */
  QueueDepth
} from "./JobQueue.js"
export {
  /** @since 0.1.0 */
  ScheduleRecord
} from "./ScheduleRecord.js"
export {
  /** @since 0.1.0 */
  RunNotFound,
  /** @since 0.1.0 */
  ScheduleNotFound,
  /** @since 0.1.0 */
  StoreError,
  /** @since 0.1.0 */
  StoreErrorKind
} from "./StoreError.js"
export {
  /** @since 0.1.0 */
  WorkerInfo,
  /** @since 0.1.0 */
  WorkerRecord
} from "./Worker.js"

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

/**
 * What `upsertSchedule` and `upsertSchedules` receive.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScheduleInput {
  readonly id: string
  readonly jobName: string
  /** encoded with the job's payload Schema */
  readonly payload: unknown
  readonly trigger: Trigger
  readonly misfire: Misfire
  readonly overlap: Overlap
  readonly misfireGraceMs: number
  /**
   * the first fire time, used when the schedule is new or its trigger changed;
   * when absent, the store takes `Trigger.firstFireAt(trigger, now)`, and only
   * then (a zoned cron's takes a while, and unchanged schedules need none)
   */
  readonly firstFireAt?: number | undefined
  readonly now: number
}

/**
 * What `upsertSchedule` did, or `upsertSchedules` did with one input.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpsertResult {
  readonly outcome: "created" | "updated" | "unchanged"
  readonly schedule: ScheduleRecord
}

/**
 * A run to put in the queue.
 *
 * @since 0.1.0
 * @category models
 */
export interface NewRun {
  readonly jobName: string
  /** encoded with the job's payload Schema */
  readonly payload: unknown
  readonly runAt: number
  readonly scheduledFor: number
  readonly scheduleId?: string | undefined
  /** higher runs first; default 0 */
  readonly priority?: number | undefined
  /** a dedup key, global across jobs: while a run with this key is queued or running, enqueuing again returns its id */
  readonly key?: string | undefined
  /** runs of the same schedule with `serial` start one at a time, in order */
  readonly serial?: boolean | undefined
  /** job names to enqueue, with this run's result as payload, when it succeeds */
  readonly then?: ReadonlyArray<string> | undefined
  /** the trace the run continues (W3C traceparent of the span that enqueued it) */
  readonly traceparent?: string | undefined
  /** the workflow run this one is a child of (set by `startChildren`) */
  readonly parentRunId?: RunId | undefined
}

/**
 * What one schedule tick does, applied atomically: only if the schedule's next
 * fire time is still `expectedNextFireAt` (so two tickers never fire one tick
 * twice), insert `runs` and move the next fire time.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScheduleFire {
  readonly scheduleId: string
  readonly expectedNextFireAt: number
  readonly nextFireAt: number | undefined
  readonly runs: ReadonlyArray<NewRun>
  /** drop the runs when a run of this schedule is already queued or running */
  readonly skipIfActive: boolean
  readonly now: number
}

/**
 * What a fire did.
 *
 * @since 0.1.0
 * @category models
 */
export interface FireResult {
  /** false when another ticker fired this tick first, or the schedule is gone or paused */
  readonly fired: boolean
  readonly runIds: ReadonlyArray<RunId>
  /** runs dropped by the `skip` overlap policy */
  readonly skipped: number
}

/**
 * A runner's beat: it is alive until `expiresAt`.
 *
 * @since 0.1.0
 * @category models
 */
export interface WorkerBeat {
  readonly id: string
  readonly startedAt: number
  readonly now: number
  readonly expiresAt: number
  readonly info: WorkerInfo
}

/**
 * A request for due runs.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClaimRequest {
  readonly now: number
  readonly limit: number
  readonly workerId: string
  /** jobs this worker can take (it has them registered and below their concurrency) */
  readonly jobNames?: ReadonlyArray<string> | undefined
  /** how many more runs of these jobs this worker may take now (their concurrency limit minus what it runs) */
  readonly jobCapacity?: ReadonlyMap<string, number> | undefined
  /** how long the claim holds without a heartbeat */
  readonly leaseMs: number
  /** only runs whose lease expired at most this many times (default: any) */
  readonly maxLeaseExpiries?: number | undefined
  /**
   * with `maxLeaseExpiries`: when no run within it is due, take one run beyond
   * it (a suspect) instead, alone: the claim of a runner that runs nothing
   */
  readonly suspectIfNoneDue?: boolean | undefined
}

/**
 * What a claim took, and what the runner needs to know to wait for the next
 * one without asking the store again.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClaimResult {
  /** the runs claimed, in claim order */
  readonly runs: ReadonlyArray<ClaimedRun>
  /** the earliest `runAt` after the claim's `now` of a queued run (of any job): when something new becomes due */
  readonly nextRunAt: number | undefined
  /**
   * whether a due run beyond `maxLeaseExpiries` (a suspect) of the requested
   * jobs is queued and was not taken: a runner that becomes idle claims again
   */
  readonly suspectWaiting: boolean
}

/**
 * A run handed to a worker. `attempt` already counts this attempt.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClaimedRun {
  readonly id: RunId
  readonly jobName: string
  readonly payload: unknown
  readonly attempt: number
  readonly scheduledFor: number
  readonly scheduleId: string | undefined
  readonly then: ReadonlyArray<string>
  /** how many earlier attempts of this run ended with their lease expired (their worker crashed or blocked) */
  readonly leaseExpiries: number
  /** the trace the run continues, as enqueued */
  readonly traceparent?: string | undefined
}

/**
 * A run a worker holds, as its heartbeat names it: the attempt is the claim's
 * fencing token, so a worker that lost a run (its lease expired and another
 * worker claimed it) can no longer renew or complete it.
 *
 * @since 0.1.0
 * @category models
 */
export interface HeldRun {
  readonly runId: RunId
  readonly attempt: number
}

/**
 * What a heartbeat learned about the runs it named.
 *
 * @since 0.1.0
 * @category models
 */
export interface HeartbeatResult {
  /** runs this worker no longer holds (their lease expired and was reaped, maybe claimed again): stop them */
  readonly lost: ReadonlyArray<RunId>
  /** runs still held whose cancellation was requested (from any process): interrupt them */
  readonly cancelRequested: ReadonlyArray<RunId>
}

/**
 * What `complete` did.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompleteResult {
  /**
   * runs whose outcome was refused because that attempt no longer holds the
   * run (its lease was reaped, or it was cancelled meanwhile): nothing of it
   * was recorded
   */
  readonly refused: ReadonlyArray<RunId>
}

/**
 * How an attempt ended, as the runner reports it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOutcome {
  readonly runId: RunId
  readonly jobName: string
  readonly attempt: number
  readonly status: RunStatus
  readonly scheduledFor: number
  readonly scheduleId: string | undefined
  readonly startedAt: number
  readonly finishedAt: number
  readonly workerId: string
  readonly error?: RunError | undefined
  /** encoded with the job's success Schema */
  readonly result?: unknown
  readonly metrics?: Metrics | undefined
  /** queue the run again at this instant (a retry, or a shutdown re-queue) */
  readonly retryAt?: number | undefined
  /** runs to enqueue with this completion (chained jobs) */
  readonly followUps?: ReadonlyArray<NewRun> | undefined
}

/**
 * What `cancel` found. `running`: a worker holds the run; its cancellation is
 * requested, and the worker interrupts it when it hears of it (its next
 * heartbeat, or at once through the change feed).
 *
 * @since 0.1.0
 * @category models
 */
export type CancelResult = "cancelled" | "running" | "finished" | "not_found"

/**
 * What the change feed says changed: new or re-queued runs, schedules, a
 * cancellation requested for a running run, or new entries in the run feed
 * (attempts recorded).
 *
 * @since 0.1.0
 * @category models
 */
export type Change = "runs" | "schedules" | "cancels" | "feed"

/**
 * When a run whose lease expired is due again: after `min(1 s × 2^(n−1), 5
 * minutes)` for its n-th expiry, times a random factor in [0.5, 1.5), so the
 * runs a crashed worker held are spread out instead of being claimed together
 * again (a poison run cannot take the same neighbours down each time). Every
 * store applies this rule in `reapExpired`.
 *
 * @since 0.1.0
 * @category models
 */
export const leaseExpiryBackoff: (expiries: number, random: number) => number = leaseExpiry.leaseExpiryBackoff

/**
 * The refusal every store gives `upsertSchedules` when a batch names one
 * schedule id twice (a permanent StoreError naming it; nothing is written),
 * or undefined when the ids are distinct.
 *
 * @since 0.1.0
 * @category models
 */
export const duplicateScheduleId: (
  operation: string,
  inputs: ReadonlyArray<ScheduleInput>
) => StoreError | undefined = scheduleBatch.duplicateScheduleId

/**
 * A filter over the queue.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunQuery {
  readonly state?: RunState | ReadonlyArray<RunState>
  readonly jobName?: string
  readonly scheduleId?: string
  readonly limit?: number
}

/**
 * A request to hold a feed consumer's name: granted when no other holder's
 * lease is live (or this holder has it already), and renewed until
 * `leaseUntil`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumerHold {
  readonly name: string
  readonly holder: string
  readonly now: number
  readonly leaseUntil: number
  /** the cursor of a consumer seen for the first time: the feed's start, or its end now */
  readonly startAt: "start" | "now"
}

/**
 * A consumer's progress: its cursor moves to `cursor` (never back) and its
 * lease is renewed, only while `holder` holds the name.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumerCommit {
  readonly name: string
  readonly holder: string
  readonly cursor: FeedCursor
  readonly now: number
  readonly leaseUntil: number
}

/**
 * An attempt of a workflow run that ends waiting (for an instant, a child, a
 * signal): while `attempt` still holds the run, it is queued again for
 * `wakeAt` (undefined: until something wakes it), or at once if it was woken
 * after its journal was read (`wakes` is the count that read returned). The
 * attempt is not counted: the next one has the same number, so waits never
 * use up the job's retries, and no history row is written for it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Suspension {
  readonly runId: RunId
  readonly attempt: number
  readonly wakeAt: number | undefined
  readonly wakes: number
  readonly now: number
}

/**
 * Children a workflow run starts: while `attempt` holds the parent, each is
 * enqueued (due now) with the parent as its parent, and its journal entry
 * (kind `child`, waiting) recorded, in one step; an entry already there keeps
 * its child (nothing is enqueued twice). A child that ends wakes its parent;
 * cancelling the parent cancels it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChildStart {
  readonly parentRunId: RunId
  readonly attempt: number
  readonly now: number
  readonly children: ReadonlyArray<{ readonly step: string; readonly position: string; readonly run: NewRun }>
}

/**
 * A signal for a workflow run: stored as the journal entry `signal:<name>`
 * (succeeded, with the value) unless one is there already, and the run woken.
 *
 * @since 0.1.0
 * @category models
 */
export interface SignalDelivery {
  readonly runId: RunId
  readonly name: string
  readonly value: unknown
  readonly now: number
}

// ---------------------------------------------------------------------------
// service
// ---------------------------------------------------------------------------

/**
 * The store service. Every operation is one atomic step.
 *
 * @since 0.1.0
 * @category models
 */
export interface JobStore {
  // schedules
  /**
   * creates a schedule, or updates it when anything differs: a changed trigger
   * restarts it at its first fire time, anything else keeps its next fire time; the
   * same definition again is `unchanged` and writes nothing (no change, no
   * feed entry, no notification); a paused schedule stays paused
   */
  readonly upsertSchedule: (input: ScheduleInput) => Effect.Effect<UpsertResult, StoreError>
  /**
   * `upsertSchedule` for many schedules at once, as one atomic step: a result
   * per input, in input order. The ids must differ: an id given twice fails
   * with a `permanent` StoreError naming it, and nothing is written.
   */
  readonly upsertSchedules: (
    inputs: ReadonlyArray<ScheduleInput>
  ) => Effect.Effect<ReadonlyArray<UpsertResult>, StoreError>
  readonly getSchedule: (id: string) => Effect.Effect<ScheduleRecord, ScheduleNotFound | StoreError>
  readonly listSchedules: Effect.Effect<ReadonlyArray<ScheduleRecord>, StoreError>
  /** pause (the stored next fire time is kept, `nextFireAt` is ignored) or resume (sets `nextFireAt`) */
  readonly setPaused: (
    id: string,
    paused: boolean,
    nextFireAt: number | undefined,
    now: number
  ) => Effect.Effect<ScheduleRecord, ScheduleNotFound | StoreError>
  readonly removeSchedule: (id: string, now: number) => Effect.Effect<void, ScheduleNotFound | StoreError>
  /** active schedules whose next fire time is at or before `now`, earliest first */
  readonly dueSchedules: (now: number, limit: number) => Effect.Effect<ReadonlyArray<ScheduleRecord>, StoreError>
  readonly fire: (fire: ScheduleFire) => Effect.Effect<FireResult, StoreError>
  /** the earliest next fire time of an active schedule */
  readonly nextFireAt: Effect.Effect<number | undefined, StoreError>

  // queue
  readonly enqueue: (runs: ReadonlyArray<NewRun>, now: number) => Effect.Effect<ReadonlyArray<RunId>, StoreError>
  /**
   * claims due runs (at most `limit`; none with a limit of 0) and says when
   * the next queued run becomes due and whether a suspect waits
   */
  readonly claim: (request: ClaimRequest) => Effect.Effect<ClaimResult, StoreError>
  /**
   * records outcomes: only while the reported attempt still holds its run (it
   * is running that attempt) is the outcome recorded in the history and the
   * run moved on (queued again for `retryAt`, else final) with its follow-ups
   * enqueued; any other outcome is refused (fencing) and reported back. A run
   * whose cancellation was requested while it ran is not queued again: it ends
   * `cancelled`, and so does its attempt's history row (keeping its error).
   * A run that ends final without success records each of its then-jobs as a
   * `cancelled` run that never ran, with a `ParentFailed` error and a history row.
   * A child run of a workflow that ends final wakes its parent.
   */
  readonly complete: (outcomes: ReadonlyArray<RunOutcome>) => Effect.Effect<CompleteResult, StoreError>
  /**
   * cancels a queued run; for a run a worker holds, requests its cancellation
   * (the holder hears of it through `heartbeat` and the change feed) and
   * reports "running". A workflow run's unfinished children (and theirs) are
   * cancelled with it.
   */
  readonly cancel: (runId: RunId, now: number) => Effect.Effect<CancelResult, StoreError>
  /**
   * extends the leases of the runs this worker still holds at the named
   * attempts, and says which it lost and which are to be cancelled
   */
  readonly heartbeat: (
    workerId: string,
    runs: ReadonlyArray<HeldRun>,
    leaseUntil: number
  ) => Effect.Effect<HeartbeatResult, StoreError>
  /**
   * queues again the runs whose lease expired (their worker crashed, blocked or
   * lost the store), each due after `leaseExpiryBackoff` and with its count of
   * expiries raised, records each lost attempt as `interrupted` (`LeaseExpired`),
   * and forgets the workers whose beat expired; returns how many runs
   */
  readonly reapExpired: (now: number) => Effect.Effect<number, StoreError>
  readonly getRun: (runId: RunId) => Effect.Effect<Run, RunNotFound | StoreError>
  readonly listRuns: (query: RunQuery) => Effect.Effect<ReadonlyArray<Run>, StoreError>
  /** per job with queued or running runs: how many are due, due later and running at `now`, by job name */
  readonly queueDepth: (now: number) => Effect.Effect<ReadonlyArray<QueueDepth>, StoreError>

  // workflows
  /** a run's journal (its child entries read with their child's state) and its count of wakes */
  readonly journal: (runId: RunId) => Effect.Effect<Journal, StoreError>
  /**
   * writes journal entries of one run (by name; all with the same `runId` and
   * `attempt`) while that attempt holds the run, keeping any entry that
   * already succeeded; returns every entry as stored, in order, or undefined
   * when the attempt no longer holds the run (fencing)
   */
  readonly recordSteps: (
    steps: ReadonlyArray<StepRecord>
  ) => Effect.Effect<ReadonlyArray<StepRecord> | undefined, StoreError>
  /** starts children of a workflow run (see `ChildStart`); their run ids, or undefined when fenced */
  readonly startChildren: (start: ChildStart) => Effect.Effect<ReadonlyArray<RunId> | undefined, StoreError>
  /** ends an attempt that waits (see `Suspension`); false when fenced */
  readonly suspend: (suspension: Suspension) => Effect.Effect<boolean, StoreError>
  /** delivers a signal (see `SignalDelivery`) */
  readonly signal: (delivery: SignalDelivery) => Effect.Effect<SignalResult, StoreError>

  // history
  readonly history: (query: HistoryQuery) => Effect.Effect<ReadonlyArray<RunRecord>, StoreError>
  /**
   * deletes the history rows that finished before `before`, and the runs that
   * reached a final state before it (queued and running runs are kept, with
   * their earlier attempts' rows); returns how many history rows went
   */
  readonly pruneHistory: (before: number) => Effect.Effect<number, StoreError>

  // the run feed
  /**
   * up to `limit` entries after `after`, in the order they were committed:
   * an entry is read only once every entry before it is (so a reader that
   * stores the last cursor it read never skips one committed later)
   */
  readonly readFeed: (after: FeedCursor, limit: number) => Effect.Effect<ReadonlyArray<FeedEntry>, StoreError>
  /** a cursor after every entry committed so far: a reader starting there sees what comes next */
  readonly feedEnd: Effect.Effect<FeedCursor, StoreError>
  /** holds (or renews) a consumer's name; its stored cursor, or undefined while another holder's lease is live */
  readonly holdConsumer: (hold: ConsumerHold) => Effect.Effect<FeedCursor | undefined, StoreError>
  /** stores a consumer's cursor and renews its lease; false when `holder` no longer holds the name */
  readonly commitConsumer: (commit: ConsumerCommit) => Effect.Effect<boolean, StoreError>
  /** lets the name go (its cursor stays), if `holder` holds it */
  readonly releaseConsumer: (name: string, holder: string) => Effect.Effect<void, StoreError>

  // workers
  /** records that a runner is alive (creates or updates its row) */
  readonly workerBeat: (beat: WorkerBeat) => Effect.Effect<void, StoreError>
  /** forgets a runner that stopped */
  readonly removeWorker: (id: string) => Effect.Effect<void, StoreError>
  /** the runners alive at `now` (their beat has not expired), by id */
  readonly listWorkers: (now: number) => Effect.Effect<ReadonlyArray<WorkerRecord>, StoreError>

  /** wakes up runners and tickers when runs or schedules change, and runners when a cancellation is requested */
  readonly changes: Effect.Effect<Queue.Dequeue<Change>, never, Scope.Scope>
}

/**
 * The store service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export const JobStore: Context.Tag<JobStore, JobStore> = Context.GenericTag<JobStore>("@clockwork/core/JobStore")

/**
 * An in-memory store: fast, for tests and demos; nothing survives the process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<JobStore> = internal.make

/**
 * The in-memory store as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<JobStore> = Layer.effect(JobStore, makeMemory)

