/**
 * clockwork's benchmark suite: clockwork side by side with graphile-worker and
 * pg-boss on one PostgreSQL, and clockwork's own in-process figures.
 *
 *   npm run bench                       # every scenario; writes packages/bench/BENCHMARKS.md
 *   npm run bench -- --quick            # every scenario small; checks they complete (CI)
 *   npm run bench -- --only a,c --repetitions 5 --out /tmp/b.md
 *   npm run bench -- --only a --systems clockwork --concurrency 1000 --batch-size 500 --sql-stats
 *   npm run bench -- --cluster shared   # on DATABASE_URL instead of a private cluster
 *   npm run bench -- --only a --depths 10000,50000   # the drain at these queue depths only
 *
 * `--cluster private` (the default, except with --quick) runs every system on
 * a PostgreSQL cluster of its own, created for the run with the server's
 * defaults and removed at the end (see cluster.ts); `--cluster shared` (the
 * default with --quick, as CI has a server) uses DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test). Progress lines go to stderr; the
 * exit code is non-zero when a scenario failed.
 */
import { execFileSync } from "node:child_process"
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os"
import { join } from "node:path"
import * as Cluster from "./cluster.js"
import * as Db from "./db.js"
import { benchDir, repoRoot } from "./paths.js"
import * as Progress from "./progress.js"
import * as Report from "./report.js"
import type { Context, Scenario, Section } from "./scenario.js"
import * as Drain from "./scenarios/drain.js"
import * as Enqueue from "./scenarios/enqueue.js"
import * as Isolation from "./scenarios/isolation.js"
import * as Latency from "./scenarios/latency.js"
import * as Memory from "./scenarios/memory.js"
import * as Pglite from "./scenarios/pglite.js"
import * as Registration from "./scenarios/registration.js"
import * as Scale from "./scenarios/scale.js"
import * as Schedule from "./scenarios/schedule.js"
import * as SqlStats from "./sqlStats.js"
import type { Connection, System } from "./system.js"
import * as Clockwork from "./systems/clockwork.js"
import * as GraphileWorker from "./systems/graphileWorker.js"
import * as PgBoss from "./systems/pgBoss.js"
import { versionOf } from "./versions.js"

const scenarios: ReadonlyArray<Scenario> = [
  Drain.scenario,
  Enqueue.scenario,
  Latency.scenario,
  Schedule.scenario,
  Scale.scenario,
  Memory.scenario,
  Isolation.scenario,
  Pglite.scenario,
  Registration.scenario
]
/** the scenarios that need the PostgreSQL server and the three systems */
const onServer = new Set(["a", "b", "c", "d", "e"])

const argv = process.argv.slice(2)
const option = (name: string) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : undefined
}
const quick = argv.includes("--quick")
const only = option("only")?.split(",").map((s) => s.trim())
const repetitions = Number(option("repetitions") ?? (quick ? 1 : 3))
const systemsOption = option("systems")?.split(",").map((s) => s.trim())
const runner = {
  concurrency: Number(option("concurrency") ?? Clockwork.defaultRunner.concurrency),
  batchSize: Number(option("batch-size") ?? Clockwork.defaultRunner.batchSize)
}
const sqlStats = argv.includes("--sql-stats")
const depths = option("depths")?.split(",").map((s) => Number(s.trim()))
const clusterOption = option("cluster") ?? (quick ? "shared" : "private")
if (clusterOption !== "private" && clusterOption !== "shared") {
  throw new Error(`--cluster is private or shared, not ${clusterOption}`)
}
const out = option("out") ?? (quick ? join(tmpdir(), "clockwork-bench-quick.md") : join(benchDir, "BENCHMARKS.md"))

/** The commit measured, and whether the working tree differed from it; CLOCKWORK_REVISION outside a checkout. */
const revision = () => {
  try {
    const git = (...args: Array<string>) => execFileSync("git", ["-C", repoRoot, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
    const dirty = git("status", "--porcelain").length > 0
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes" : ""}`
  } catch {
    return process.env["CLOCKWORK_REVISION"] ?? "unknown (not a git checkout)"
  }
}

const redacted = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")

const main = async () => {
  const started = performance.now()
  const selected = scenarios.filter((s) => only === undefined || only.includes(s.id))
  const needsServer = selected.some((s) => onServer.has(s.id))
  const cluster = clusterOption === "private" && needsServer ? await Cluster.start() : undefined
  try {
    return await measure(started, cluster, selected, needsServer)
  } finally {
    cluster?.stop()
  }
}

const measure = async (
  started: number,
  cluster: Cluster.Cluster | undefined,
  selected: ReadonlyArray<Scenario>,
  needsServer: boolean
) => {
  const url = cluster?.url ?? process.env["DATABASE_URL"] ?? Db.defaultUrl
  if (cluster !== undefined) Progress.line("bench", `private PostgreSQL cluster at ${url}`)
  // schemas of this run only (dropped at the end): a CI quick run and someone's full run may overlap
  const connection: Connection = { url, schemaPrefix: `bench_${process.pid}_` }

  const admin = Db.connect(url)
  const postgres = await Db.serverVersion(admin)
  await admin.end()
  const versions = {
    "graphile-worker": versionOf("graphile-worker"),
    "pg-boss": versionOf("pg-boss"),
    effect: versionOf("effect"),
    "@effect/sql-pg": versionOf("@effect/sql-pg")
  }
  Progress.line(
    "bench",
    `${quick ? "quick" : "full"} run of ${selected.map((s) => s.id).join(",")}, ${repetitions} repetition(s)` +
      `${quick ? "" : " + warm-up"}; ${postgres.split(" on ")[0]}; graphile-worker ${versions["graphile-worker"]}, ` +
      `pg-boss ${versions["pg-boss"]}`
  )

  const systems: ReadonlyArray<System> = needsServer
    ? [Clockwork.make(connection, runner, sqlStats), GraphileWorker.make(connection), PgBoss.make(connection)]
      .filter((s) => systemsOption === undefined || systemsOption.includes(s.name))
    : []
  const sections: Array<Section> = []
  const failures: Array<Report.Failure> = []
  try {
    for (const system of systems) await system.install()
    const ctx: Context = {
      quick,
      repetitions,
      warmup: !quick,
      connection,
      systems,
      depths,
      serverCpuUs: cluster === undefined ? undefined : () => Cluster.serverCpuUs(cluster.postmasterPid)
    }
    for (const scenario of selected) {
      const t = performance.now()
      Progress.line(`${scenario.id}`, `${scenario.title}: started`)
      try {
        sections.push(await scenario.run(ctx))
        Progress.line(`${scenario.id}`, `${scenario.title}: done in ${((performance.now() - t) / 1000).toFixed(1)} s`)
      } catch (error) {
        const message = error instanceof Error ? error.stack ?? error.message : String(error)
        failures.push({ id: scenario.id, title: scenario.title, error: message })
        Progress.line(`${scenario.id}`, `${scenario.title}: FAILED\n${message}`)
      }
    }
  } finally {
    for (const system of systems) await system.close().catch(() => undefined)
    const cleanup = Db.connect(url)
    for (const system of systems) await Db.dropSchema(cleanup, system.schema)
    await cleanup.end()
  }
  if (sqlStats) process.stderr.write(`\nclockwork's statements (client side, all scenarios run):\n${SqlStats.report()}\n\n`)

  const cpu = cpus()[0]?.model ?? "unknown"
  const meta: Report.Meta = {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    command: `${cluster === undefined ? `DATABASE_URL=${redacted(url)} ` : ""}npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`,
    durationMinutes: (performance.now() - started) / 60_000,
    machine: [
      ["code", revision()],
      ["CPU", `${cpu}, ${availableParallelism()} cores`],
      ["memory", `${(totalmem() / 1024 ** 3).toFixed(0)} GiB`],
      ["OS", `${process.platform} ${process.arch}`],
      ["Node.js", process.version],
      ["PostgreSQL", postgres],
      ["server", cluster?.settings ?? `shared server at ${redacted(url)} (its own settings and load)`],
      [
        "packages",
        `graphile-worker ${versions["graphile-worker"]}, pg-boss ${versions["pg-boss"]}, effect ${versions.effect}, ` +
        `@effect/sql-pg ${versions["@effect/sql-pg"]}`
      ]
    ],
    settings: systems.map((s) => [s.name, s.settings] as const)
  }
  Report.write(out, Report.render(meta, sections, failures))
  Progress.line("bench", `report written to ${out}`)
  for (const section of sections) {
    for (const t of section.targets) {
      Progress.line("targets", `${t.met ? "met    " : "NOT MET"} ${t.label}: ${t.measured} (goal ${t.goal})`)
    }
  }
  Progress.line("bench", `${failures.length === 0 ? "all scenarios completed" : `${failures.length} scenario(s) failed`}` +
    ` in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  return failures.length === 0 ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
