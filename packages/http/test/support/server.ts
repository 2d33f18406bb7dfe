import { Clockwork, type Job, JobStore } from "@clockwork/core"
import { FetchHttpClient } from "@effect/platform"
import { ConfigProvider, Deferred, Effect, Exit, Layer, type Scope } from "effect"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"

/** A request as the server saw it. */
export interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly requests: Array<Seen>
  readonly hits: (path: string) => number
  /** completed when a request to /hang arrives */
  readonly hangArrived: Deferred.Deferred<void>
  /** completed with `Date.now()` when the socket of that request closes */
  readonly hangClosed: Deferred.Deferred<number>
}

export const missingBody = `no such feed: ${"x".repeat(2000)}`

/**
 * A real HTTP server on 127.0.0.1 (an ephemeral port), for as long as the
 * scope. Routes:
 * - `/flaky`: 500 the first time, then 200 `{"alerts":1}`
 * - `/hang`: never answers
 * - `/old-news`: 302 to `/v1/jobs/breaking-news`
 * - `/missing`: 404 with a body longer than an error keeps
 * - `/not-json`: 200 with a text body
 * - anything else: 200 `{"alerts":2}`
 */
export const testServer: Effect.Effect<TestServer, never, Scope.Scope> = Effect.gen(function*() {
  const hangArrived = yield* Deferred.make<void>()
  const hangClosed = yield* Deferred.make<number>()
  const requests: Array<Seen> = []
  const hits = (path: string) => requests.filter((r) => new URL(r.url, "http://x").pathname === path).length

  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8")
      })
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(JSON.stringify(body))
      }
      switch (new URL(req.url ?? "/", "http://x").pathname) {
        case "/flaky":
          if (hits("/flaky") === 1) {
            res.writeHead(500, { "content-type": "text/plain" })
            res.end("database is warming up")
          } else {
            json(200, { alerts: 1 })
          }
          return
        case "/hang":
          req.socket.once("close", () => Deferred.unsafeDone(hangClosed, Exit.succeed(Date.now())))
          Deferred.unsafeDone(hangArrived, Exit.void)
          return
        case "/old-news":
          res.writeHead(302, { location: "/v1/jobs/breaking-news" })
          res.end()
          return
        case "/missing":
          res.writeHead(404, { "content-type": "text/plain" })
          res.end(missingBody)
          return
        case "/not-json":
          res.writeHead(200, { "content-type": "text/plain" })
          res.end("all quiet")
          return
        default:
          json(200, { alerts: 2 })
      }
    })
  })

  const port = yield* Effect.acquireRelease(
    Effect.async<number>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as AddressInfo).port)))
    }),
    () =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )
  return { url: `http://127.0.0.1:${port}`, requests, hits, hangArrived, hangClosed }
})

/** A port on 127.0.0.1 with nothing listening: bound once, then released. */
export const closedPort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * The app on the live clock: the jobs on a memory store, with fetch as the
 * HttpClient. No shutdown grace, so a test that fails mid-run ends at once.
 */
export const app = <const Jobs extends ReadonlyArray<Job.Any>>(jobs: Jobs) =>
  Clockwork.layer(jobs, { reaper: false, runner: { shutdownGrace: 0 } }).pipe(
    Layer.provide(JobStore.layerMemory),
    Layer.provide(FetchHttpClient.layer)
  )

/** API_BASE_URL (and any other variables) from a map, for the app and its runs. */
export const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
