/**
 * `Testing.advance` speed: a daily cron job (and a few variants that exercise
 * the runner's other timers: a job that takes time, a timeout, retries) moved
 * through `days` days of TestClock time on `Testing.layer`.
 *
 *   npm run bench:testclock --workspace @clockwork/core [-- --days 365 --repeat 3]
 *
 * Prints one line per case and repetition: wall time, CPU time of the
 * process (the figure to read on a shared machine), runs in the history, and
 * wall time per run. The first repetition of the first case includes warming
 * up the JIT.
 */
import { Duration, Effect, Schedule, Schema, TestClock, TestContext } from "effect"
import { Job, Scheduler, Testing, Trigger } from "../src/index.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const days = arg("days", 365)
const repeat = arg("repeat", 3)
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined

const instant = Schema.Struct({ at: Schema.Number })
type Report = Job.Job<typeof instant.Type, void, unknown, never>

const cases: Record<string, Report> = {
  "no-op": Job.make({ name: "report", payload: instant, run: () => Effect.void }),
  "takes 5 minutes": Job.make({ name: "report", payload: instant, run: () => Effect.sleep("5 minutes") }),
  "times out after 1 minute": Job.make({
    name: "report",
    payload: instant,
    timeout: "1 minute",
    retry: Job.noRetry,
    run: () => Effect.sleep("5 minutes")
  }),
  "fails twice, retried with backoff": Job.make({
    name: "report",
    payload: instant,
    retry: Schedule.intersect(Schedule.exponential("10 seconds"), Schedule.recurs(2)),
    run: () => Effect.fail("down")
  })
}

const once = (job: Report) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(Date.parse("2025-01-01T00:00:00Z"))
    yield* Scheduler.schedule("daily-report", job, {
      trigger: Trigger.cron("0 6 * * *"),
      payload: { at: 0 }
    })
    const start = performance.now()
    const cpu = process.cpuUsage()
    yield* Testing.advance(Duration.days(days))
    const ms = performance.now() - start
    const { system, user } = process.cpuUsage(cpu)
    const runs = yield* Scheduler.history({ jobName: "report", limit: 100_000 })
    return { ms, cpuMs: (user + system) / 1000, runs: runs.length }
  }).pipe(Effect.scoped, Effect.provide(Testing.layer([job])), Effect.provide(TestContext.TestContext))

for (const [name, job] of Object.entries(cases)) {
  if (only !== undefined && !name.startsWith(only)) continue
  for (let i = 0; i < repeat; i++) {
    const { cpuMs, ms, runs } = await Effect.runPromise(once(job))
    console.log(
      `${name}: ${days} days in ${(ms / 1000).toFixed(2)} s (CPU ${(cpuMs / 1000).toFixed(2)} s), ${runs} history rows, ` +
        `${(ms / Math.max(1, runs)).toFixed(2)} ms per row`
    )
  }
}
