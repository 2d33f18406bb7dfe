/**
 * `clockwork schedules`: list them, `pause`, `resume`, `trigger` one now
 * (a run of its job with its payload, outside its trigger), `remove`.
 */
import { JobStore, Scheduler, Trigger } from "@clockwork/core"
import { Args, Command, Options } from "@effect/cli"
import { Clock, Effect, Option } from "effect"
import { withStore } from "./command.js"
import { Refused } from "./errors.js"
import * as Json from "./json.js"
import { fields, instant, print, relative, table } from "./output.js"
import * as Store from "./store.js"

const id = Args.text({ name: "id" }).pipe(Args.withDescription("the schedule's id"))

const list = Command.make("schedules", { store: Store.options }, ({ store }) =>
  withStore(store, () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const schedules = yield* Scheduler.schedules
      yield* print(store.json, { schedules: schedules.map(Json.schedule) }, () =>
        schedules.length === 0
          ? "no schedules"
          : table(
            ["id", "job", "trigger", "next fire (UTC)", "", "last fire (UTC)", "paused"],
            schedules.map((s) => [
              s.id,
              s.jobName,
              Trigger.describe(s.trigger),
              instant(s.nextFireAt),
              s.paused ? "-" : relative(s.nextFireAt, now),
              instant(s.lastFireAt),
              s.paused ? "paused" : ""
            ])
          ))
    }))).pipe(Command.withDescription("the schedules with their next fire times; subcommands change one"))

/**
 * A subcommand's store options, completed by those given to `schedules`
 * itself (`clockwork schedules --data-dir d pause x` works as well as
 * `clockwork schedules pause x --data-dir d`).
 */
const withParent = (own: Store.StoreOptions) =>
  Effect.map(list, ({ store: parent }): Store.StoreOptions => ({
    databaseUrl: Option.orElse(own.databaseUrl, () => parent.databaseUrl),
    dataDir: Option.orElse(own.dataDir, () => parent.dataDir),
    schema: own.schema !== "clockwork" ? own.schema : parent.schema,
    json: own.json || parent.json
  }))

const described = (s: JobStore.ScheduleRecord, now: number) =>
  fields([
    ["schedule", s.id],
    ["job", s.jobName],
    ["trigger", Trigger.describe(s.trigger)],
    ["paused", s.paused ? "yes" : "no"],
    ["next fire", s.paused ? "- (paused)" : `${instant(s.nextFireAt)} (${relative(s.nextFireAt, now)})`]
  ])

const pause = Command.make("pause", { id, store: Store.options }, ({ id, store }) =>
  Effect.flatMap(withParent(store), (store) =>
    withStore(store, () =>
    Effect.gen(function*() {
      const schedule = yield* Scheduler.pause(id)
      const now = yield* Clock.currentTimeMillis
      yield* print(store.json, Json.schedule(schedule), () => `paused\n${described(schedule, now)}`)
    })))).pipe(Command.withDescription("stops a schedule's ticks until it is resumed"))

const resume = Command.make("resume", { id, store: Store.options }, ({ id, store }) =>
  Effect.flatMap(withParent(store), (store) =>
    withStore(store, () =>
    Effect.gen(function*() {
      const schedule = yield* Scheduler.resume(id)
      const now = yield* Clock.currentTimeMillis
      yield* print(store.json, Json.schedule(schedule), () => `resumed\n${described(schedule, now)}`)
    })))).pipe(Command.withDescription("resumes a schedule from its next tick (ticks missed while paused are not owed)"))

const trigger = Command.make("trigger", {
  id,
  force: Options.boolean("force").pipe(
    Options.withDescription("run it even when the schedule skips overlapping runs and one is unfinished")
  ),
  store: Store.options
}, ({ force, id, store }) =>
  Effect.flatMap(withParent(store), (store) =>
    withStore(store, () =>
    Effect.gen(function*() {
      const run = yield* Scheduler.trigger(id, { force }).pipe(
        Effect.catchTag("ScheduleBusy", (busy) => new Refused({ reason: `${busy.message}; --force runs it anyway` }))
      )
      yield* print(
        store.json,
        Json.run(run),
        () => `queued run ${run.id} of ${run.jobName} for schedule ${id}, due now`
      )
    })))).pipe(Command.withDescription("queues a run of the schedule's job with its payload now, outside its trigger"))

const remove = Command.make("remove", { id, store: Store.options }, ({ id, store }) =>
  Effect.flatMap(withParent(store), (store) =>
    withStore(store, () =>
    Effect.gen(function*() {
      yield* Scheduler.unschedule(id)
      yield* print(store.json, { removed: id }, () => `removed schedule ${id}`)
    })))).pipe(Command.withDescription("removes a schedule (its queued runs stay queued)"))

export const command = list.pipe(Command.withSubcommands([pause, resume, trigger, remove]))
