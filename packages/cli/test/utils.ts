/**
 * Runs the built `clockwork` binary as a child process, and fills a store
 * through the public API with runs that succeeded, died and wait.
 */
import { Clockwork, type JobStore, Scheduler, Trigger } from "@clockwork/core"
import { Job } from "@clockwork/core"
import { Effect, Layer, Schedule, Schema } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const hasDatabase = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ""

const bin = fileURLToPath(new URL("../dist/src/bin.js", import.meta.url))

/** What one run of the binary did. */
export interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** stdout parsed as JSON (for --json) */
  readonly json: () => any
}

/** Runs `clockwork ...args`; `env` is added to this process's (a value of undefined removes a variable). */
export const clockwork = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}) =>
  Effect.async<Result>((resume) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += String(chunk)))
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.once("close", (code) =>
      resume(Effect.succeed({
        code,
        stdout,
        stderr,
        json: () => {
          try {
            return JSON.parse(stdout)
          } catch {
            throw new Error(`not JSON (exit ${code}): ${stdout}\n${stderr}`)
          }
        }
      })))
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(Effect.timeoutFail({
    duration: "150 seconds",
    onTimeout: () => new Error(`clockwork ${args.join(" ")} did not finish`)
  }))

class CardDeclined extends Schema.TaggedError<CardDeclined>()("CardDeclined", { order: Schema.Number }) {
  override get message() {
    return `the card for order ${this.order} was declined`
  }
}

/** Succeeds with whom it sent to. */
export const sendEmail = Job.make({
  name: "send-email",
  payload: Schema.Struct({ to: Schema.String }),
  success: Schema.Struct({ sentTo: Schema.String }),
  run: ({ to }) => Effect.succeed({ sentTo: to })
})

/** Always fails: two attempts, then dead. */
export const chargeCard = Job.make({
  name: "charge-card",
  payload: Schema.Struct({ order: Schema.Number }),
  retry: Schedule.recurs(1),
  run: ({ order }) => Effect.fail(new CardDeclined({ order }))
})

/** Runs until interrupted. */
export const slowReport = Job.make({
  name: "slow-report",
  payload: Schema.Struct({}),
  timeout: "5 minutes",
  run: () => Effect.never
})

/** The worker of these jobs, in this process. */
export const worker = (workerId: string) =>
  Clockwork.layerWorker([sendEmail, chargeCard, slowReport], {
    runner: { workerId, concurrency: 4, shutdownGrace: 0 }
  })

/**
 * Through the public API, with a worker in this process: a schedule, a run
 * that succeeded, one that died after two attempts, one queued for tomorrow.
 */
export const populate = (store: Layer.Layer<JobStore.JobStore, unknown>) =>
  Effect.gen(function*() {
    yield* Scheduler.schedule("hourly-digest", sendEmail, {
      trigger: Trigger.every("1 hour"),
      payload: { to: "digest@example.com" }
    })
    const succeeded = yield* Scheduler.enqueue(sendEmail, { to: "ada@example.com" })
    const dead = yield* Scheduler.enqueue(chargeCard, { order: 42 })
    const later = yield* Scheduler.enqueue(sendEmail, { to: "later@example.com" }, { delay: "1 day" })
    yield* Scheduler.result(succeeded)
    yield* Effect.flip(Scheduler.result(dead))
    return { succeeded: succeeded.id, dead: dead.id, later: later.id }
  }).pipe(Effect.provide(worker("populate").pipe(Layer.provide(store))))
