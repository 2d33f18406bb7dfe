/**
 * A whole deployment on one machine: one scheduler process and two worker
 * processes against one PostgreSQL (DATABASE_URL, schema CLOCKWORK_SCHEMA),
 * their output prefixed with the time and the role.
 *
 *   npm run multinode -w examples                    # 20 seconds
 *   npm run multinode -w examples -- --seconds 60
 *   npm run multinode -w examples -- --forever       # until Ctrl-C
 *
 * When the time is up it stops the scheduler, lets the workers drain the
 * queue, stops them (SIGTERM: a graceful shutdown) and prints, from the run
 * history, what each worker ran. On Ctrl-C or SIGTERM every process stops at
 * once; runs still queued stay in the store for the next start.
 */
import { JobStore } from "@clockwork/core"
import {
  Cause,
  Clock,
  Console,
  DateTime,
  Deferred,
  Duration,
  Effect,
  Exit,
  Logger,
  Option,
  Stream
} from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import * as Deployment from "./deployment.js"
import { purgeSessionsScheduleId } from "./jobs.js"

const usage = "usage: main.ts [--seconds N | --forever]"
const args = process.argv.slice(2)
const forever = args.includes("--forever")
const secondsAt = args.indexOf("--seconds")
const runFor = Duration.seconds(secondsAt === -1 ? 20 : Number(args[secondsAt + 1]))
if (!Duration.isFinite(runFor) || Duration.toMillis(runFor) <= 0) throw new Error(usage)

const workerIds = ["worker-1", "worker-2"]
/** how long the workers get to drain the queue after the scheduler stopped */
const drainTimeout = Duration.seconds(30)
/** how long a process gets to exit after SIGTERM before it is killed */
const stopTimeout = Duration.seconds(20)
/** how long the processes get to start */
const startTimeout = Duration.seconds(60)

const script = (name: string) => fileURLToPath(new URL(`./${name}.ts`, import.meta.url))
const time = (millis: number) => DateTime.formatIso(DateTime.unsafeMake(millis)).slice(11, 23)

const prefixed = (at: number, role: string, line: string) => `${time(at)} ${role.padEnd(9)} | ${line}`

/** The launcher's own lines, as the lines of its processes. */
const Log = Logger.replace(
  Logger.defaultLogger,
  Logger.make((options) =>
    globalThis.console.log(prefixed(options.date.getTime(), "launcher", Deployment.format.log(options)))
  )
)

interface Child {
  readonly role: string
  readonly process: ChildProcess
  /** when its layers are built (it says so over the IPC channel) */
  readonly ready: Deferred.Deferred<void>
  /** the exit code, or the signal that ended it */
  readonly exited: Deferred.Deferred<number | string>
}

const lines = (input: Readable) =>
  Stream.async<string>((emit) => {
    const reader = createInterface({ input })
    reader.on("line", (line) => emit.single(line))
    reader.on("close", () => emit.end())
  })

/** Asks a process to stop (SIGTERM), kills it if it has not exited in time; returns how it ended. */
const stop = (child: Child) =>
  Effect.gen(function*() {
    if (!(yield* Deferred.isDone(child.exited))) child.process.kill("SIGTERM")
    return yield* Deferred.await(child.exited).pipe(
      Effect.timeout(stopTimeout),
      Effect.catchTag("TimeoutException", () => {
        child.process.kill("SIGKILL")
        return Deferred.await(child.exited)
      })
    )
  })

/** Starts a role's process; its output goes to ours, a line at a time, after the time and the role. */
const start = (role: string, name: "scheduler" | "worker", env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const ready = yield* Deferred.make<void>()
      const exited = yield* Deferred.make<number | string>()
      const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", script(name)], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe", "ipc"]
      })
      child.on("message", (message) => message === "ready" && Deferred.unsafeDone(ready, Exit.void))
      child.once("error", (error) => Deferred.unsafeDone(exited, Exit.succeed(String(error))))
      child.once("exit", (code, signal) => Deferred.unsafeDone(exited, Exit.succeed(code ?? signal ?? "?")))
      yield* Stream.merge(lines(child.stdout!), lines(child.stderr!)).pipe(
        Stream.runForEach((line) =>
          Effect.flatMap(Clock.currentTimeMillis, (at) => Console.log(prefixed(at, role, line)))
        ),
        Effect.forkScoped
      )
      return { role, process: child, ready, exited } satisfies Child
    }),
    stop
  )

/** Completes when the process gets SIGINT (Ctrl-C) or SIGTERM. */
const signal = Effect.async<NodeJS.Signals>((resume) => {
  const on = (signal: NodeJS.Signals) => resume(Effect.succeed(signal))
  process.once("SIGINT", on)
  process.once("SIGTERM", on)
  return Effect.sync(() => {
    process.off("SIGINT", on)
    process.off("SIGTERM", on)
  })
})

const unexpectedExit = (child: Child) =>
  Effect.flatMap(Deferred.await(child.exited), (how) => Effect.fail(new Error(`${child.role} exited (${how})`)))

/** Polls until no run is queued or running. */
const drained = Effect.gen(function*() {
  const store = yield* JobStore.JobStore
  while ((yield* store.listRuns({ state: ["queued", "running"], limit: 1 })).length > 0) {
    yield* Effect.sleep("200 millis")
  }
})

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}

const groupBy = <A>(items: ReadonlyArray<A>, key: (a: A) => string) => {
  const groups = new Map<string, Array<A>>()
  for (const item of items) {
    const group = groups.get(key(item))
    if (group === undefined) groups.set(key(item), [item])
    else group.push(item)
  }
  return groups
}

const count = <A>(items: ReadonlyArray<A>, key: (a: A) => string) => {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return counts
}

/** What this session did, from the store: runs per worker by status and job, and the checks a deployment must pass. */
const summary = (since: number) =>
  Effect.gen(function*() {
    const store = yield* JobStore.JobStore
    const history = (yield* store.history({ from: since, limit: 100_000 })).filter((r) => r.workerId !== undefined)
    const runs = (yield* store.listRuns({ limit: 100_000 })).filter((r) =>
      DateTime.toEpochMillis(r.createdAt) >= since
    )

    const statuses = [...new Set(history.map((r) => r.status))].sort()
    const jobNames = [...new Set(history.map((r) => r.jobName))].sort()
    const byWorker = groupBy(history, (r) => r.workerId!)
    const rows = [...byWorker].sort(([a], [b]) => a.localeCompare(b)).map(([worker, records]) => {
      const byStatus = count(records, (r) => r.status)
      const byJob = count(records, (r) => r.jobName)
      return [
        worker,
        String(records.length),
        ...statuses.map((s) => String(byStatus.get(s) ?? 0)),
        ...jobNames.map((j) => String(byJob.get(j) ?? 0))
      ]
    })
    yield* Console.log(`\nruns per worker this session (from the run history)\n${
      table(["worker", "attempts", ...statuses, ...jobNames], rows)
    }`)

    const attempts = count(history, (r) => r.runId)
    const ranTwice = [...attempts.values()].filter((n) => n > 1).length
    const states = count(runs, (r) => r.state)
    const ticks = runs.filter((r) => r.scheduleId === purgeSessionsScheduleId)
    const tickTimes = count(ticks, (r) => DateTime.formatIso(r.scheduledFor).slice(11, 19))
    const firedTwice = [...tickTimes.values()].filter((n) => n > 1).length
    const tickList = ticks.length === 0 ? "" : ` (${[...tickTimes.keys()].sort().join(", ")} UTC)`
    const tickCheck = firedTwice === 0 ? "each fired once" : `${firedTwice} fired more than once`
    yield* Console.log(
      [
        `\nenqueued this session: ${runs.length} runs` +
        (runs.length === 0 ? "" : `; ${[...states].map(([state, n]) => `${n} ${state}`).join(", ")}`),
        `runs with more than one attempt: ${ranTwice}`,
        `${purgeSessionsScheduleId} ticks: ${ticks.length}${tickList}` + (ticks.length === 0 ? "" : `, ${tickCheck}`)
      ].join("\n")
    )
  })

const main = Effect.gen(function*() {
  const schema = yield* Deployment.schema
  const since = yield* Clock.currentTimeMillis
  yield* Console.log(
    `clockwork on several machines, on one: a scheduler and ${workerIds.length} workers on PostgreSQL, ` +
      `schema ${schema}; ` +
      (forever ? "Ctrl-C stops it" : `for ${Duration.format(runFor)} (--forever keeps it running)`)
  )
  const env = { CLOCKWORK_SCHEMA: schema }
  const scheduler = yield* start("scheduler", "scheduler", env)
  const workers = yield* Effect.forEach(workerIds, (id) => start(id, "worker", { ...env, WORKER_ID: id }))
  const all = [scheduler, ...workers]
  const exits = Effect.raceAll(all.map(unexpectedExit))

  // the run time counts from when every process is up
  const started = Effect.as(Effect.forEach(all, (child) => Deferred.await(child.ready)), Option.none())
  let stopped = yield* Effect.raceAll([started, Effect.map(signal, Option.some), exits]).pipe(
    Effect.timeoutFail({ duration: startTimeout, onTimeout: () => new Error("the processes did not start in time") })
  )
  if (Option.isNone(stopped)) {
    yield* Effect.log(`all ${all.length} processes are up`)
    const timeUp: Effect.Effect<Option.Option<NodeJS.Signals>> = forever
      ? Effect.never
      : Effect.as(Effect.sleep(runFor), Option.none())
    stopped = yield* Effect.raceAll([timeUp, Effect.map(signal, Option.some), exits])
  }

  if (Option.isSome(stopped)) {
    yield* Effect.log(`${stopped.value}: stopping every process`)
    yield* Effect.forEach(all, stop, { concurrency: "unbounded" })
  } else {
    yield* Effect.log("time is up: stopping the scheduler, then the workers once the queue is drained")
    const schedulerExit = yield* stop(scheduler)
    yield* Effect.log(`the scheduler exited (${schedulerExit})`)
    yield* drained.pipe(
      Effect.raceFirst(Effect.raceAll(workers.map(unexpectedExit))),
      Effect.timeoutFail({ duration: drainTimeout, onTimeout: () => new Error("the workers did not drain the queue") })
    )
    yield* Effect.log("the queue is drained")
    const workerExits = yield* Effect.forEach(workers, stop, { concurrency: "unbounded" })
    yield* Effect.log(`the workers exited (${workerExits.join(", ")})`)
    if ([schedulerExit, ...workerExits].some((how) => how !== 0)) {
      return yield* Effect.fail(new Error(`processes exited with ${[schedulerExit, ...workerExits].join(", ")}`))
    }
  }
  yield* summary(since)
})

const fiber = Effect.runFork(
  main.pipe(Effect.scoped, Effect.provide(Deployment.Store("clockwork-launcher")), Effect.provide(Log))
)
fiber.addObserver((exit) => {
  if (Exit.isFailure(exit)) {
    globalThis.console.error(Cause.pretty(exit.cause))
    process.exitCode = 1
  }
})
