/**
 * `clockwork runs`: runs newest first, filtered by job, state and age, a
 * page at a time; `clockwork run <id>`: one run with every attempt and its
 * errors, and a workflow run's steps.
 */
import { JobStore, Journal, Run, Scheduler } from "@clockwork/core"
import { Args, Command, Options } from "@effect/cli"
import { DateTime, Effect, Option } from "effect"
import { instantOrAgo, runId, withStore } from "./command.js"
import { InvalidArgument } from "./errors.js"
import * as Json from "./json.js"
import { duration, fields, instant, print, short, table } from "./output.js"
import * as Store from "./store.js"

const states = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled", "dead"] as const

const list = Command.make("runs", {
  job: Options.text("job").pipe(Options.withDescription("only runs of this job"), Options.optional),
  status: Options.choice("status", states).pipe(
    Options.withDescription("only runs in this state (repeat for several)"),
    Options.repeated
  ),
  since: Options.text("since").pipe(
    Options.withDescription("only runs created since this date, or this long ago (\"2 hours\")"),
    Options.optional
  ),
  limit: Options.integer("limit").pipe(Options.withDescription("runs per page"), Options.withDefault(20)),
  page: Options.integer("page").pipe(Options.withDescription("which page, from 1 (newest)"), Options.withDefault(1)),
  store: Store.options
}, ({ job, limit, page, since, status, store }) =>
  withStore(store, () =>
    Effect.gen(function*() {
      if (limit < 1) return yield* new InvalidArgument({ option: "--limit", value: String(limit), reason: "is not positive" })
      if (page < 1) return yield* new InvalidArgument({ option: "--page", value: String(page), reason: "is not positive" })
      const from = Option.isSome(since) ? yield* instantOrAgo("--since", since.value) : undefined
      const jobStore = yield* JobStore.JobStore
      // the store pages by count only: read up to the end of this page (and one more, to know
      // whether there is a next page); runs come newest first, so --since cuts a tail
      const read = yield* jobStore.listRuns({
        ...(Option.isSome(job) ? { jobName: job.value } : {}),
        ...(status.length > 0 ? { state: status } : {}),
        limit: page * limit + 1
      })
      const matching = from === undefined ? read : read.filter((r) => DateTime.toEpochMillis(r.createdAt) >= from)
      const shown = matching.slice((page - 1) * limit, page * limit)
      const more = matching.length > page * limit
      yield* print(store.json, { runs: shown.map(Json.run), page, limit, more }, () => {
        if (shown.length === 0) return page === 1 ? "no runs" : `no runs on page ${page}`
        const rows = table(
          ["id", "job", "state", "attempt", "run at (UTC)", "error"],
          shown.map((r) => [r.id, r.jobName, r.state, String(r.attempt), instant(r.runAt), short(r.error?.message, 50)])
        )
        return more ? `${rows}\n(more: --page ${page + 1})` : rows
      })
    }))).pipe(Command.withDescription("runs, newest first: --job, --status, --since, --limit, --page"))

const detail = Command.make("run", {
  id: Args.text({ name: "id" }).pipe(Args.withDescription("the run's id")),
  store: Store.options
}, ({ id, store }) =>
  withStore(store, () =>
    Effect.gen(function*() {
      const run = yield* Scheduler.getRun(runId(id))
      const attempts = [...yield* Scheduler.history({ runId: run.id, limit: 1000 })].reverse()
      const steps = yield* Scheduler.steps(run.id)
      const waitsForWake = run.state === "queued" && run.runAt.epochMillis >= Journal.untilWoken
      yield* print(store.json, { run: Json.run(run), attempts: attempts.map(Json.attempt), steps: steps.map(Json.step) }, () => {
        const lines = [
          fields([
            ["run", run.id],
            ["job", run.jobName],
            ["state", run.state],
            ["attempt", String(run.attempt)],
            ["schedule", run.scheduleId],
            [
              "run at",
              waitsForWake
                ? `when woken: a child ends or a signal comes (scheduled for ${instant(run.scheduledFor)})`
                : `${instant(run.runAt)} (scheduled for ${instant(run.scheduledFor)})`
            ],
            ["created", instant(run.createdAt)],
            ["priority", String(run.priority)],
            ["key", run.key],
            ["worker", run.workerId],
            ["then", run.then.length === 0 ? undefined : run.then.join(", ")],
            ["payload", JSON.stringify(run.payload)],
            ["result", run.result === undefined ? undefined : JSON.stringify(run.result)],
            ["error", errorLine(run.error)]
          ])
        ]
        lines.push("", `attempts: ${attempts.length === 0 ? "none yet" : ""}`.trimEnd())
        if (attempts.length > 0) {
          lines.push(table(
            ["#", "status", "started (UTC)", "duration", "worker", "error"],
            attempts.map((h) => [
              String(h.attempt),
              h.status,
              instant(h.startedAt),
              duration(h.durationMs),
              h.workerId ?? "-",
              short(errorLine(h.error), 70)
            ])
          ))
        }
        if (steps.length > 0) {
          lines.push("", "steps:")
          lines.push(table(
            ["step", "kind", "status", "#", "started (UTC)", "took", "waits until / child", "result or error"],
            steps.map((s) => [
              s.name,
              s.kind,
              s.status,
              String(s.attempt),
              instant(DateTime.unsafeMake(s.startedAt)),
              s.finishedAt === undefined ? "-" : duration(s.finishedAt - s.startedAt),
              s.childRunId ?? (s.status === "waiting" && s.wakeAt !== undefined ? instant(DateTime.unsafeMake(s.wakeAt)) : "-"),
              short(s.error === undefined ? s.result === undefined ? "" : JSON.stringify(s.result) : errorLine(s.error)!, 50)
            ])
          ))
        }
        const last = [...attempts].reverse().find((h) => h.error !== undefined)?.error ?? run.error
        if (last !== undefined && last.cause.trim() !== "") {
          lines.push("", "cause of the last error:", indent(last.cause))
        }
        return lines.join("\n")
      })
    }))).pipe(Command.withDescription("one run: its state, payload, result, and every attempt with its error"))

const errorLine = (error: Run.RunError | undefined) => error === undefined ? undefined : `${error.tag}: ${error.message}`

const indent = (text: string) => text.split("\n").map((line) => `  ${line}`).join("\n")

export const commands = [list, detail] as const
