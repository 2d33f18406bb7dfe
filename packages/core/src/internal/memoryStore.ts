import { DateTime, Effect, PubSub } from "effect"
import type {
  CancelResult,
  Change,
  ChildStart,
  ClaimedRun,
  ClaimResult,
  ClaimRequest,
  CompleteResult,
  FireResult,
  HeartbeatResult,
  JobStore,
  NewRun,
  RunOutcome,
  RunQuery,
  ScheduleFire,
  ScheduleInput,
  SignalDelivery,
  Suspension,
  UpsertResult,
  WorkerBeat
} from "../JobStore.js"
import { QueueDepth } from "../JobQueue.js"
import { ScheduleRecord } from "../ScheduleRecord.js"
import { RunNotFound, ScheduleNotFound } from "../StoreError.js"
import { WorkerRecord } from "../Worker.js"
import { leaseExpiryBackoff } from "./leaseExpiry.js"
import { duplicateScheduleId } from "./scheduleBatch.js"
import { FeedCursor, type FeedEntry, type ScheduleChange } from "../Feed.js"
import { ChildState, type SignalResult, StepRecord, untilWoken } from "../Journal.js"
import type { HistoryQuery, RunId, RunState } from "../Run.js"
import { isFinalAttempt, ParentFailed, Run, RunError, RunRecord } from "../Run.js"
import { firstFireAt as triggerFirstFireAt, Trigger } from "../Trigger.js"
import { Schema } from "effect"
import { Heap } from "./heap.js"
import { ReadyQueue } from "./readyQueue.js"
import { sameJson } from "./storable.js"

interface Entry {
  readonly id: RunId
  readonly jobName: string
  readonly payload: unknown
  readonly scheduleId: string | undefined
  readonly priority: number
  readonly key: string | undefined
  readonly serial: boolean
  readonly then: ReadonlyArray<string>
  readonly traceparent: string | undefined
  /** the workflow run that started this one as its child */
  readonly parentRunId: RunId | undefined
  readonly scheduledFor: number
  readonly createdAt: number
  readonly seq: number
  state: RunState
  attempt: number
  runAt: number
  version: number
  workerId: string | undefined
  leaseUntil: number
  claimedAt: number
  leaseExpiries: number
  cancelRequested: boolean
  result: unknown
  error: RunError | undefined
  /** how many times a workflow run was woken (a child ended, a signal came) */
  wakes: number
}

/**
 * A queued run's place in the not-yet-due heap or the ready queue; stale when
 * the entry moved on (lazy deletion). It keeps the order it was queued in:
 * a stale node stays in its heap after its entry is queued again at another
 * instant, and a key read from the entry would move under it, hiding the
 * runs below it.
 */
interface Node {
  readonly entry: Entry
  readonly version: number
  readonly priority: number
  readonly runAt: number
  readonly seq: number
}

const nodeOf = (entry: Entry): Node => ({
  entry,
  version: entry.version,
  priority: entry.priority,
  runAt: entry.runAt,
  seq: entry.seq
})

/** The runner's outcome is kept as the history row as it is (no copy per run). */
type HistoryRow = RunOutcome

/** A schedule's change, in the run feed. */
interface ScheduleItem {
  readonly scheduleId: string
  readonly jobName: string
  readonly change: ScheduleChange
  readonly at: number
}

/** An entry of the run feed (a history row is its own entry), made into a `FeedEntry` when read. */
type FeedItem = HistoryRow | ScheduleItem

const isScheduleItem = (item: FeedItem): item is ScheduleItem => "change" in item

/** A feed consumer's name: its cursor (a feed seq) and who holds it until when. */
interface Consumer {
  cursor: number
  holder: string | undefined
  leaseUntil: number
}

// this store's cursors are "0.<seq>": one process commits in seq order
const cursorOf = (seq: number) => FeedCursor.make(`0.${seq}`)
const seqOf = (cursor: FeedCursor) => Number(cursor.slice(cursor.indexOf(".") + 1))

interface ScheduleEntry {
  input: ScheduleInput
  triggerJson: string
  paused: boolean
  nextFireAt: number | undefined
  lastFireAt: number | undefined
  createdAt: number
  updatedAt: number
}

const encodeTrigger = Schema.encodeSync(Trigger)
const utc = (millis: number) => DateTime.unsafeMake(millis)

/** Orders text by UTF-16 code units, not by locale: ids and job names come back in one order everywhere. */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const isActive = (entry: Entry | undefined) =>
  entry !== undefined && (entry.state === "queued" || entry.state === "running")
const isLive = (node: Node) => node.entry.state === "queued" && node.entry.version === node.version

const leaseExpired = (workerId: string | undefined, expiries: number) =>
  new RunError({
    tag: "LeaseExpired",
    message: `worker ${workerId ?? "?"} stopped renewing its lease (${expiries} time${expiries === 1 ? "" : "s"} for this run)`,
    cause: ""
  })

// run ids: unique within the process (a memory store lives in one), cheap to make
const idPrefix = `${crypto.randomUUID().slice(0, 8)}-`
let nextId = 0

// most runs have no then-jobs: one empty list for all of them
const noThen: ReadonlyArray<string> = []

const firstFireAt = (input: ScheduleInput) => input.firstFireAt ?? triggerFirstFireAt(input.trigger, input.now)

/** Terminal runs and history rows kept before the oldest are dropped. */
const defaultRetention = 100_000

export const make: Effect.Effect<JobStore> = Effect.gen(function*() {
  const changes = yield* PubSub.sliding<Change>(16)
  const runs = new Map<RunId, Entry>()
  const running = new Set<Entry>()
  // final runs in the order they ended, and when (two arrays: no object, and no boxed number, per run)
  let finishedIds: Array<RunId> = []
  let finishedAts: Array<number> = []
  const keys = new Map<string, Entry>()
  const activeBySchedule = new Map<string, number>()
  const runningSerial = new Set<string>()
  const schedules = new Map<string, ScheduleEntry>()
  let history: Array<HistoryRow> = []
  // the feed's items and their seqs, index for index (no wrapper object per run)
  let feed: Array<FeedItem> = []
  let feedSeqs: Array<number> = []
  let feedSeq = 0
  const consumers = new Map<string, Consumer>()
  const workers = new Map<string, WorkerBeat>()
  // workflow runs: their journal entries by name, and their children
  const journals = new Map<RunId, Map<string, StepRecord>>()
  const children = new Map<RunId, Set<RunId>>()
  let seq = 0

  // queued runs not yet due, by runAt; due runs, by priority then runAt
  const waiting = new Heap<Node>((a, b) => a.runAt !== b.runAt ? a.runAt < b.runAt : a.seq < b.seq)
  const ready = new ReadyQueue<Node>((node) => node)

  const notify = (what: Change) => changes.unsafeOffer(what)

  const queue = (entry: Entry, runAt: number) => {
    entry.state = "queued"
    entry.runAt = runAt
    entry.version++
    entry.workerId = undefined
    entry.cancelRequested = false
    waiting.push(nodeOf(entry))
  }

  const activate = (entry: Entry) => {
    if (entry.key !== undefined) keys.set(entry.key, entry)
    if (entry.scheduleId !== undefined) {
      activeBySchedule.set(entry.scheduleId, (activeBySchedule.get(entry.scheduleId) ?? 0) + 1)
    }
  }

  const finish = (entry: Entry, state: RunState, at: number) => {
    const wasRunning = entry.state === "running"
    entry.state = state
    entry.version++
    running.delete(entry)
    if (entry.key !== undefined && keys.get(entry.key) === entry) keys.delete(entry.key)
    if (entry.scheduleId !== undefined) {
      const left = (activeBySchedule.get(entry.scheduleId) ?? 1) - 1
      if (left === 0) activeBySchedule.delete(entry.scheduleId)
      else activeBySchedule.set(entry.scheduleId, left)
      if (entry.serial && wasRunning) runningSerial.delete(entry.scheduleId)
    }
    finishedIds.push(entry.id)
    finishedAts.push(at)
    // a workflow waiting for this child looks again
    const parent = entry.parentRunId === undefined ? undefined : runs.get(entry.parentRunId)
    if (parent !== undefined) wake(parent, at)
    if (finishedIds.length > defaultRetention * 1.1) {
      const dropped = finishedIds.length - defaultRetention
      for (let i = 0; i < dropped; i++) forgetRun(finishedIds[i]!)
      finishedIds = finishedIds.slice(dropped)
      finishedAts = finishedAts.slice(dropped)
    }
  }

  // a queued run waiting for its instant is due now; a running one will be when it ends waiting (`suspend`)
  const wake = (entry: Entry, now: number) => {
    entry.wakes++
    if (entry.state === "queued" && entry.runAt > now) {
      queue(entry, now)
      notify("runs")
    }
  }

  const forgetRun = (id: RunId) => {
    const entry = runs.get(id)
    runs.delete(id)
    journals.delete(id)
    children.delete(id)
    if (entry?.parentRunId !== undefined) children.get(entry.parentRunId)?.delete(id)
  }

  const journalOf = (runId: RunId) => {
    let journal = journals.get(runId)
    if (journal === undefined) {
      journal = new Map()
      journals.set(runId, journal)
    }
    return journal
  }

  const holds = (runId: RunId, attempt: number) => {
    const e = runs.get(runId)
    return e !== undefined && e.state === "running" && e.attempt === attempt ? e : undefined
  }

  const withChild = (step: StepRecord) => {
    const child = step.childRunId === undefined ? undefined : runs.get(step.childRunId)
    if (child === undefined) return step
    return new StepRecord({
      ...step,
      child: new ChildState({
        state: child.state,
        ...(child.result === undefined ? {} : { result: child.result }),
        ...(child.error === undefined ? {} : { error: child.error })
      })
    }, true)
  }

  const appendToFeed = (item: FeedItem) => {
    feed.push(item)
    feedSeqs.push(++feedSeq)
    if (feed.length > defaultRetention * 1.1) {
      feed = feed.slice(feed.length - defaultRetention)
      feedSeqs = feedSeqs.slice(feedSeqs.length - defaultRetention)
    }
  }

  const record = (row: HistoryRow) => {
    history.push(row)
    if (history.length > defaultRetention * 1.1) history = history.slice(history.length - defaultRetention)
    appendToFeed(row)
  }

  const scheduleChanged = (scheduleId: string, jobName: string, change: ScheduleChange, at: number) =>
    appendToFeed({ scheduleId, jobName, change, at })

  // the index of the first item after `seq` (items are in seq order)
  const firstAfter = (seq: number) => {
    let low = 0
    let high = feedSeqs.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (feedSeqs[mid]! <= seq) low = mid + 1
      else high = mid
    }
    return low
  }

  const toFeedEntry = (item: FeedItem, seq: number): FeedEntry =>
    isScheduleItem(item)
      ? {
        _tag: "ScheduleChanged",
        cursor: cursorOf(seq),
        scheduleId: item.scheduleId,
        jobName: item.jobName,
        change: item.change,
        at: item.at
      }
      : { _tag: "Attempt", cursor: cursorOf(seq), record: toRecord(item) }

  const newEntry = (run: NewRun, now: number): Entry => ({
    id: `${idPrefix}${(nextId++).toString(36)}` as RunId,
    jobName: run.jobName,
    payload: run.payload,
    scheduleId: run.scheduleId,
    priority: run.priority ?? 0,
    key: run.key,
    serial: run.serial ?? false,
    then: run.then ?? noThen,
    traceparent: run.traceparent,
    parentRunId: run.parentRunId,
    scheduledFor: run.scheduledFor,
    createdAt: now,
    seq: seq++,
    state: "queued",
    attempt: 0,
    runAt: run.runAt,
    version: 0,
    workerId: undefined,
    leaseUntil: 0,
    claimedAt: 0,
    leaseExpiries: 0,
    cancelRequested: false,
    result: undefined,
    error: undefined,
    wakes: 0
  })

  const insert = (run: NewRun, now: number): RunId => {
    if (run.key !== undefined) {
      const existing = keys.get(run.key)
      if (existing !== undefined) return existing.id
    }
    const entry = newEntry(run, now)
    runs.set(entry.id, entry)
    if (entry.parentRunId !== undefined) {
      let siblings = children.get(entry.parentRunId)
      if (siblings === undefined) {
        siblings = new Set()
        children.set(entry.parentRunId, siblings)
      }
      siblings.add(entry.id)
    }
    activate(entry)
    // a run already due skips the not-yet-due heap
    ;(run.runAt <= now ? ready : waiting).push(nodeOf(entry))
    return entry.id
  }

  // a run that ended without success: each of its then-jobs is recorded as a cancelled run that never ran
  const cancelDependents = (parent: Entry, at: number) => {
    const reason = new ParentFailed({ parentRunId: parent.id, parentJobName: parent.jobName, parentState: parent.state })
    const error = new RunError({ tag: reason._tag, message: reason.message, cause: "" }, true)
    for (const jobName of parent.then) {
      const entry = newEntry({ jobName, payload: undefined, runAt: at, scheduledFor: at }, at)
      entry.state = "cancelled"
      entry.error = error
      runs.set(entry.id, entry)
      finishedIds.push(entry.id)
      finishedAts.push(at)
      record({
        runId: entry.id,
        jobName,
        scheduleId: undefined,
        attempt: 0,
        status: "cancelled",
        scheduledFor: at,
        startedAt: at,
        finishedAt: at,
        workerId: "",
        error
      })
    }
  }

  const toRun = (e: Entry) =>
    new Run({
      id: e.id,
      jobName: e.jobName,
      payload: e.payload,
      ...(e.scheduleId === undefined ? {} : { scheduleId: e.scheduleId }),
      state: e.state,
      attempt: e.attempt,
      runAt: utc(e.runAt),
      scheduledFor: utc(e.scheduledFor),
      priority: e.priority,
      ...(e.key === undefined ? {} : { key: e.key }),
      then: e.then,
      ...(e.result === undefined ? {} : { result: e.result }),
      ...(e.error === undefined ? {} : { error: e.error }),
      ...(e.workerId === undefined ? {} : { workerId: e.workerId }),
      createdAt: utc(e.createdAt)
    }, true)

  const toRecord = (r: HistoryRow) =>
    new RunRecord({
      runId: r.runId,
      jobName: r.jobName,
      ...(r.scheduleId === undefined ? {} : { scheduleId: r.scheduleId }),
      attempt: r.attempt,
      status: r.status,
      scheduledFor: utc(r.scheduledFor),
      startedAt: utc(r.startedAt),
      finishedAt: utc(r.finishedAt),
      durationMs: r.finishedAt - r.startedAt,
      ...(r.error === undefined ? {} : { error: r.error }),
      ...(r.result === undefined ? {} : { result: r.result }),
      ...(r.metrics === undefined ? {} : { metrics: r.metrics }),
      ...(r.retryAt === undefined ? {} : { retryAt: utc(r.retryAt) }),
      ...(r.workerId === "" ? {} : { workerId: r.workerId }),
      final: isFinalAttempt(r.status, r.retryAt)
    }, true)

  const toSchedule = (id: string, s: ScheduleEntry) =>
    new ScheduleRecord({
      id,
      jobName: s.input.jobName,
      payload: s.input.payload,
      trigger: s.input.trigger,
      misfire: s.input.misfire,
      overlap: s.input.overlap,
      misfireGraceMs: s.input.misfireGraceMs,
      paused: s.paused,
      ...(s.nextFireAt === undefined ? {} : { nextFireAt: utc(s.nextFireAt) }),
      ...(s.lastFireAt === undefined ? {} : { lastFireAt: utc(s.lastFireAt) }),
      createdAt: utc(s.createdAt),
      updatedAt: utc(s.updatedAt)
    }, true)

  /** Creates or updates one schedule, recording the change in the feed; the caller notifies. */
  const upsert = (input: ScheduleInput): UpsertResult => {
    const triggerJson = JSON.stringify(encodeTrigger(input.trigger))
    const existing = schedules.get(input.id)
    if (existing === undefined) {
      const created: ScheduleEntry = {
        input,
        triggerJson,
        paused: false,
        nextFireAt: firstFireAt(input),
        lastFireAt: undefined,
        createdAt: input.now,
        updatedAt: input.now
      }
      schedules.set(input.id, created)
      scheduleChanged(input.id, input.jobName, "created", input.now)
      return { outcome: "created", schedule: toSchedule(input.id, created) }
    }
    const sameTrigger = existing.triggerJson === triggerJson
    const unchanged = sameTrigger && existing.input.jobName === input.jobName &&
      sameJson(existing.input.payload, input.payload) &&
      existing.input.overlap === input.overlap && existing.input.misfireGraceMs === input.misfireGraceMs &&
      sameJson(existing.input.misfire, input.misfire)
    if (unchanged) return { outcome: "unchanged", schedule: toSchedule(input.id, existing) }
    existing.input = input
    existing.updatedAt = input.now
    if (!sameTrigger) {
      existing.triggerJson = triggerJson
      existing.nextFireAt = firstFireAt(input)
    }
    scheduleChanged(input.id, input.jobName, "updated", input.now)
    return { outcome: "updated", schedule: toSchedule(input.id, existing) }
  }

  const findSchedule = (id: string) =>
    Effect.suspend(() => {
      const s = schedules.get(id)
      return s === undefined ? Effect.fail(new ScheduleNotFound({ id })) : Effect.succeed(s)
    })

  const matches = <A>(filter: A | ReadonlyArray<A> | undefined, value: A) =>
    filter === undefined || (Array.isArray(filter) ? filter.includes(value) : filter === value)

  const cancelOne = (runId: RunId, now: number): CancelResult => {
    const e = runs.get(runId)
    if (e === undefined) return "not_found"
    if (e.state === "running") {
      if (!e.cancelRequested) {
        e.cancelRequested = true
        notify("cancels")
      }
      return "running"
    }
    if (e.state !== "queued") return "finished"
    endCancelled(e, now)
    return "cancelled"
  }

  // a run that ends cancelled without an attempt of its own: queued, or at an attempt's end (its worker then
  // records nothing); its then-jobs are recorded cancelled, as for a run that ends without success
  const endCancelled = (e: Entry, at: number) => {
    finish(e, "cancelled", at)
    record({
      runId: e.id,
      jobName: e.jobName,
      scheduleId: e.scheduleId,
      attempt: e.attempt,
      status: "cancelled",
      scheduledFor: e.scheduledFor,
      startedAt: at,
      finishedAt: at,
      workerId: e.workerId ?? ""
    })
    if (e.then.length > 0) cancelDependents(e, at)
    notify("feed")
  }

  /** the earliest `runAt` after `after` of a queued run (runs due by then move to the ready queue) */
  const nextRunAfter = (after: number) => {
    for (let top = waiting.peek(); top !== undefined; top = waiting.peek()) {
      if (!isLive(top)) waiting.pop()
      else if (top.runAt <= after) ready.push(waiting.pop()!)
      else return top.runAt
    }
    return undefined
  }

  const store: JobStore = {
    upsertSchedule: (input) =>
      Effect.sync(() => {
        const result = upsert(input)
        if (result.outcome !== "unchanged") notify("schedules")
        return result
      }),

    upsertSchedules: (inputs) =>
      Effect.suspend(() => {
        const duplicate = duplicateScheduleId("upsertSchedules", inputs)
        if (duplicate !== undefined) return Effect.fail(duplicate)
        const results = inputs.map(upsert)
        // once per call: a waking ticker reads every schedule anyway
        if (results.some((result) => result.outcome !== "unchanged")) notify("schedules")
        return Effect.succeed(results)
      }),

    getSchedule: (id) => Effect.map(findSchedule(id), (s) => toSchedule(id, s)),

    listSchedules: Effect.sync(() =>
      Array.from(schedules, ([id, s]) => toSchedule(id, s)).sort((a, b) => a.id.localeCompare(b.id))
    ),

    setPaused: (id, paused, nextFireAt, now) =>
      Effect.map(findSchedule(id), (s) => {
        s.paused = paused
        if (!paused) s.nextFireAt = nextFireAt
        s.updatedAt = now
        notify("schedules")
        scheduleChanged(id, s.input.jobName, paused ? "paused" : "resumed", now)
        return toSchedule(id, s)
      }),

    removeSchedule: (id, now) =>
      Effect.map(findSchedule(id), (s) => {
        schedules.delete(id)
        notify("schedules")
        scheduleChanged(id, s.input.jobName, "removed", now)
      }),

    dueSchedules: (now, limit) =>
      Effect.sync(() => {
        const due: Array<[string, ScheduleEntry]> = []
        for (const [id, s] of schedules) {
          if (!s.paused && s.nextFireAt !== undefined && s.nextFireAt <= now) due.push([id, s])
        }
        // ties by id, as PostgreSQL orders them: which of two schedules due together fires first does
        // not depend on the store, nor on the order they were stored in
        due.sort((a, b) => a[1].nextFireAt! - b[1].nextFireAt! || byCodeUnits(a[0], b[0]))
        return due.slice(0, limit).map(([id, s]) => toSchedule(id, s))
      }),

    fire: (fire: ScheduleFire) =>
      Effect.sync((): FireResult => {
        const s = schedules.get(fire.scheduleId)
        if (s === undefined || s.paused || s.nextFireAt !== fire.expectedNextFireAt) {
          return { fired: false, runIds: [], skipped: 0 }
        }
        s.nextFireAt = fire.nextFireAt
        s.lastFireAt = fire.expectedNextFireAt
        s.updatedAt = fire.now
        const active = (activeBySchedule.get(fire.scheduleId) ?? 0) > 0
        if (fire.skipIfActive && active) return { fired: true, runIds: [], skipped: fire.runs.length }
        const runIds = fire.runs.map((run) => insert(run, fire.now))
        if (runIds.length > 0) notify("runs")
        return { fired: true, runIds, skipped: 0 }
      }),

    nextFireAt: Effect.sync(() => {
      let next: number | undefined
      for (const s of schedules.values()) {
        if (!s.paused && s.nextFireAt !== undefined && (next === undefined || s.nextFireAt < next)) {
          next = s.nextFireAt
        }
      }
      return next
    }),

    enqueue: (newRuns, now) =>
      Effect.sync(() => {
        const ids = newRuns.map((run) => insert(run, now))
        notify("runs")
        return ids
      }),

    claim: (request: ClaimRequest) =>
      Effect.sync((): ClaimResult => {
        const { now } = request
        // due runs move to the ready queue; what stays waiting is the answer's next due time
        const nextRunAt = nextRunAfter(now)
        const allowed = request.jobNames === undefined ? undefined : new Set(request.jobNames)
        const capacity = request.jobCapacity === undefined ? undefined : new Map(request.jobCapacity)
        const max = request.maxLeaseExpiries
        const claimed: Array<ClaimedRun> = []
        const take = (e: Entry) => {
          const left = capacity?.get(e.jobName)
          if (left !== undefined) capacity!.set(e.jobName, left - 1)
          e.state = "running"
          e.attempt++
          e.version++
          e.workerId = request.workerId
          e.leaseUntil = now + request.leaseMs
          e.claimedAt = now
          running.add(e)
          if (e.serial && e.scheduleId !== undefined) runningSerial.add(e.scheduleId)
          claimed.push({
            id: e.id,
            jobName: e.jobName,
            payload: e.payload,
            attempt: e.attempt,
            scheduledFor: e.scheduledFor,
            scheduleId: e.scheduleId,
            then: e.then,
            leaseExpiries: e.leaseExpiries,
            traceparent: e.traceparent
          })
        }
        // due runs not taken, in claim order; the suspects among them (runs beyond `max` and nothing else in their way)
        const deferred: Array<Node> = []
        const suspects: Array<Node> = []
        // schedules whose serial runs wait behind one of theirs left queued here: they start in order
        const serialWaiting = new Set<string>()
        const defer = (node: Node) => {
          deferred.push(node)
          if (node.entry.serial && node.entry.scheduleId !== undefined) serialWaiting.add(node.entry.scheduleId)
        }
        while (claimed.length < request.limit && ready.size > 0) {
          const node = ready.pop()!
          if (!isLive(node)) continue
          const e = node.entry
          if (
            (allowed !== undefined && !allowed.has(e.jobName)) ||
            (capacity !== undefined && capacity.get(e.jobName) === 0) ||
            (e.serial && e.scheduleId !== undefined &&
              (runningSerial.has(e.scheduleId) || serialWaiting.has(e.scheduleId)))
          ) {
            defer(node)
          } else if (max !== undefined && e.leaseExpiries > max) {
            defer(node)
            suspects.push(node)
          } else {
            take(e)
          }
        }
        const suspect = request.suspectIfNoneDue === true && claimed.length === 0 && request.limit > 0
          ? suspects.shift()
          : undefined
        if (suspect !== undefined) take(suspect.entry)
        for (const node of deferred) if (node !== suspect) ready.push(node)
        return { runs: claimed, nextRunAt, suspectWaiting: suspects.length > 0 }
      }),

    complete: (outcomes: ReadonlyArray<RunOutcome>) =>
      Effect.sync((): CompleteResult => {
        let queued = false
        const refused: Array<RunId> = []
        for (const o of outcomes) {
          const e = runs.get(o.runId)
          // fencing: only the attempt that holds the run may record its outcome
          if (e === undefined || e.state !== "running" || e.attempt !== o.attempt) {
            refused.push(o.runId)
            continue
          }
          // a run whose cancellation was requested while it ran is not queued again: it ends cancelled
          const cancelled = o.retryAt !== undefined && e.cancelRequested
          record(cancelled ? { ...o, status: "cancelled", retryAt: undefined } : o)
          e.error = o.error
          e.result = o.result
          if (cancelled) {
            finish(e, "cancelled", o.finishedAt)
            if (e.then.length > 0) cancelDependents(e, o.finishedAt)
          } else if (o.retryAt !== undefined) {
            running.delete(e)
            if (e.serial && e.scheduleId !== undefined) runningSerial.delete(e.scheduleId)
            queue(e, o.retryAt)
            queued = true
          } else {
            const state = o.status === "interrupted" ? "failed" : o.status
            finish(e, state, o.finishedAt)
            if (state !== "succeeded" && e.then.length > 0) cancelDependents(e, o.finishedAt)
          }
          if (o.followUps !== undefined && o.followUps.length > 0) {
            for (const run of o.followUps) insert(run, o.finishedAt)
            queued = true
          }
        }
        if (queued) notify("runs")
        // once per call, not per outcome: readers wake on "feed" (and on "schedules" for schedule changes)
        if (refused.length < outcomes.length) notify("feed")
        return { refused }
      }),

    cancel: (runId, now) =>
      Effect.sync((): CancelResult => {
        const result = cancelOne(runId, now)
        // a workflow's unfinished children, and theirs, go with it; a run that had finished is left as it was
        if (result !== "cancelled" && result !== "running") return result
        const pending = [...(children.get(runId) ?? [])]
        for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
          cancelOne(id, now)
          for (const child of children.get(id) ?? []) pending.push(child)
        }
        return result
      }),

    journal: (runId) =>
      Effect.sync(() => ({
        steps: Array.from(journals.get(runId)?.values() ?? [], (step) => step.kind === "child" ? withChild(step) : step),
        wakes: runs.get(runId)?.wakes ?? 0
      })),

    recordSteps: (steps) =>
      Effect.sync(() => {
        const [first] = steps
        if (first === undefined) return []
        if (holds(first.runId, first.attempt) === undefined) return undefined
        const journal = journalOf(first.runId)
        for (const step of steps) {
          if (journal.get(step.name)?.status !== "succeeded") journal.set(step.name, step)
        }
        return steps.map((step) => journal.get(step.name)!)
      }),

    startChildren: (start: ChildStart) =>
      Effect.sync(() => {
        if (holds(start.parentRunId, start.attempt) === undefined) return undefined
        const journal = journalOf(start.parentRunId)
        const ids = start.children.map(({ position, run, step }) => {
          const existing = journal.get(step)?.childRunId
          if (existing !== undefined) return existing
          const id = insert({ ...run, parentRunId: start.parentRunId }, start.now)
          journal.set(
            step,
            new StepRecord({
              runId: start.parentRunId,
              name: step,
              kind: "child",
              status: "waiting",
              position,
              attempt: start.attempt,
              startedAt: start.now,
              childRunId: id
            }, true)
          )
          return id
        })
        notify("runs")
        return ids
      }),

    suspend: (suspension: Suspension) =>
      Effect.sync(() => {
        const e = holds(suspension.runId, suspension.attempt)
        if (e === undefined) return false
        running.delete(e)
        if (e.serial && e.scheduleId !== undefined) runningSerial.delete(e.scheduleId)
        if (e.cancelRequested) {
          // cancelled while it ran: it ends here instead of waiting
          endCancelled(e, suspension.now)
          return true
        }
        // waiting is not an attempt: the next one has the same number
        e.attempt--
        const woken = e.wakes > suspension.wakes
        queue(e, woken ? suspension.now : suspension.wakeAt ?? untilWoken)
        notify("runs")
        return true
      }),

    signal: (delivery: SignalDelivery) =>
      Effect.sync((): SignalResult => {
        const e = runs.get(delivery.runId)
        if (e === undefined) return "not_found"
        if (!isActive(e)) return "finished"
        const name = `signal:${delivery.name}`
        const journal = journalOf(delivery.runId)
        const existing = journal.get(name)
        if (existing?.status === "succeeded") return "duplicate"
        if (existing?.status === "failed") return "expired"
        journal.set(
          name,
          new StepRecord({
            runId: delivery.runId,
            name,
            kind: "signal",
            status: "succeeded",
            position: existing?.position ?? "",
            attempt: existing?.attempt ?? 0,
            startedAt: existing?.startedAt ?? delivery.now,
            finishedAt: delivery.now,
            ...(existing?.wakeAt === undefined ? {} : { wakeAt: existing.wakeAt }),
            result: delivery.value
          }, true)
        )
        wake(e, delivery.now)
        return "delivered"
      }),

    heartbeat: (workerId, held, leaseUntil) =>
      Effect.sync((): HeartbeatResult => {
        const lost: Array<RunId> = []
        const cancelRequested: Array<RunId> = []
        for (const { attempt, runId } of held) {
          const e = runs.get(runId)
          if (e === undefined || e.state !== "running" || e.workerId !== workerId || e.attempt !== attempt) {
            lost.push(runId)
            continue
          }
          e.leaseUntil = leaseUntil
          if (e.cancelRequested) cancelRequested.push(runId)
        }
        return { lost, cancelRequested }
      }),

    reapExpired: (now) =>
      Effect.sync(() => {
        const expired = Array.from(running).filter((e) => e.leaseUntil < now)
        for (const e of expired) {
          e.leaseExpiries++
          running.delete(e)
          if (e.serial && e.scheduleId !== undefined) runningSerial.delete(e.scheduleId)
          const common = {
            runId: e.id,
            jobName: e.jobName,
            scheduleId: e.scheduleId,
            attempt: e.attempt,
            scheduledFor: e.scheduledFor,
            startedAt: e.claimedAt,
            finishedAt: now,
            workerId: e.workerId ?? ""
          }
          if (e.cancelRequested) {
            // its cancellation was requested: the lost attempt ends it
            record({ ...common, status: "cancelled" })
            finish(e, "cancelled", now)
            if (e.then.length > 0) cancelDependents(e, now)
            continue
          }
          const retryAt = now + leaseExpiryBackoff(e.leaseExpiries, Math.random())
          record({
            ...common,
            status: "interrupted",
            error: leaseExpired(e.workerId, e.leaseExpiries),
            retryAt
          })
          queue(e, retryAt)
        }
        if (expired.length > 0) {
          notify("runs")
          notify("feed")
        }
        for (const [id, worker] of workers) if (worker.expiresAt < now) workers.delete(id)
        return expired.length
      }),

    getRun: (runId) =>
      Effect.suspend(() => {
        const e = runs.get(runId)
        return e === undefined ? Effect.fail(new RunNotFound({ runId })) : Effect.succeed(toRun(e))
      }),

    listRuns: (query: RunQuery) =>
      Effect.sync(() => {
        const limit = query.limit ?? 100
        const out: Array<Run> = []
        const all = Array.from(runs.values())
        for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
          const e = all[i]!
          if (
            matches(query.state, e.state) && matches(query.jobName, e.jobName) &&
            (query.scheduleId === undefined || e.scheduleId === query.scheduleId)
          ) out.push(toRun(e))
        }
        return out
      }),

    queueDepth: (now) =>
      Effect.sync(() => {
        const byJob = new Map<string, { due: number; later: number; running: number; oldestDueAt: number | undefined }>()
        for (const e of runs.values()) {
          if (!isActive(e)) continue
          let depth = byJob.get(e.jobName)
          if (depth === undefined) {
            depth = { due: 0, later: 0, running: 0, oldestDueAt: undefined }
            byJob.set(e.jobName, depth)
          }
          if (e.state === "running") depth.running++
          else if (e.runAt > now) depth.later++
          else {
            depth.due++
            if (depth.oldestDueAt === undefined || e.runAt < depth.oldestDueAt) depth.oldestDueAt = e.runAt
          }
        }
        return Array.from(byJob, ([jobName, d]) =>
          new QueueDepth({
            jobName,
            due: d.due,
            later: d.later,
            running: d.running,
            ...(d.oldestDueAt === undefined ? {} : { oldestDueAt: utc(d.oldestDueAt) })
          }, true)).sort((a, b) => byCodeUnits(a.jobName, b.jobName))
      }),

    history: (query: HistoryQuery) =>
      Effect.sync(() => {
        const limit = query.limit ?? 100
        const out: Array<RunRecord> = []
        for (let i = history.length - 1; i >= 0 && out.length < limit; i--) {
          const r = history[i]!
          if (
            (query.jobName === undefined || r.jobName === query.jobName) &&
            (query.runId === undefined || r.runId === query.runId) &&
            (query.scheduleId === undefined || r.scheduleId === query.scheduleId) &&
            matches(query.status, r.status) &&
            (query.from === undefined || r.finishedAt >= query.from) &&
            (query.to === undefined || r.finishedAt < query.to)
          ) out.push(toRecord(r))
        }
        return out
      }),

    pruneHistory: (before: number) =>
      Effect.sync(() => {
        const kept = history.filter((r) => r.finishedAt >= before || isActive(runs.get(r.runId)))
        const pruned = history.length - kept.length
        history = kept
        const keptFeed: Array<FeedItem> = []
        const keptSeqs: Array<number> = []
        for (let i = 0; i < feed.length; i++) {
          const item = feed[i]!
          if (
            isScheduleItem(item) ? item.at >= before : item.finishedAt >= before || isActive(runs.get(item.runId))
          ) {
            keptFeed.push(item)
            keptSeqs.push(feedSeqs[i]!)
          }
        }
        feed = keptFeed
        feedSeqs = keptSeqs
        const keptIds: Array<RunId> = []
        const keptAts: Array<number> = []
        for (let i = 0; i < finishedIds.length; i++) {
          const id = finishedIds[i]!
          if (finishedAts[i]! >= before) {
            keptIds.push(id)
            keptAts.push(finishedAts[i]!)
            continue
          }
          // a run re-queued since it was recorded final is no longer in the final list's charge
          const entry = runs.get(id)
          if (entry !== undefined && !isActive(entry)) forgetRun(id)
        }
        finishedIds = keptIds
        finishedAts = keptAts
        return pruned
      }),

    readFeed: (after, limit) =>
      Effect.sync(() => {
        const from = firstAfter(seqOf(after))
        const to = Math.min(feed.length, from + Math.max(0, limit))
        const entries: Array<FeedEntry> = []
        for (let i = from; i < to; i++) entries.push(toFeedEntry(feed[i]!, feedSeqs[i]!))
        return entries
      }),

    feedEnd: Effect.sync(() => cursorOf(feedSeq)),

    holdConsumer: (hold) =>
      Effect.sync(() => {
        let consumer = consumers.get(hold.name)
        if (consumer === undefined) {
          consumer = { cursor: hold.startAt === "start" ? 0 : feedSeq, holder: undefined, leaseUntil: 0 }
          consumers.set(hold.name, consumer)
        }
        if (consumer.holder !== hold.holder && consumer.leaseUntil > hold.now) return undefined
        consumer.holder = hold.holder
        consumer.leaseUntil = hold.leaseUntil
        return cursorOf(consumer.cursor)
      }),

    commitConsumer: (commit) =>
      Effect.sync(() => {
        const consumer = consumers.get(commit.name)
        // a holder whose lease ran out keeps the name until another takes it: nobody else read meanwhile
        if (consumer === undefined || consumer.holder !== commit.holder) return false
        consumer.cursor = Math.max(consumer.cursor, seqOf(commit.cursor))
        consumer.leaseUntil = commit.leaseUntil
        return true
      }),

    releaseConsumer: (name, holder) =>
      Effect.sync(() => {
        const consumer = consumers.get(name)
        if (consumer !== undefined && consumer.holder === holder) {
          consumer.holder = undefined
          consumer.leaseUntil = 0
        }
      }),

    workerBeat: (beat) =>
      Effect.sync(() => {
        workers.set(beat.id, beat)
      }),

    removeWorker: (id) =>
      Effect.sync(() => {
        workers.delete(id)
      }),

    listWorkers: (now) =>
      Effect.sync(() =>
        Array.from(workers.values())
          .filter((w) => w.expiresAt >= now)
          .sort((a, b) => byCodeUnits(a.id, b.id))
          .map((w) =>
            new WorkerRecord({
              id: w.id,
              startedAt: utc(w.startedAt),
              heartbeatAt: utc(w.now),
              expiresAt: utc(w.expiresAt),
              info: w.info
            })
          )
      ),

    changes: PubSub.subscribe(changes)
  }
  return store
})
