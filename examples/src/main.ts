/**
 * The clockwork demo: the jobs of the systems clockwork replaces (a weekly
 * newsletter, a clean-up that times out, a periodic breaking-news request to a
 * backend under a fixed UUID, a digest that fans out over feeds) and the
 * uber-reviews listener (one batch of reviews per tick) on the embedded store:
 * PGlite in CLOCKWORK_DATA_DIR (`.clockwork-data` at the repository root when
 * unset), so schedules, history and the listener's batch id carry over from
 * one run of the demo to the next.
 * It serves the dashboard on http://127.0.0.1:8080/ (CLOCKWORK_DASHBOARD_PORT;
 * actions with CLOCKWORK_DASHBOARD_TOKEN), stops by itself after 15 seconds
 * (`--forever` keeps it running; Ctrl-C shuts it down gracefully either way)
 * and prints this session's run history.
 */
import { Clockwork, Events, JobStore, Scheduler, Trigger } from "@clockwork/core"
import { Dashboard } from "@clockwork/dashboard"
import { HttpJob } from "@clockwork/http"
import { Listener, ListenerStore } from "@clockwork/listener"
import { WorkerPool } from "@clockwork/node"
import { PgliteClient, PgliteStore } from "@clockwork/pg"
import {
  Cause,
  Clock,
  Config,
  ConfigProvider,
  Console,
  DateTime,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Queue
} from "effect"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as Alerts from "./alerts.js"
import * as Backend from "./backend.js"
import { breakingNews, scheduleBreakingNews } from "./jobs/breakingNews.js"
import { cleanUpEmbeddings, EmbeddingIndex } from "./jobs/cleanUpEmbeddings.js"
import { announceDigest, buildDigest, countArticles } from "./jobs/digest.js"
import { scheduleNewsletter, sendNewsletter } from "./jobs/newsletter.js"
import { scrapeMeetings } from "./jobs/scrapeMeetings.js"
import { addReviewBatches, createReviews, uberReviews } from "./listeners/uberReviews.js"
import * as DemoLog from "./log.js"
import { describeEvent, historyTable } from "./report.js"

const forever = process.argv.includes("--forever")
const demoTime = Duration.seconds(15)
const shutdownGrace = Duration.seconds(3)

// relative to the repository root, whichever directory npm runs the demo in
const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url))
const dataDir = Config.string("CLOCKWORK_DATA_DIR").pipe(
  Config.withDefault(".clockwork-data"),
  Config.map((dir) => Path.resolve(repositoryRoot, dir))
)

// the store on the app's own PGlite client, which also holds the reviews and the listener's state
const Store = Layer.unwrapEffect(
  Effect.map(dataDir, (dataDir) => PgliteStore.layerClient().pipe(Layer.provideMerge(PgliteClient.layer({ dataDir }))))
)

const jobs = [
  sendNewsletter,
  cleanUpEmbeddings,
  breakingNews,
  countArticles,
  buildDigest,
  announceDigest,
  scrapeMeetings,
  uberReviews.job
] as const

/** Prints a line per lifecycle event (the notifier mails the failures). */
const EventLog = Layer.scopedDiscard(Effect.gen(function*() {
  const events = yield* Events.Events
  const subscription = yield* events.subscribe
  const print = (event: Events.Event) => {
    const line = describeEvent(event)
    return line === undefined ? Effect.void : Effect.log(line).pipe(Effect.annotateLogs("job", event.jobName))
  }
  // registered first so it runs last: the runner's shutdown events are printed too
  yield* Effect.addFinalizer(() => Effect.flatMap(Queue.takeAll(subscription), Effect.forEach(print)))
  yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(subscription), print)))
}))

// EventLog gets the app's own Events (one build shares a layer given twice)
// and is built before the runner, so it is closed after it and prints the
// shutdown too; the listener and the notifier run on the app's scheduler
const App = Layer.merge(Listener.layer([uberReviews], { owner: "demo" }), Alerts.layer).pipe(
  Layer.provideMerge(
    Clockwork.layer(jobs, { runner: { workerId: "demo", shutdownGrace } }).pipe(
      Layer.provide(Layer.mergeAll(
        EventLog,
        EmbeddingIndex.layerMemory,
        HttpJob.layerFetch,
        WorkerPool.layer({ size: 1, preload: [scrapeMeetings] })
      )),
      Layer.provide(Events.layer)
    )
  ),
  Layer.provide(ListenerStore.layerSql())
)

// the dashboard over the app's scheduler; a demo whose port is taken runs without it
const WithDashboard = Layer.unwrapEffect(
  Effect.map(Config.integer("CLOCKWORK_DASHBOARD_PORT").pipe(Config.withDefault(8080)), (port) =>
    Dashboard.layer({ port }).pipe(
      Layer.catchAll((error) => Layer.effectDiscard(Effect.logWarning(`no dashboard: ${error.message}`)))
    ))
).pipe(Layer.provideMerge(App))

// API_BASE_URL from the environment, else the demo's own stand-in backend
const withBackend = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Backend.start, (backend) =>
    Effect.withConfigProvider(
      self,
      ConfigProvider.fromEnv().pipe(
        ConfigProvider.orElse(() => ConfigProvider.fromMap(new Map([["API_BASE_URL", backend.url]])))
      )
    ))

const inBerlin = (instant: DateTime.Utc) =>
  DateTime.formatIsoZoned(DateTime.unsafeMakeZoned(instant, { timeZone: "Europe/Berlin" })).replace(":00.000", "")

// earlier sessions' runs are counted up to this many
const earlierLimit = 10_000
const runs = (n: number) => n >= earlierLimit ? `${earlierLimit} or more runs` : n === 1 ? "1 run" : `${n} runs`

// what earlier sessions left, read before the app starts firing missed ticks and running their queued runs
const intro = Effect.gen(function*() {
  const store = yield* JobStore.JobStore
  const schedules = yield* store.listSchedules
  const earlier = yield* store.history({ limit: earlierLimit })
  const held = schedules.length === 0 && earlier.length === 0
    ? "a new store"
    : `${schedules.length} schedules and ${runs(earlier.length)} from earlier sessions`
  yield* Effect.log(`clockwork demo on PGlite in ${yield* dataDir} (${held})`)
  // new reviews since the last session: the listener picks up from the batch it stored
  yield* createReviews
  const batches = yield* addReviewBatches(3, 4)
  yield* Effect.log(`reviews: batches ${batches.join(", ")} added; uber-reviews handles one batch every 3 seconds`)
  yield* Effect.log(
    forever ? "Ctrl-C stops it" : `stops after ${Duration.format(demoTime)} (--forever keeps it running)`
  )
})

const demo = Effect.gen(function*() {
  const startedAt = yield* Clock.currentTimeMillis

  // a. an absolute weekly schedule under a stable id, and a preview edition now
  const newsletter = yield* scheduleNewsletter
  const upcoming = Trigger.upcoming(newsletter.trigger, yield* Clock.currentTimeMillis, 2)
  yield* Effect.log(`newsletter: ${Trigger.describe(newsletter.trigger)}, next ${upcoming.map(inBerlin).join(", ")}`)
  const preview = yield* Scheduler.run(sendNewsletter, { edition: "preview" })
  yield* Effect.log(`preview edition sent to ${preview.sent} subscribers`)

  // b. a clean-up with a 2-second timeout that needs 5 seconds
  yield* Scheduler.enqueue(cleanUpEmbeddings, { batches: 5 })

  // c. a POST to the backend every BREAKING_NEWS_INTERVAL_SECONDS (10 when unset; negative disables it)
  const breaking = yield* scheduleBreakingNews
  if (Option.isSome(breaking)) {
    yield* Effect.log(`breaking news: ${Trigger.describe(breaking.value.trigger)} under ${breaking.value.id}`)
  }

  // e. a CPU-bound scraper on a worker thread (killed, not just interrupted, at its timeout)
  yield* Scheduler.enqueue(scrapeMeetings, { pages: 20 })

  // d. in a second: a digest that fans out over the feeds, then its announcement
  const digest = yield* Scheduler.enqueue(
    buildDigest,
    { feeds: ["world", "politics", "technology", "sports"] },
    { delay: "1 second", then: announceDigest }
  )
  const { articles, feeds } = yield* Scheduler.result(digest)
  yield* Effect.log(`digest result: ${articles} articles from ${feeds} feeds`)

  if (forever) return yield* Effect.never
  yield* Effect.sleep(Math.max(0, startedAt + Duration.toMillis(demoTime) - (yield* Clock.currentTimeMillis)))
  // f. the uber-reviews listener, running since the app started: how far it got
  const reviews = yield* Listener.status(uberReviews)
  yield* Effect.log(
    `uber-reviews: next batch ${reviews.params.batch_id} (${reviews.succeeded} batches handled in all sessions, ` +
      `${reviews.skipped} ticks found none)`
  )
  yield* Effect.log("demo time is up; shutting down")
})

// the history is read after the app layer closed, so runs stopped by the shutdown show too
const printHistory = (since: number) =>
  Effect.gen(function*() {
    const store = yield* JobStore.JobStore
    const records = yield* store.history({ from: since, limit: 1000 })
    const earlier = yield* store.history({ to: since, limit: earlierLimit })
    const kept = earlier.length === 0 ? "" : ` (${runs(earlier.length)} of earlier sessions are kept in the store too)`
    yield* Console.log(`\nrun history of this session${kept}\n${historyTable(records)}`)
  }).pipe(Effect.catchAll((error) => Effect.logError("could not read the run history", error)))

const main = Effect.gen(function*() {
  const since = yield* Clock.currentTimeMillis
  yield* intro
  yield* demo.pipe(Effect.provide(WithDashboard), withBackend, Effect.scoped, Effect.ensuring(printHistory(since)))
}).pipe(
  Effect.provide(Store),
  Effect.provide(DemoLog.layer)
)

const fiber = Effect.runFork(main)

const stop = (signal: NodeJS.Signals) => {
  globalThis.console.log(`\n${signal}: stopping gracefully (runs get ${Duration.format(shutdownGrace)} to finish)`)
  Effect.runFork(Fiber.interrupt(fiber))
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)

fiber.addObserver((exit) => {
  process.off("SIGINT", stop)
  process.off("SIGTERM", stop)
  if (Exit.isFailure(exit) && !Exit.isInterrupted(exit)) {
    globalThis.console.error(Cause.pretty(exit.cause))
    process.exitCode = 1
  }
})
