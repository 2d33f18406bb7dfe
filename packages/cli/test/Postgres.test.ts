/**
 * The built binary against PostgreSQL: the reasons a connection fails, and
 * the commands on a fresh schema while a worker of the test process runs the
 * jobs (a run enqueued from the shell is executed with its payload).
 */
import { Clockwork, Scheduler, Trigger, Workflow } from "@clockwork/core"
import { PgStore } from "@clockwork/pg"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Config, Duration, Effect, Layer, Schema } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { clockwork, hasDatabase, sendEmail, worker } from "./utils.js"

const bin = fileURLToPath(new URL("../dist/src/bin.js", import.meta.url))

const url = process.env.DATABASE_URL ?? ""
const client = PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") })

/** A URL to the same server with another path or user. */
const variant = (change: (url: URL) => void) => {
  const u = new URL(url)
  change(u)
  return u.toString()
}

const freshSchema = () => `cw_cli_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`

/** Polls until `check` holds. */
const until = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>, check: (a: A) => boolean) =>
  Effect.gen(function*() {
    for (;;) {
      const value = yield* effect
      if (check(value)) return value
      yield* Effect.sleep("100 millis")
    }
  }).pipe(Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error(`timed out waiting for ${what}`) }))

describe.runIf(hasDatabase)("clockwork on PostgreSQL", () => {
  it.live("says why a store cannot be opened", () =>
    Effect.gen(function*() {
      // the URL as messages show it: without its password
      const shown = (u: string) => {
        const parsed = new URL(u)
        return `${parsed.protocol}//${parsed.username === "" ? "" : `${parsed.username}@`}${parsed.host}${parsed.pathname}`
      }
      const noDatabase = variant((u) => (u.pathname = "/clockwork_no_such_db"))
      const refused = variant((u) => (u.port = "1"))
      const noRole = variant((u) => (u.username = "clockwork_no_such_role"))
      // one process after another (the default): the machine has 2 cores, shared with the other suites
      const [database, connection, role, mysql, garbage, both, unmigrated] = yield* Effect.all([
        clockwork(["status", "--database-url", noDatabase]),
        clockwork(["status"], { DATABASE_URL: refused }),
        clockwork(["runs", "--database-url", noRole]),
        clockwork(["status", "--database-url", "mysql://root@127.0.0.1/app"]),
        clockwork(["status", "--database-url", "not a url"]),
        clockwork(["status", "--database-url", url, "--data-dir", "/tmp/x"]),
        clockwork(["status", "--schema", "cw_cli_never_migrated"])
      ])

      expect([database.code, connection.code, role.code, mysql.code, garbage.code, both.code, unmigrated.code])
        .toEqual([3, 3, 3, 3, 3, 2, 3])
      expect(database.stderr).toBe(
        `clockwork: cannot connect to ${shown(noDatabase)}: database "clockwork_no_such_db" does not exist\n`
      )
      expect(connection.stderr).toContain(`cannot connect to ${shown(refused)}: connection refused`)
      expect(role.stderr).toContain(`role "clockwork_no_such_role" does not exist`)
      expect(mysql.stderr).toContain("the database URL mysql://root@127.0.0.1/app is a mysql URL")
      expect(garbage.stderr).toContain("does not parse as a URL")
      expect(both.stderr).toContain("give --database-url or --data-dir, not both")
      expect(unmigrated.stderr).toContain(`the schema "cw_cli_never_migrated" has no clockwork tables`)
      // the password never shows
      const withPassword = yield* clockwork(["status", "--database-url", variant((u) => {
        u.password = "hunter2"
        u.pathname = "/clockwork_no_such_db"
      })])
      expect(withPassword.stderr).not.toContain("hunter2")
    }))

  it.live("shows and steers the jobs of a schema that a worker runs", () =>
    Effect.gen(function*() {
      const schema = freshSchema()
      const sql = yield* SqlClient.SqlClient
      yield* Effect.addFinalizer(() => Effect.orDie(sql`drop schema if exists ${sql(schema)} cascade`))
      const store = ["--schema", schema]

      const migrated = yield* clockwork(["migrate", ...store])
      expect(migrated.code).toBe(0)
      expect(migrated.stdout).toMatch(new RegExp(`^schema ${schema}: applied 1 create_tables`))
      const again = yield* clockwork(["migrate", ...store, "--json"])
      expect(again.json().applied).toEqual([])

      // a worker in this process, sharing the schema with the CLI's processes
      const context = yield* Layer.build(worker("test-worker").pipe(Layer.provide(PgStore.layer({ schema, migrate: false }))))
      const inApp = <A, E>(effect: Effect.Effect<A, E, Scheduler.Scheduler>) => Effect.provide(effect, context)

      const status = (yield* clockwork(["status", ...store, "--json"])).json()
      expect(status.workers).toMatchObject([
        { id: "test-worker", concurrency: 4, jobs: ["charge-card", "send-email", "slow-report"] }
      ])

      // enqueued from the shell, run by the worker with the payload as given
      const enqueued = (yield* clockwork([
        "enqueue",
        "send-email",
        "--payload",
        `{"to":"grace@example.com"}`,
        ...store,
        "--json"
      ])).json()
      // the worker may have run it already by the time the CLI reads it back
      expect(enqueued).toMatchObject({ job: "send-email", payload: { to: "grace@example.com" } })
      expect(["queued", "running", "succeeded"]).toContain(enqueued.state)
      const done = yield* until("the enqueued run", inApp(Scheduler.getRun(enqueued.id)), (r) => r.state === "succeeded")
      expect(done.result).toEqual({ sentTo: "grace@example.com" })

      const detail = yield* clockwork(["run", enqueued.id, ...store])
      expect(detail.stdout).toContain("state:    succeeded")
      expect(detail.stdout).toContain(`result:   {"sentTo":"grace@example.com"}`)
      expect(detail.stdout).toMatch(/\n1\s+succeeded\s+\d{4}-\d\d-\d\d [\d:.]+Z\s+\d+ms\s+test-worker/)

      // before the forced run below makes the name known
      const typo = yield* clockwork(["enqueue", "send-emial", ...store])
      // a dedup key held by a queued run hands that run back, and says so
      const keyed = ["enqueue", "send-email", "--payload", `{"to":"once@example.com"}`, "--key", "once", "--delay", "1 hour", ...store]
      const [firstKeyed, secondKeyed] = yield* Effect.all([clockwork(keyed), clockwork(keyed)])
      expect(firstKeyed.stdout).toMatch(/^queued run \S+ of send-email, due /)
      expect(secondKeyed.stdout).toMatch(/^run \S+ of send-email with key once is already queued/)
      const [forced, delayed, badDelay, badPayload, unknownRun, succeededAgain] = yield* Effect.all([
        clockwork(["enqueue", "send-emial", "--force", ...store, "--json"]),
        clockwork(["enqueue", "send-email", "--payload", `{"to":"later@example.com"}`, "--delay", "10 minutes", ...store, "--json"]),
        clockwork(["enqueue", "send-email", "--delay", "soon", ...store]),
        clockwork(["enqueue", "send-email", "--payload", "{to:", ...store]),
        clockwork(["run", "0190a0a0-0000-7000-8000-000000000000", ...store]),
        clockwork(["retry", enqueued.id, ...store])
      ])
      expect(typo.code).toBe(4)
      expect(typo.stderr).toContain(`no job is named "send-emial"`)
      expect(typo.stderr).toContain("known jobs: charge-card, send-email, slow-report")
      expect(forced.code).toBe(0)
      expect(forced.json()).toMatchObject({ job: "send-emial", state: "queued" })
      const runAt = Date.parse(delayed.json().runAt)
      expect(runAt - Date.parse(delayed.json().createdAt)).toBe(Duration.toMillis("10 minutes"))
      expect(badDelay.code).toBe(2)
      expect(badDelay.stderr).toContain("delay: soon is not a valid interval")
      expect(badPayload.code).toBe(2)
      expect(badPayload.stderr).toContain(`--payload: "{to:" is not JSON`)
      expect(unknownRun.code).toBe(4)
      expect(unknownRun.stderr).toContain(`no run has the id "0190a0a0-0000-7000-8000-000000000000"`)
      expect(succeededAgain.code).toBe(5)
      expect(succeededAgain.stderr).toContain("is succeeded: only a run that ended dead, failed, timed_out or cancelled")

      // a running run is interrupted by the worker that holds it, here the test process's
      const slow = (yield* clockwork(["enqueue", "slow-report", ...store, "--json"])).json()
      yield* until("the slow run to start", inApp(Scheduler.getRun(slow.id)), (r) => r.state === "running")
      const cancel = yield* clockwork(["cancel", slow.id, ...store, "--json"])
      expect(cancel.code).toBe(0)
      expect(cancel.json()).toMatchObject({ id: slow.id, state: "cancelled" })
      expect((yield* inApp(Scheduler.getRun(slow.id))).state).toBe("cancelled")
      const running = (yield* clockwork(["enqueue", "slow-report", ...store, "--json"])).json()
      yield* until("the second slow run to start", inApp(Scheduler.getRun(running.id)), (r) => r.state === "running")

      // schedules: listed, triggered now (the worker runs it), removed
      yield* inApp(Scheduler.schedule("nightly-digest", sendEmail, {
        trigger: Trigger.cron("0 3 * * *", { timeZone: "Europe/Berlin" }),
        payload: { to: "night@example.com" }
      }))
      const schedules = yield* clockwork(["schedules", ...store])
      expect(schedules.stdout).toMatch(/nightly-digest\s+send-email\s+cron 0 3 \* \* \* \(Europe\/Berlin\)\s+\d{4}-/)
      const triggered = (yield* clockwork(["schedules", "trigger", "nightly-digest", ...store, "--json"])).json()
      expect(triggered).toMatchObject({ job: "send-email", scheduleId: "nightly-digest", payload: { to: "night@example.com" } })
      const ran = yield* until("the triggered run", inApp(Scheduler.getRun(triggered.id)), (r) => r.state === "succeeded")
      expect(ran.result).toEqual({ sentTo: "night@example.com" })
      const removed = yield* clockwork(["schedules", "--json", ...store, "remove", "nightly-digest"])
      expect(removed.json()).toEqual({ removed: "nightly-digest" })
      const gone = yield* clockwork(["schedules", "pause", "nightly-digest", ...store])
      expect(gone.code).toBe(4)
      expect(gone.stderr).toBe(`clockwork: no schedule has the id "nightly-digest"\n`)

      const succeeded = (yield* clockwork([
        "runs",
        "--job",
        "send-email",
        "--status",
        "succeeded",
        "--since",
        "1 hour",
        ...store,
        "--json"
      ])).json()
      expect(succeeded.runs.map((r: any) => r.id)).toEqual([triggered.id, enqueued.id])
      const table = yield* clockwork(["runs", "--status", "queued", "--status", "running", ...store])
      expect(table.stdout.split("\n").slice(0, 2).join("\n")).toMatch(/^id\s+job\s+state\s+attempt\s+run at \(UTC\)\s+error\n-+/)
      expect(table.stdout).toContain(running.id)
      expect(table.stdout).not.toContain(slow.id)
      expect(table.stdout).not.toContain(enqueued.id)
    }).pipe(Effect.scoped, Effect.provide(client)))
  it.live("serves the dashboard over a schema until stopped", () =>
    Effect.gen(function*() {
      const schema = freshSchema()
      const sql = yield* SqlClient.SqlClient
      yield* Effect.addFinalizer(() => Effect.orDie(sql`drop schema if exists ${sql(schema)} cascade`))
      expect((yield* clockwork(["migrate", "--schema", schema])).code).toBe(0)
      const child = spawn(process.execPath, [bin, "dashboard", "--port", "0", "--schema", schema], {
        env: { ...process.env, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"]
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
      let output = ""
      child.stdout.on("data", (chunk) => (output += String(chunk)))
      child.stderr.on("data", (chunk) => (output += String(chunk)))
      const address = yield* until("the dashboard's address", Effect.sync(() => /dashboard on (http:\S+)/.exec(output)), (m) => m !== null)
      const response = yield* Effect.promise(() => fetch(new URL("/api/workers", address![1])))
      expect(response.status).toBe(200)
      expect(yield* Effect.promise(() => response.json())).toEqual([])
      child.kill("SIGTERM")
      const code = yield* Effect.async<number | null>((resume) => {
        if (child.exitCode !== null) return resume(Effect.succeed(child.exitCode))
        child.once("exit", (exit) => resume(Effect.succeed(exit)))
      }).pipe(Effect.timeout("30 seconds"))
      // stopped by a signal, as intended: exit 0
      expect(code, output).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(client)), 120_000)

  it.live("shows a workflow run's steps and delivers a signal to it", () =>
    Effect.gen(function*() {
      const schema = freshSchema()
      const sql = yield* SqlClient.SqlClient
      yield* Effect.addFinalizer(() => Effect.orDie(sql`drop schema if exists ${sql(schema)} cascade`))
      const store = ["--schema", schema]
      const approval = Workflow.make({
        name: "approval",
        payload: Schema.Struct({}),
        success: Schema.String,
        run: () =>
          Effect.gen(function*() {
            const invoice = yield* Workflow.step("draft", Effect.succeed("inv-7"), { success: Schema.String })
            const by = yield* Workflow.signal("approved", Schema.Struct({ by: Schema.String }))
            return `${invoice} approved by ${by.by}`
          })
      })
      const context = yield* Layer.build(
        Clockwork.layerWorker([approval], { runner: { workerId: "wf-worker", shutdownGrace: 0 } }).pipe(
          Layer.provideMerge(PgStore.layer({ schema }))
        )
      )
      const inApp = <A, E>(effect: Effect.Effect<A, E, Scheduler.Scheduler>) => Effect.provide(effect, context)
      const handle = yield* inApp(Scheduler.enqueue(approval, {}))
      // waiting once its wait is journaled and its attempt has ended (the run queued again): two statements
      yield* until(
        "the workflow to wait",
        inApp(Effect.all([Scheduler.steps(handle.id), Scheduler.getRun(handle.id)])),
        ([steps, run]) => steps.length === 2 && run.state === "queued"
      )

      const waiting = yield* clockwork(["run", handle.id, ...store])
      expect(waiting.stdout).toContain("when woken: a child ends or a signal comes")
      expect(waiting.stdout).toMatch(/\ndraft\s+step\s+succeeded\s+1\s/)
      expect(waiting.stdout).toMatch(/\nsignal:approved\s+signal\s+waiting\s+1\s/)
      const json = (yield* clockwork(["run", handle.id, ...store, "--json"])).json()
      expect(json.steps.map((s: any) => [s.name, s.status, s.result])).toEqual([
        ["draft", "succeeded", "inv-7"],
        ["signal:approved", "waiting", null]
      ])

      const [badValue, sent] = yield* Effect.all([
        clockwork(["signal", handle.id, "approved", "--value", "{by:", ...store]),
        clockwork(["signal", handle.id, "approved", "--value", `{"by":"grace"}`, ...store])
      ])
      expect(badValue.code).toBe(2)
      expect(badValue.stderr).toContain("--value")
      expect(sent.code, sent.stderr).toBe(0)
      expect(sent.stdout).toContain(`signal "approved" delivered to run ${handle.id}`)
      expect(yield* inApp(Scheduler.result(handle))).toBe("inv-7 approved by grace")
      const late = yield* clockwork(["signal", handle.id, "approved", "--value", `{"by":"ada"}`, ...store])
      expect(late.code).toBe(5)
      expect(late.stderr).toContain("has already ended")
    }).pipe(Effect.scoped, Effect.provide(client)), 120_000)
})
