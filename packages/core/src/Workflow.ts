/**
 * Durable workflows: jobs made of steps whose results are journaled, so a
 * later attempt (after a failure, a crash, a deploy) returns a completed
 * step's result instead of running it again, and waits that free the runner
 * slot: a sleep of days, a child run, a signal from any process.
 *
 * A workflow is a job: it is enqueued, scheduled, awaited, cancelled and
 * tested like one. When it must wait, its attempt ends (it holds no slot and
 * no fiber) and the run is queued again for the instant it wakes; that
 * attempt is not counted against the retry policy. On waking it runs its code
 * again from the start, and every step already in its journal returns at once.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Workflow } from "@clockwork/core"
 *
 * const order = Workflow.make({
 *   name: "order",
 *   payload: Schema.Struct({ orderId: Schema.String }),
 *   run: ({ orderId }) =>
 *     Effect.gen(function*() {
 *       const charge = yield* Workflow.step("charge", chargeCard(orderId), { success: Charge })
 *       const shipped = yield* Workflow.signal("shipped", Shipment, { timeout: "2 days" })
 *       yield* Workflow.sleep("1 day")
 *       yield* Workflow.step("email", sendMail(orderId, charge, shipped))
 *     })
 * })
 * ```
 * @since 0.1.0
 */
import {
  Clock,
  Context,
  DateTime,
  Duration,
  Effect,
  Either,
  Exit,
  FiberRef,
  ParseResult,
  Schedule,
  Schema
} from "effect"
import type * as Job from "./Job.js"
import type { Overlap } from "./Policy.js"
import { InvalidPayload, make as makeJob } from "./Job.js"
import { type ChildStart, JobStore } from "./JobStore.js"
import { StepRecord } from "./Journal.js"
import type { Journal, StepKind } from "./Journal.js"
import { RunError, RunId, RunState } from "./Run.js"
import { toRunError } from "./internal/runError.js"
import * as Payload from "./internal/payload.js"
import * as Storable from "./internal/storable.js"
import { Suspended, suspensionOf } from "./internal/suspension.js"
import * as Telemetry from "./internal/telemetry.js"

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * The workflow's code no longer matches its run's journal: a step was
 * renamed, added or moved before steps already recorded, or a name now names
 * another kind of step. Step names and their order are the contract between
 * a run and the code that resumes it; the run fails (it is not retried)
 * rather than pair a recorded result with the wrong step.
 *
 * @since 0.1.0
 * @category errors
 */
export class WorkflowChanged extends Schema.TaggedError<WorkflowChanged>()("WorkflowChanged", {
  runId: RunId,
  step: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `workflow run ${this.runId} cannot resume at step "${this.step}": ${this.reason}`
  }
}

/**
 * Two steps of one workflow run have the same name.
 *
 * @since 0.1.0
 * @category errors
 */
export class DuplicateStep extends Schema.TaggedError<DuplicateStep>()("DuplicateStep", {
  step: Schema.String,
  positions: Schema.Array(Schema.String)
}) {
  override get message() {
    return `two steps of this workflow are named "${this.step}" (at positions ${this.positions.join(" and ")})`
  }
}

/**
 * A step's result does not fit its Schema: it could not be encoded to be
 * journaled, or the journaled value no longer decodes (the Schema changed).
 *
 * @since 0.1.0
 * @category errors
 */
export class StepResultInvalid extends Schema.TaggedError<StepResultInvalid>()("StepResultInvalid", {
  step: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `the result of step "${this.step}" does not fit its schema: ${this.reason}`
  }
}

/**
 * A step did not finish within its timeout (each of its tries has the
 * timeout).
 *
 * @since 0.1.0
 * @category errors
 */
export class StepTimeout extends Schema.TaggedError<StepTimeout>()("StepTimeout", {
  step: Schema.String,
  timeoutMs: Schema.Number
}) {
  override get message() {
    return `step "${this.step}" timed out after ${Duration.format(Duration.millis(this.timeoutMs))}`
  }
}

/**
 * A child run ended without success (failed, timed out, dead or cancelled).
 *
 * @since 0.1.0
 * @category errors
 */
export class ChildFailed extends Schema.TaggedError<ChildFailed>()("ChildFailed", {
  step: Schema.String,
  childRunId: RunId,
  state: RunState,
  error: Schema.optional(RunError)
}) {
  override get message() {
    const why = this.error === undefined ? "" : `: ${this.error.tag}: ${this.error.message}`
    return `child run ${this.childRunId} of step "${this.step}" ended ${this.state}${why}`
  }
}

/**
 * No signal of this name came before the wait's timeout.
 *
 * @since 0.1.0
 * @category errors
 */
export class SignalTimeout extends Schema.TaggedError<SignalTimeout>()("SignalTimeout", {
  signal: Schema.String,
  timeoutMs: Schema.Number
}) {
  override get message() {
    return `no signal "${this.signal}" came within ${Duration.format(Duration.millis(this.timeoutMs))}`
  }
}

/**
 * The value sent with a signal does not decode with the Schema the workflow
 * waits with.
 *
 * @since 0.1.0
 * @category errors
 */
export class SignalInvalid extends Schema.TaggedError<SignalInvalid>()("SignalInvalid", {
  signal: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `the value of signal "${this.signal}" does not fit its schema: ${this.reason}`
  }
}

// ---------------------------------------------------------------------------
// the run being executed
// ---------------------------------------------------------------------------

/** Where the code is: a prefix (a branch of `all`) and the count of steps reached under it. */
interface Position {
  readonly prefix: string
  readonly counter: { n: number }
}

const position = FiberRef.unsafeMake<Position>({ prefix: "", counter: { n: 0 } })

const nextPosition = Effect.map(FiberRef.get(position), ({ counter, prefix }) => {
  const n = counter.n++
  return prefix === "" ? String(n) : `${prefix}.${n}`
})

/** Children started in one store call. */
const childBatch = 500

/** Journal entries written in one store call. */
const stepBatch = 1_000

/** Store writes of the journal: a store that does not answer ends the attempt (it is retried, and resumes). */
const journalWrite = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.orDie(Effect.retry(effect, { times: 3, schedule: Schedule.exponential("100 millis") }))

/**
 * One attempt of a workflow run: its journal as read when the attempt
 * started, and what it reached and wrote since.
 *
 * @since 0.1.0
 * @category models
 */
export interface Instance {
  readonly runId: RunId
  readonly attempt: number
  readonly jobName: string
}

class Attempt implements Instance {
  readonly entries = new Map<string, StepRecord>()
  readonly byPosition = new Map<string, string>()
  readonly reached = new Map<string, string>()
  /** children reached for the first time: started together when the attempt ends waiting */
  readonly unstarted: Array<ChildStart["children"][number]> = []
  /** children found ended: their entries, written when the attempt ends */
  readonly resolved: Array<StepRecord> = []
  /** the run's count of wakes when its journal was read */
  readonly wakes: number
  earliestWake: number | undefined = undefined
  constructor(
    readonly store: JobStore,
    readonly runId: RunId,
    readonly attempt: number,
    readonly jobName: string,
    journal: Journal
  ) {
    for (const step of journal.steps) {
      this.entries.set(step.name, step)
      if (step.position !== "") this.byPosition.set(step.position, step.name)
    }
    this.wakes = journal.wakes
  }

  /** The entry recorded for this step, after checking the code still matches the journal. */
  reach(kind: StepKind, name: string, at: string): Effect.Effect<StepRecord | undefined, WorkflowChanged | DuplicateStep> {
    const seen = this.reached.get(name)
    if (seen !== undefined) return Effect.fail(new DuplicateStep({ step: name, positions: [seen, at] }))
    this.reached.set(name, at)
    const recorded = this.entries.get(name)
    if (recorded !== undefined) {
      if (recorded.kind !== kind) {
        return Effect.fail(
          new WorkflowChanged({
            runId: this.runId,
            step: name,
            reason: `the journal holds it as a ${recorded.kind}, the code reaches it as a ${kind}`
          })
        )
      }
      if (recorded.position !== "" && recorded.position !== at) {
        return Effect.fail(
          new WorkflowChanged({
            runId: this.runId,
            step: name,
            reason: `the journal holds it at position ${recorded.position}, the code reaches it at ${at}`
          })
        )
      }
      return Effect.succeed(recorded)
    }
    const other = this.byPosition.get(at)
    if (other !== undefined) {
      return Effect.fail(
        new WorkflowChanged({
          runId: this.runId,
          step: name,
          reason: `it is new, and the journal holds step "${other}" at its position ${at}`
        })
      )
    }
    return Effect.succeed(undefined)
  }

  /** The entry as this attempt writes it. */
  entry(step: Omit<ConstructorParameters<typeof StepRecord>[0], "runId" | "attempt">): StepRecord {
    // a child's state is read with its entry, never stored
    const { child: _, ...fields } = step
    return new StepRecord({ ...fields, runId: this.runId, attempt: this.attempt }, true)
  }

  /** Writes entries; the attempt ends (interrupted) when it no longer holds the run. */
  write(steps: ReadonlyArray<StepRecord>): Effect.Effect<ReadonlyArray<StepRecord>> {
    return Effect.flatMap(journalWrite(this.store.recordSteps(steps)), (stored) => {
      if (stored === undefined) return Effect.interrupt
      for (const step of stored) {
        this.entries.set(step.name, step)
        if (step.position !== "") this.byPosition.set(step.position, step.name)
      }
      return Effect.succeed(stored)
    })
  }

  /** Writes an entry now (see `write`), and returns it as stored. */
  record(step: Omit<ConstructorParameters<typeof StepRecord>[0], "runId" | "attempt">): Effect.Effect<StepRecord> {
    return Effect.map(this.write([this.entry(step)]), ([stored]) => stored!)
  }

  /**
   * Notes that a child ended: the entry is written with the others at the
   * attempt's end (`writeResolved`), so a parent of a thousand children does
   * not write a thousand times when it wakes. Lost if the process dies first,
   * it is read again from the child's run.
   */
  resolve(step: StepRecord) {
    this.entries.set(step.name, step)
    this.resolved.push(step)
  }

  readonly writeResolved: Effect.Effect<void> = Effect.suspend(() => {
    const batches: Array<ReadonlyArray<StepRecord>> = []
    for (let i = 0; i < this.resolved.length; i += stepBatch) batches.push(this.resolved.slice(i, i + stepBatch))
    this.resolved.length = 0
    return Effect.forEach(batches, (batch) => this.write(batch), { discard: true })
  })

  /** Ends the attempt waiting until `wakeAt` (undefined: until something wakes the run). */
  wait(wakeAt: number | undefined): Effect.Effect<never> {
    return Effect.suspend(() => {
      if (wakeAt !== undefined) this.earliestWake = Math.min(this.earliestWake ?? wakeAt, wakeAt)
      return Effect.die(new Suspended(wakeAt, this.wakes))
    })
  }

  /**
   * Starts the children this attempt reached for the first time, in batches
   * (a fan-out of thousands is a few statements, not one per child); the
   * attempt ends (interrupted) when it no longer holds the run.
   */
  startChildren(now: number): Effect.Effect<void> {
    const batches: Array<ChildStart["children"]> = []
    for (let i = 0; i < this.unstarted.length; i += childBatch) batches.push(this.unstarted.slice(i, i + childBatch))
    return Effect.forEach(batches, (children) =>
      Effect.flatMap(
        journalWrite(this.store.startChildren({ parentRunId: this.runId, attempt: this.attempt, now, children })),
        (ids) => ids === undefined ? Effect.interrupt : Effect.void
      ), { discard: true })
  }

  /** When the run must wake: the earliest instant this attempt, or any entry still waiting, waits for. */
  wakeAt(): number | undefined {
    let at = this.earliestWake
    for (const step of this.entries.values()) {
      if (step.status === "waiting" && step.wakeAt !== undefined) at = Math.min(at ?? step.wakeAt, step.wakeAt)
    }
    return at
  }
}

/**
 * The workflow run being executed: the steps of this module need it, and
 * `Workflow.make` provides it.
 *
 * @since 0.1.0
 * @category tags
 */
export const Instance: Context.Tag<Instance, Instance> = Context.GenericTag<Instance>("@clockwork/core/Workflow/Instance")

const current = Effect.map(Instance, (instance) => instance as Attempt)

const formatError = (error: ParseResult.ParseError) => ParseResult.TreeFormatter.formatErrorSync(error)

/** A value encoded with a Schema (or as it is, without one) and checked for every store. */
const encode = (step: string, schema: Schema.Schema<any, any> | undefined, value: unknown) =>
  Effect.flatMap(
    schema === undefined
      ? Effect.succeed(value)
      : Effect.mapError(
        Schema.encodeUnknown(schema)(value),
        (error) => new StepResultInvalid({ step, reason: formatError(error) })
      ),
    (encoded) =>
      Either.match(Storable.json(encoded, "result"), {
        onLeft: ({ path, reason }) => Effect.fail(new StepResultInvalid({ step, reason: `${path}: ${reason}` })),
        onRight: Effect.succeed
      })
  )

const decode = <A>(step: string, schema: Schema.Schema<A, any> | undefined, encoded: unknown) =>
  schema === undefined
    ? Effect.succeed(encoded as A)
    : Effect.mapError(
      Schema.decodeUnknown(schema)(encoded),
      (error) => new StepResultInvalid({ step, reason: formatError(error) })
    )

const storedError = (error: RunError) =>
  new RunError({
    tag: Storable.escapeText(error.tag),
    message: Storable.escapeText(error.message),
    cause: Storable.escapeText(error.cause)
  }, true)

// ---------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------

/**
 * Defines a workflow: a job whose `run` may use the steps of this module.
 * Options are those of `Job.make`; the retry policy applies to the run's
 * failed attempts (each resumes after the last completed step), the timeout to
 * each attempt (a wait ends the attempt, so it does not count).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <P, PI, E, R, A = void, AI = void>(options: {
  readonly name: string
  readonly payload: Schema.Schema<P, PI>
  readonly success?: Schema.Schema<A, AI>
  readonly run: (payload: P, ctx: Job.JobContext) => Effect.Effect<NoInfer<A>, E, R>
  readonly timeout?: Duration.DurationInput
  readonly retry?: Schedule.Schedule<unknown, any>
  readonly concurrency?: number
  /** what a schedule of this workflow does when a tick comes while its previous run is unfinished (waiting included) */
  readonly overlap?: Overlap
}): Job.Job<P, A, E, Exclude<R, Instance>> =>
  makeJob({
    ...options,
    run: (payload, ctx) =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const journal = yield* journalWrite(store.journal(ctx.runId))
        const attempt = new Attempt(store, ctx.runId, ctx.attempt, ctx.jobName, journal)
        const exit = yield* Effect.exit(
          options.run(payload, ctx).pipe(
            Effect.provideService(Instance, attempt),
            Effect.locally(position, { prefix: "", counter: { n: 0 } })
          )
        )
        yield* attempt.writeResolved
        if (Exit.isFailure(exit) && suspensionOf(exit.cause) !== undefined) {
          yield* attempt.startChildren(yield* Clock.currentTimeMillis)
          return yield* Effect.die(new Suspended(attempt.wakeAt(), journal.wakes))
        }
        return yield* exit
      }) as Effect.Effect<A, E, Exclude<R, Instance>>
  })

/**
 * Runs `effect` once per workflow run: its result is encoded with `success`
 * (plain JSON without one) and journaled, and a later attempt returns it
 * without running the effect. A failed step runs again on the next attempt.
 * `retry` retries it within the attempt; `timeout` bounds each try.
 *
 * A step runs at least once: exactly once, unless the process dies between
 * its effect and the journal write. A side effect that must never repeat
 * (a charge) should pass the external service an idempotency key made of
 * the run id and the step name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const step = <A, E, R>(
  name: string,
  effect: Effect.Effect<A, E, R>,
  options?: {
    readonly success?: Schema.Schema<A, any>
    readonly retry?: Schedule.Schedule<any, NoInfer<E> | StepTimeout>
    readonly timeout?: Duration.DurationInput
  }
): Effect.Effect<A, E | StepTimeout | StepResultInvalid | WorkflowChanged | DuplicateStep, R | Instance> =>
  Effect.gen(function*() {
    const wf = yield* current
    const at = yield* nextPosition
    const recorded = yield* wf.reach("step", name, at)
    if (recorded?.status === "succeeded") return yield* decode(name, options?.success, recorded.result)
    const startedAt = yield* Clock.currentTimeMillis
    let body: Effect.Effect<A, E | StepTimeout, R> = effect
    if (options?.timeout !== undefined) {
      const timeoutMs = Duration.toMillis(Duration.decode(options.timeout))
      body = Effect.timeoutFail(body, {
        duration: options.timeout,
        onTimeout: () => new StepTimeout({ step: name, timeoutMs })
      })
    }
    if (options?.retry !== undefined) body = Effect.retry(body, options.retry)
    const exit = yield* Effect.exit(body)
    const finishedAt = yield* Clock.currentTimeMillis
    const common = { name, kind: "step" as const, position: at, startedAt, finishedAt }
    if (Exit.isFailure(exit)) {
      if (!Exit.isInterrupted(exit) && suspensionOf(exit.cause) === undefined) {
        yield* wf.record({ ...common, status: "failed", error: storedError(toRunError(exit.cause)) })
      }
      return yield* exit
    }
    const result = yield* encode(name, options?.success, exit.value)
    yield* wf.record({ ...common, status: "succeeded", result })
    return exit.value
  })

/**
 * Waits until `instant` without holding a runner slot: the attempt ends and
 * the run is queued again for that instant. `name` defaults to the sleep's
 * position in the code.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sleepUntil = (
  instant: DateTime.DateTime | Date | number,
  options?: { readonly name?: string }
): Effect.Effect<void, WorkflowChanged | DuplicateStep, Instance> => durableSleep(() => toMillis(instant), options)

/**
 * Waits `duration` from the first time the code reaches this sleep, without
 * holding a runner slot (see `sleepUntil`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const sleep = (
  duration: Duration.DurationInput,
  options?: { readonly name?: string }
): Effect.Effect<void, WorkflowChanged | DuplicateStep, Instance> =>
  durableSleep((now) => now + Duration.toMillis(Duration.decode(duration)), options)

const toMillis = (instant: DateTime.DateTime | Date | number) =>
  typeof instant === "number" ? instant : instant instanceof Date ? instant.getTime() : DateTime.toEpochMillis(instant)

const durableSleep = (wakeAtFrom: (now: number) => number, options?: { readonly name?: string }) =>
  Effect.gen(function*() {
    const wf = yield* current
    const at = yield* nextPosition
    const name = options?.name ?? `sleep@${at}`
    const recorded = yield* wf.reach("sleep", name, at)
    if (recorded?.status === "succeeded") return
    const now = yield* Clock.currentTimeMillis
    const wakeAt = recorded?.wakeAt ?? wakeAtFrom(now)
    const common = { name, kind: "sleep" as const, position: at, startedAt: recorded?.startedAt ?? now, wakeAt }
    if (now >= wakeAt) {
      yield* wf.record({ ...common, status: "succeeded", finishedAt: now })
      return
    }
    if (recorded === undefined) yield* wf.record({ ...common, status: "waiting" })
    return yield* wf.wait(wakeAt)
  })

/**
 * Starts a run of `job` as this run's child and waits for its result without
 * holding a runner slot: the attempt ends, and the run wakes when the child
 * ends. The child is started once per workflow run (a later attempt finds it
 * in the journal), and is cancelled with its parent. `name` defaults to the
 * job's name and the child's position in the code.
 *
 * @since 0.1.0
 * @category constructors
 */
export const child = <P, A>(
  job: Job.Job<P, A, any, any>,
  payload: P,
  options?: { readonly name?: string }
): Effect.Effect<A, ChildFailed | InvalidPayload | StepResultInvalid | WorkflowChanged | DuplicateStep, Instance> =>
  Effect.gen(function*() {
    const wf = yield* current
    const at = yield* nextPosition
    const name = options?.name ?? `child:${job.name}@${at}`
    const recorded = yield* wf.reach("child", name, at)
    if (recorded === undefined) {
      const checked = yield* Payload.encode(job, payload)
      const now = yield* Clock.currentTimeMillis
      const traceparent = yield* Telemetry.currentTraceparent
      // started with the others this attempt reaches, when it ends waiting
      wf.unstarted.push({
        step: name,
        position: at,
        run: { jobName: job.name, payload: checked, runAt: now, scheduledFor: now, traceparent }
      })
      return yield* wf.wait(undefined)
    }
    // the child's error as journaled, or as its run holds it
    const ended = (record: StepRecord) => {
      const error = record.error ?? record.child?.error
      return new ChildFailed({
        step: name,
        childRunId: record.childRunId!,
        state: record.child?.state ?? "failed",
        ...(error === undefined ? {} : { error })
      })
    }
    if (recorded.status === "succeeded") return yield* decode(name, job.success, recorded.result)
    if (recorded.status === "failed") return yield* ended(recorded)
    const state = recorded.child?.state
    if (state === undefined || state === "queued" || state === "running") return yield* wf.wait(undefined)
    const now = yield* Clock.currentTimeMillis
    const child = recorded.child!
    if (state === "succeeded") {
      wf.resolve(wf.entry({ ...recorded, finishedAt: now, status: "succeeded", result: child.result }))
      return yield* decode(name, job.success, child.result)
    }
    wf.resolve(wf.entry({
      ...recorded,
      finishedAt: now,
      status: "failed",
      ...(child.error === undefined ? {} : { error: child.error })
    }))
    return yield* ended(recorded)
  })

/**
 * Waits for the signal `name`, sent to this run with `Scheduler.signal` from
 * any process, and decodes its value with `schema`; without holding a runner
 * slot. A signal sent before the workflow reaches this wait is kept for it.
 * With a `timeout` (counted from the first time the code reaches the wait),
 * the wait fails with `SignalTimeout`. Each signal name is received once per
 * run.
 *
 * @since 0.1.0
 * @category constructors
 */
export const signal = <A, I>(
  name: string,
  schema: Schema.Schema<A, I>,
  options?: { readonly timeout?: Duration.DurationInput }
): Effect.Effect<A, SignalTimeout | SignalInvalid | WorkflowChanged | DuplicateStep, Instance> =>
  Effect.gen(function*() {
    const wf = yield* current
    const at = yield* nextPosition
    const stepName = `signal:${name}`
    const timeoutMs = options?.timeout === undefined ? undefined : Duration.toMillis(Duration.decode(options.timeout))
    const received = (value: unknown) =>
      Effect.mapError(
        Schema.decodeUnknown(schema)(value),
        (error) => new SignalInvalid({ signal: name, reason: formatError(error) })
      )
    const timedOut = new SignalTimeout({ signal: name, timeoutMs: timeoutMs ?? 0 })
    let recorded = yield* wf.reach("signal", stepName, at)
    if (recorded?.status === "succeeded") return yield* received(recorded.result)
    if (recorded?.status === "failed") return yield* timedOut
    const now = yield* Clock.currentTimeMillis
    if (recorded === undefined) {
      recorded = yield* wf.record({
        name: stepName,
        kind: "signal",
        status: "waiting",
        position: at,
        startedAt: now,
        ...(timeoutMs === undefined ? {} : { wakeAt: now + timeoutMs })
      })
      // the signal came first: the store kept its value
      if (recorded.status === "succeeded") return yield* received(recorded.result)
    }
    if (recorded.wakeAt !== undefined && now >= recorded.wakeAt) {
      const stored = yield* wf.record({
        ...recorded,
        status: "failed",
        finishedAt: now,
        error: new RunError({ tag: timedOut._tag, message: timedOut.message, cause: "" }, true)
      })
      if (stored.status === "succeeded") return yield* received(stored.result)
      return yield* timedOut
    }
    return yield* wf.wait(recorded.wakeAt)
  })

/**
 * Runs workflow effects side by side (unbounded by default) and collects
 * their results in order. Unlike `Effect.all`, a branch that waits does not
 * stop the others: every branch reaches its step, child or wait before the
 * attempt ends waiting, so a fan-out of children starts them all at once. A
 * branch that fails fails the whole (after the others settle). Each branch
 * has its own positions, so the journal matches whatever order they run in.
 *
 * @since 0.1.0
 * @category constructors
 */
export const all = <A, E, R>(
  effects: Iterable<Effect.Effect<A, E, R>>,
  options?: { readonly concurrency?: number | "unbounded" }
): Effect.Effect<Array<A>, E, R | Instance> =>
  Effect.gen(function*() {
    const wf = yield* current
    const at = yield* nextPosition
    const exits = yield* Effect.forEach(
      Array.from(effects),
      (effect, i) => Effect.exit(Effect.locally(effect, position, { prefix: `${at}.${i}`, counter: { n: 0 } })),
      { concurrency: options?.concurrency ?? "unbounded" }
    )
    let waits = false
    for (const exit of exits) {
      if (Exit.isSuccess(exit)) continue
      if (suspensionOf(exit.cause) === undefined) return yield* Effect.failCause(exit.cause)
      waits = true
    }
    if (waits) return yield* wf.wait(undefined)
    return exits.map((exit) => (exit as Exit.Success<A, E>).value)
  })

/**
 * `all` over the items: `f` for each, side by side.
 *
 * @example
 * ```ts
 * const thumbnails = yield* Workflow.forEach(images, (image) => Workflow.child(resize, image))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const forEach = <X, A, E, R>(
  items: Iterable<X>,
  f: (item: X, index: number) => Effect.Effect<A, E, R>,
  options?: { readonly concurrency?: number | "unbounded" }
): Effect.Effect<Array<A>, E, R | Instance> => all(Array.from(items, f), options)
