import { Clockwork, Events, JobStore, Scheduler } from "@clockwork/core"
import { Dashboard } from "@clockwork/dashboard"
import { PgStore } from "@clockwork/pg"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, ManagedRuntime, Option } from "effect"
import { describe, expect, it } from "vitest"
import { hello, jobs, start, urlOf } from "./support.js"

/** Reads the server-sent events until one names `topic`; fails after 60 s. */
const waitForTopic = async (url: string, topic: string, afterConnect: () => Promise<unknown>) => {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), 60_000)
  try {
    const response = await fetch(new URL("/api/events", url), { signal: controller.signal })
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ""
    let connected = false
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error(`the event stream ended before naming ${topic}: ${text}`)
      text += decoder.decode(value, { stream: true })
      if (!connected && text.includes("retry:")) {
        connected = true
        await afterConnect()
      }
      const events = text.split("\n\n").filter((event) => event.startsWith("event: update"))
      const found = events.find((event) => JSON.parse(event.split("data: ")[1]!).topics.includes(topic))
      if (found !== undefined) return found
    }
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
}

describe("live updates", () => {
  it("name the finished attempts a page should fetch", async () => {
    const app = start(JobStore.layerMemory)
    try {
      const url = await urlOf(app)
      await waitForTopic(url, "runs", () => app.runPromise(Effect.flatMap(Scheduler.enqueue(hello, { n: 1 }), Scheduler.result)))
    } finally {
      await app.dispose()
    }
  })

  it.skipIf(!process.env.DATABASE_URL)(
    "reach a dashboard from a worker in another process on PostgreSQL (DATABASE_URL)",
    async () => {
      const schema = `cw_dashboard_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
      // each runtime has its own pool and LISTEN connection: two processes, as far as PostgreSQL can tell
      const client = () => PgClient.layerConfig({ url: Config.redacted("DATABASE_URL"), ...PgStore.clientConfig })
      const worker = ManagedRuntime.make(
        Clockwork.layer(jobs, { runner: { workerId: "elsewhere" } }).pipe(
          Layer.provideMerge(PgStore.layer({ schema })),
          Layer.provideMerge(client())
        )
      )
      const dashboard = ManagedRuntime.make(
        Dashboard.layer({ port: 0, token: Config.succeed(Option.none()) }).pipe(
          Layer.provideMerge(Scheduler.layer),
          Layer.provide(Events.layer),
          Layer.provideMerge(PgStore.layer({ schema, migrate: false })),
          Layer.provide(client())
        )
      )
      try {
        await worker.runPromise(Effect.void)
        const url = await dashboard.runPromise(Effect.map(Dashboard.Dashboard, (d) => d.url))
        await waitForTopic(url, "runs", () => worker.runPromise(Scheduler.enqueue(hello, { n: 2 })))
        const page = await (await fetch(new URL("/api/runs?job=hello", url))).json() as any
        expect(page.runs).toEqual([expect.objectContaining({ jobName: "hello", workerId: "elsewhere", final: true })])
      } finally {
        await dashboard.dispose()
        await worker.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`drop schema if exists ${sql(schema)} cascade`))
        await worker.dispose()
      }
    }
  )
})
