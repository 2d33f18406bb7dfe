/**
 * `clockwork migrate` (create or update the schema) and `clockwork prune`
 * (delete history that ended before an instant), each under a progress line.
 */
import { JobStore } from "@clockwork/core"
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { instantOrAgo, withStore } from "./command.js"
import { withProgress } from "./progress.js"
import * as Store from "./store.js"
import { print } from "./output.js"

const migrate = Command.make("migrate", { store: Store.options }, ({ store }) =>
  Effect.gen(function*() {
    const target = yield* Store.target(store)
    const { after, before } = yield* withProgress(
      `migrating schema ${store.schema} on ${Store.describeTarget(target)}`,
      store.json,
      Store.migrate(target, store.schema)
    )
    const applied = after.filter((m) => !before.some((b) => b.id === m.id))
    yield* print(store.json, { schema: store.schema, applied, migrations: after }, () =>
      applied.length === 0
        ? `schema ${store.schema} is up to date (${after.length} migrations)`
        : `schema ${store.schema}: applied ${applied.map((m) => `${m.id} ${m.name}`).join(", ")}`)
  })).pipe(Command.withDescription("creates or updates the schema (idempotent; safe while apps run)"))

const prune = Command.make("prune", {
  before: Options.text("before").pipe(
    Options.withDescription("delete the history that ended before this date, or this long ago (\"30 days\")")
  ),
  store: Store.options
}, ({ before, store }) =>
  withStore(store, () =>
    Effect.gen(function*() {
      const until = yield* instantOrAgo("--before", before)
      const iso = new Date(until).toISOString()
      const deleted = yield* withProgress(
        `pruning the history before ${iso}`,
        store.json,
        Effect.flatMap(JobStore.JobStore, (s) => s.pruneHistory(until))
      )
      yield* print(
        store.json,
        { before: iso, deleted },
        () => `deleted ${deleted} history rows (and the runs that had ended) before ${iso}`
      )
    }))).pipe(Command.withDescription("deletes the run history, and finished runs, that ended before --before"))

export const commands = [migrate, prune] as const
