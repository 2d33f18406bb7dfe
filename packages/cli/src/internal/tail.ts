/**
 * `clockwork tail`: the run feed as lines, as `tail -f` shows a log: every
 * attempt's outcome and every schedule change, from any process on the store,
 * in commit order, from now (or the oldest kept, or a cursor a line printed).
 */
import { Feed, Scheduler } from "@clockwork/core"
import { Command, Options } from "@effect/cli"
import { Console, DateTime, Effect, Stream } from "effect"
import { withStore } from "./command.js"
import { InvalidArgument } from "./errors.js"
import * as Json from "./json.js"
import { instant, short } from "./output.js"
import * as Store from "./store.js"

const line = (entry: Feed.FeedEntry): string => {
  if (entry._tag === "ScheduleChanged") {
    return `${instant(DateTime.unsafeMake(entry.at))}  schedule ${entry.scheduleId} (${entry.jobName}) ${entry.change}  @${entry.cursor}`
  }
  const r = entry.record
  const status = r.final || r.status === "succeeded" ? r.status : `${r.status}, retried`
  const error = r.error === undefined ? "" : `  ${r.error.tag}: ${short(r.error.message, 80)}`
  return `${instant(r.finishedAt)}  ${r.jobName}  ${status}  run ${r.runId} #${r.attempt}${error}  @${entry.cursor}`
}

const json = (entry: Feed.FeedEntry) =>
  JSON.stringify(
    entry._tag === "Attempt"
      ? { cursor: entry.cursor, type: "attempt", final: entry.record.final, ...Json.attempt(entry.record) }
      : {
        cursor: entry.cursor,
        type: "schedule",
        scheduleId: entry.scheduleId,
        job: entry.jobName,
        change: entry.change,
        at: new Date(entry.at).toISOString()
      }
  )

export const command = Command.make("tail", {
  from: Options.text("from").pipe(
    Options.withDescription("where to start: now (default), start (the oldest entry kept), or a cursor (@…) a line printed"),
    Options.withDefault("now")
  ),
  once: Options.boolean("once").pipe(Options.withDescription("print what is there and stop, instead of following")),
  store: Store.options
}, ({ from, once, store }) =>
  withStore(store, () =>
    Effect.gen(function*() {
      const start = from.trim().replace(/^@/, "")
      if (start !== "now" && start !== "start" && !/^\d{1,20}\.\d{1,20}$/.test(start)) {
        return yield* new InvalidArgument({ option: "--from", value: from, reason: "is not now, start or a cursor (like 1234.56)" })
      }
      const after = start === "now" || start === "start" ? start : Feed.FeedCursor.make(start)
      yield* Scheduler.feed({ after, follow: !once }).pipe(
        // one line per entry; with --json one JSON document per line (NDJSON), flushed as it comes
        Stream.runForEach((entry) => Console.log(store.json ? json(entry) : line(entry)))
      )
    }))).pipe(Command.withDescription("follow the run feed: attempts and schedule changes from every process, as they commit"))
