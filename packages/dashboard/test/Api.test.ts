import * as Http from "node:http"
import { JobStore, Scheduler } from "@clockwork/core"
import { PgliteStore, PgStore } from "@clockwork/pg"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { approval, type App, eventually, hello, hostile, scheduleHello, slow, start, token, urlOf } from "./support.js"

/** A store in a schema of its own on the server DATABASE_URL names, dropped at the end. */
const postgres = () =>
  Layer.scoped(
    JobStore.JobStore,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const schema = `cw_dashboard_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
      yield* Effect.addFinalizer(() => Effect.orDie(sql`drop schema if exists ${sql(schema)} cascade`))
      return yield* PgStore.make({ schema })
    })
  ).pipe(Layer.provide(PgClient.layerConfig({ url: Config.redacted("DATABASE_URL"), ...PgStore.clientConfig })))

// PostgreSQL when DATABASE_URL names a server (as in CI), so that `npm test` needs none
const stores: ReadonlyArray<readonly [string, () => Layer.Layer<JobStore.JobStore, unknown>]> = [
  ["memory", () => JobStore.layerMemory],
  ["PGlite", () => PgliteStore.layer({ schema: "dashboard_api" })],
  ...(process.env.DATABASE_URL ? [["PostgreSQL", postgres] as const] : [])
]

describe.each(stores)("the JSON API on the %s store", (_, store) => {
  let app: App
  let url: string
  const get = async (path: string) => {
    const response = await fetch(new URL(path, url))
    return { status: response.status, body: await response.json() as any, headers: response.headers }
  }
  const post = async (path: string, bearer?: string) => {
    const response = await fetch(new URL(path, url), {
      method: "POST",
      headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }
    })
    return { status: response.status, body: await response.json() as any }
  }

  beforeAll(async () => {
    app = start(store())
    url = await urlOf(app)
    await app.runPromise(scheduleHello)
  })
  afterAll(() => app.dispose())

  it("binds 127.0.0.1 and serves the OpenAPI document", async () => {
    expect(new URL(url).hostname).toBe("127.0.0.1")
    const { body, status } = await get("/api/openapi.json")
    expect(status).toBe(200)
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(["/api/schedules", "/api/runs", "/api/runs/{runId}"]))
  })

  it("lists schedules with their trigger in words", async () => {
    const { body } = await get("/api/schedules")
    expect(body).toEqual([expect.objectContaining({
      id: "hello-every-hour",
      jobName: "hello",
      triggerText: "every 1h",
      paused: false,
      nextFireAt: expect.any(Number)
    })])
  })

  it("pages the history with filters and a cursor, newest first", async () => {
    const handles = await app.runPromise(Scheduler.enqueueMany(hello, [1, 2, 3, 4, 5].map((n) => ({ n }))))
    await app.runPromise(Effect.forEach(handles, Scheduler.result))
    await app.runPromise(Scheduler.enqueue(hostile, {}))
    await eventually(async () => (await get("/api/runs?job=" + encodeURIComponent(hostile.name))).body.runs[0])

    const seen: Array<string> = []
    let page = await get("/api/runs?job=hello&limit=2")
    expect(page.status).toBe(200)
    for (;;) {
      seen.push(...page.body.runs.map((r: any) => r.runId))
      expect(page.body.runs.every((r: any) => r.jobName === "hello" && r.status === "succeeded")).toBe(true)
      if (page.body.next === undefined) break
      page = await get(`/api/runs?job=hello&limit=2&cursor=${page.body.next}`)
    }
    expect(new Set(seen).size).toBe(5)
    expect(seen.sort()).toEqual(handles.map((h) => h.id).sort())

    const failed = await get("/api/runs?status=failed")
    expect(failed.body.runs.map((r: any) => r.jobName)).toEqual([hostile.name])
    expect(failed.body.runs[0].error.message).toBe("</script><script>alert(1)</script>")
    const future = await get(`/api/runs?from=${new Date(Date.now() + 60_000).toISOString()}`)
    expect(future.body.runs).toEqual([])
  })

  it("shows a run with its attempts, and 404 for an unknown one", async () => {
    const handle = await app.runPromise(Scheduler.enqueue(hello, { n: 7 }))
    await app.runPromise(Scheduler.result(handle))
    const { body } = await get(`/api/runs/${handle.id}`)
    expect(body.run).toMatchObject({ id: handle.id, jobName: "hello", state: "succeeded", result: 14, payload: { n: 7 } })
    expect(body.attempts).toEqual([expect.objectContaining({ runId: handle.id, attempt: 1, status: "succeeded" })])
    expect(body.steps).toEqual([])
    const missing = await get("/api/runs/no-such-run")
    expect(missing.status).toBe(404)
    expect(missing.body.message).toBe(`no run has the id "no-such-run"`)
  })

  it("answers 400 naming the malformed field", async () => {
    for (
      const [query, field] of [
        ["status=exploded", "status"],
        ["limit=0", "limit"],
        ["limit=ten", "limit"],
        ["from=yesterday", "from"],
        ["cursor=not-a-cursor", "cursor"]
      ]
    ) {
      const { body, status } = await get(`/api/runs?${query}`)
      expect(status, query).toBe(400)
      expect(body._tag).toBe("HttpApiDecodeError")
      expect(body.issues.map((i: any) => i.path[0]), query).toContain(field)
      expect(body.message, query).toContain(field)
    }
    expect((await get("/api/counts?to=soon")).status).toBe(400)
  })

  it("shows the queue, workers and counts", async () => {
    const running = await app.runPromise(Scheduler.enqueue(slow, {}))
    // the per-job depths are read just before the runs: wait until both see it running
    const queue = await eventually(async () => {
      const { body } = await get("/api/queue")
      const slowJob = body.jobs.find((j: any) => j.jobName === "slow")
      return body.running.some((r: any) => r.id === running.id) && slowJob?.running === 1 ? body : undefined
    })
    expect(queue.jobs).toEqual(expect.arrayContaining([expect.objectContaining({ jobName: "slow", running: 1, workers: ["worker-1"] })]))
    const workers = await get("/api/workers")
    expect(workers.body).toEqual([expect.objectContaining({ id: "worker-1", info: expect.objectContaining({ jobs: expect.arrayContaining(["hello", "slow"]) }) })])
    const counts = await get("/api/counts")
    expect(counts.body.byJob).toEqual(expect.arrayContaining([
      { jobName: "hello", status: "succeeded", count: 6 },
      { jobName: hostile.name, status: "failed", count: 1 }
    ]))
    expect(counts.body.buckets.reduce((n: number, b: any) => n + b.count, 0)).toBe(7)
    await post(`/api/runs/${running.id}/cancel`, token)
  })

  it("refuses actions without the token or with a wrong one", async () => {
    for (const bearer of [undefined, "wrong"]) {
      const { body, status } = await post("/api/schedules/hello-every-hour/pause", bearer)
      expect(status).toBe(401)
      expect(body._tag).toBe("Unauthorized")
    }
    const [schedule] = await app.runPromise(Scheduler.schedules)
    expect(schedule!.paused).toBe(false)
  })

  it("pauses, resumes and runs a schedule now with the token", async () => {
    const paused = await post("/api/schedules/hello-every-hour/pause", token)
    expect(paused).toMatchObject({ status: 200, body: { id: "hello-every-hour", paused: true } })
    const resumed = await post("/api/schedules/hello-every-hour/resume", token)
    expect(resumed.body.paused).toBe(false)
    const ran = await post("/api/schedules/hello-every-hour/run", token)
    expect(ran.body).toMatchObject({ jobName: "hello", scheduleId: "hello-every-hour", payload: { n: 21 } })
    await eventually(async () => (await get(`/api/runs/${ran.body.id}`)).body.run.state === "succeeded" || undefined)
    expect((await post("/api/schedules/nope/pause", token)).status).toBe(404)
  })

  it("cancels a running run and retries a failed one", async () => {
    const running = await app.runPromise(Scheduler.enqueue(slow, {}))
    await eventually(async () => (await get(`/api/runs/${running.id}`)).body.run.state === "running" || undefined)
    const cancelled = await post(`/api/runs/${running.id}/cancel`, token)
    expect(cancelled.body).toMatchObject({ outcome: "cancelled", run: { id: running.id } })
    await eventually(async () => (await get(`/api/runs/${running.id}`)).body.run.state === "cancelled" || undefined)

    const [failed] = (await get("/api/runs?status=failed")).body.runs
    const retried = await post(`/api/runs/${failed.runId}/retry`, token)
    expect(retried.body).toMatchObject({ retried: failed.runId, run: { jobName: hostile.name, state: "queued" } })
    const refused = await post(`/api/runs/${(await get("/api/runs?status=succeeded")).body.runs[0].runId}/retry`, token)
    expect(refused.status).toBe(409)
    expect(refused.body.message).toContain("only a run that ended dead")
  })

  it("exposes Prometheus metrics", async () => {
    const response = await fetch(new URL("/metrics", url))
    expect(response.headers.get("content-type")).toContain("text/plain")
    const text = await response.text()
    expect(text).toContain(`clockwork_attempts_last_hour{job="hello",status="succeeded"}`)
    // the failed run was retried above, and fails again
    expect(text).toMatch(/^clockwork_attempts_last_hour\{job="<img src=x onerror=alert\(1\)>",status="failed"\} [12]$/m)
    expect(text).toMatch(/^clockwork_final_failures_last_hour\{job="<img src=x onerror=alert\(1\)>"\} [12]$/m)
    expect(text).toMatch(/^clockwork_workers_alive 1$/m)
    expect(text).toContain(`clockwork_schedules{paused="false"} 1`)
    // this process ran the runs: its own counters and histograms follow
    expect(text).toMatch(/^# TYPE clockwork_run_duration_ms histogram$/m)
    expect(text).toMatch(/^clockwork_run_duration_ms_bucket\{job="hello",le="\+Inf"\} \d+$/m)
    expect(text).toMatch(/^clockwork_runs_finished\{job="hello",status="succeeded"\} \d+$/m)
  })

  it("answers 421 to a request for another host name (DNS rebinding), with the security headers", async () => {
    const response = await new Promise<{ status: number; body: string; csp: string | undefined }>((resolve, reject) => {
      const request = Http.request(new URL("/api/schedules", url), { headers: { host: "attacker.example:80" } }, (res) => {
        let body = ""
        res.on("data", (chunk) => (body += String(chunk)))
        res.on("end", () =>
          resolve({ status: res.statusCode!, body, csp: res.headers["content-security-policy"] as string | undefined }))
      })
      request.on("error", reject)
      request.end()
    })
    expect(response.status).toBe(421)
    expect(response.body).toContain(`not for "attacker.example:80"`)
    expect(response.csp).toContain("default-src 'none'")
  })

  it("sends a strict Content-Security-Policy with the page", async () => {
    const response = await fetch(url)
    const csp = response.headers.get("content-security-policy")!
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain("unsafe-inline")
    expect(await response.text()).toContain(`<script type="module" src="/app.js"></script>`)
  })

  it("shows a workflow run's steps: each one's kind, status, attempt and child", async () => {
    const handle = await app.runPromise(Scheduler.enqueue(approval, {}))
    const waiting = await eventually(async () => {
      const { body } = await get(`/api/runs/${handle.id}`)
      // waiting once its wait is journaled and its attempt has ended (the run queued again)
      return body.steps.some((s: any) => s.name === "signal:go") && body.run.state === "queued" ? body : undefined
    })
    expect(waiting.run.state).toBe("queued")
    expect(waiting.steps.map((s: any) => [s.name, s.kind, s.status, s.attempt])).toEqual([
      ["base", "step", "succeeded", 1],
      ["double", "child", "succeeded", 1],
      ["signal:go", "signal", "waiting", 1]
    ])
    expect(waiting.steps[0].result).toBe(20)
    const child = await get(`/api/runs/${waiting.steps[1].childRunId}`)
    expect(child.body.run).toMatchObject({ jobName: "hello", state: "succeeded", result: 40 })
    await app.runPromise(Scheduler.signal(handle.id, "go", 2))
    expect(await app.runPromise(Scheduler.result(handle))).toBe(42)
  })
})

describe("a dashboard without a token", () => {
  it("is read-only", async () => {
    const app = start(JobStore.layerMemory, { token: false })
    try {
      const url = await urlOf(app)
      await app.runPromise(scheduleHello)
      const response = await fetch(new URL("/api/schedules/hello-every-hour/pause", url), {
        method: "POST",
        headers: { authorization: "Bearer " }
      })
      expect(response.status).toBe(401)
      expect((await response.json() as any).message).toContain("read-only")
      expect((await fetch(new URL("/api/schedules", url))).status).toBe(200)
    } finally {
      await app.dispose()
    }
  })
})
