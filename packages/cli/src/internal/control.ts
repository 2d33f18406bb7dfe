/**
 * `clockwork enqueue`, `cancel`, `retry` and `signal`: change what runs. The CLI has no
 * job definitions, so a payload is stored as the JSON given (the form the
 * job's payload Schema encodes to) and checked by the worker that runs it.
 */
import { Job, JobStore, Scheduler } from "@clockwork/core"
import { Args, Command, Options } from "@effect/cli"
import { Clock, Effect, Option, Schema } from "effect"
import { runId, withStore } from "./command.js"
import { InvalidArgument, Refused, UnknownJob } from "./errors.js"
import * as Json from "./json.js"
import { instant, print, relative } from "./output.js"
import * as Store from "./store.js"

/** A job is known when a live worker registers it, or a schedule or a run names it. */
const checkJob = (name: string) =>
  Effect.gen(function*() {
    const store = yield* JobStore.JobStore
    const known = new Set([
      ...(yield* Scheduler.workers).flatMap((w) => w.info.jobs),
      ...(yield* Scheduler.schedules).map((s) => s.jobName)
    ])
    if (known.has(name)) return
    if ((yield* store.listRuns({ jobName: name, limit: 1 })).length > 0) return
    if ((yield* store.history({ jobName: name, limit: 1 })).length > 0) return
    return yield* new UnknownJob({ name, known: [...known].sort() })
  })

const parseJson = (option: string, text: string) =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (error) =>
      new InvalidArgument({
        option,
        value: text,
        reason: `is not JSON (${error instanceof Error ? error.message : String(error)})`
      })
  })

const enqueue = Command.make("enqueue", {
  job: Args.text({ name: "job" }).pipe(Args.withDescription("the job's name")),
  payload: Options.text("payload").pipe(
    Options.withDescription("the payload as JSON, as the job's payload Schema encodes it"),
    Options.withDefault("{}")
  ),
  at: Options.text("at").pipe(Options.withDescription("run at this instant (ISO 8601)"), Options.optional),
  delay: Options.text("delay").pipe(Options.withDescription("run after this delay (\"10 minutes\")"), Options.optional),
  priority: Options.integer("priority").pipe(Options.withDescription("higher runs first (default 0)"), Options.optional),
  key: Options.text("key").pipe(
    Options.withDescription("a dedup key: while a run with this key is queued or running, that run is returned"),
    Options.optional
  ),
  force: Options.boolean("force").pipe(Options.withDescription("enqueue even a job name nothing in the store knows")),
  store: Store.options
}, (args) =>
  withStore(args.store, () =>
    Effect.gen(function*() {
      if (Option.isSome(args.at) && Option.isSome(args.delay)) {
        return yield* new InvalidArgument({ option: "--at", value: args.at.value, reason: "and --delay exclude each other" })
      }
      const payload = yield* parseJson("--payload", args.payload)
      if (!args.force) yield* checkJob(args.job)
      // a stand-in for the job: the scheduler checks --at and --delay and stores the payload as given
      const job = Job.make({ name: args.job, payload: Schema.Unknown, run: () => Effect.void })
      const before = yield* Clock.currentTimeMillis
      const handle = yield* Scheduler.enqueue(job, payload, {
        ...(Option.isSome(args.at) ? { at: args.at.value } : {}),
        ...(Option.isSome(args.delay) ? { delay: args.delay.value as `${number} minutes` } : {}),
        ...(Option.isSome(args.priority) ? { priority: args.priority.value } : {}),
        ...(Option.isSome(args.key) ? { key: args.key.value } : {})
      })
      const run = yield* Scheduler.getRun(handle.id)
      const now = yield* Clock.currentTimeMillis
      // a worker may have taken the new run already; only a dedup key can hand back an older one
      const existed = run.key !== undefined && run.createdAt.epochMillis < before
      yield* print(args.store.json, Json.run(run), () =>
        existed
          ? `run ${run.id} of ${run.jobName} with key ${run.key} is already ${run.state}`
          : `queued run ${run.id} of ${run.jobName}, due ${instant(run.runAt)} (${relative(run.runAt, now)})` +
            (run.state === "queued" ? "" : `; it is ${run.state} already`))
    }))).pipe(Command.withDescription("queues a run of a job: now, --at an instant or after --delay"))

const cancel = Command.make("cancel", {
  id: Args.text({ name: "id" }).pipe(Args.withDescription("the run's id")),
  store: Store.options
}, ({ id, store }) =>
  withStore(store, () =>
    Effect.gen(function*() {
      const outcome = yield* Scheduler.cancel(runId(id))
      if (outcome !== "cancelled") {
        const run = yield* Scheduler.getRun(runId(id))
        return yield* new Refused({
          reason: outcome === "running"
            ? `run ${run.id} is still running${run.workerId === undefined ? "" : ` on worker ${run.workerId}`}: ` +
              `its cancellation is requested, and that worker interrupts it when it hears of it`
            : `run ${run.id} has already ended: ${run.state}`
        })
      }
      const run = yield* Scheduler.getRun(runId(id))
      yield* print(store.json, Json.run(run), () => `cancelled run ${run.id} of ${run.jobName}`)
    }))).pipe(Command.withDescription("cancels a run: a queued one at once, a running one through the worker that holds it"))

const retry = Command.make("retry", {
  id: Args.text({ name: "id" }).pipe(Args.withDescription("the id of a run that ended dead, failed, timed out or cancelled")),
  store: Store.options
}, ({ id, store }) =>
  withStore(store, () =>
    Effect.gen(function*() {
      const queued = yield* Scheduler.retry(runId(id))
      yield* print(
        store.json,
        { retried: runId(id), run: Json.run(queued) },
        () => `run ${id} of ${queued.jobName} queued again as run ${queued.id}, due now`
      )
    }))).pipe(Command.withDescription("queues a run that ended dead (or failed, timed out, cancelled) again, as a new run"))

const signal = Command.make("signal", {
  id: Args.text({ name: "id" }).pipe(Args.withDescription("the id of a workflow run")),
  name: Args.text({ name: "name" }).pipe(Args.withDescription("the signal's name, as the workflow waits for it")),
  value: Options.text("value").pipe(
    Options.withDescription("the signal's value, as JSON (checked by the workflow's Schema when it receives it)"),
    Options.withDefault("null")
  ),
  store: Store.options
}, ({ id, name, store, value }) =>
  withStore(store, () =>
    Effect.gen(function*() {
      const parsed = yield* parseJson("--value", value)
      const outcome = yield* Scheduler.signal(runId(id), name, parsed)
      if (outcome !== "delivered") {
        return yield* new Refused({
          reason: outcome === "duplicate"
            ? `run ${id} already has a value for signal "${name}"; it keeps the first`
            : outcome === "expired"
            ? `run ${id} stopped waiting for signal "${name}": its wait timed out`
            : `run ${id} has already ended`
        })
      }
      yield* print(store.json, { runId: id, signal: name, value: parsed, outcome }, () =>
        `signal "${name}" delivered to run ${id}: it resumes if it waits for it, or finds it when it does`)
    }))).pipe(Command.withDescription("sends a signal (with --value JSON) to a workflow run waiting for it, from anywhere"))

export const commands = [enqueue, cancel, retry, signal] as const
