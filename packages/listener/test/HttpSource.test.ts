/**
 * The HTTP source against a real server on 127.0.0.1.
 */
import { Clockwork, JobStore } from "@clockwork/core"
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Layer, Schedule, Schema, type Scope } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { HttpSource, Listener, ListenerStore } from "../src/index.js"

const Review = Schema.Struct({ id: Schema.Number, text: Schema.String })

interface Server {
  readonly url: string
  /** the request URLs, path and query */
  readonly requests: Array<string>
}

/**
 * `GET /reviews?batch_id=N` answers batch N (2 reviews for batches 0 to 2,
 * none after), `{ total, records }`; with `limit=0` it still sends records, in
 * a shape the Schema refuses, so a count that decoded them would fail.
 * `/broken` answers 500, `/text` a text body, `/odd` records of the wrong shape.
 */
const start: Effect.Effect<Server, never, Scope.Scope> = Effect.acquireRelease(
  Effect.async<{ readonly server: Server; readonly close: () => void }>((resume) => {
    const requests: Array<string> = []
    const http = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://x")
      requests.push(`${url.pathname}${url.search}`)
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { "content-type": "application/json" })
        response.end(JSON.stringify(body))
      }
      switch (url.pathname) {
        case "/reviews": {
          const batch = Number(url.searchParams.get("batch_id"))
          const records = batch <= 2 ? [{ id: batch * 10, text: "a" }, { id: batch * 10 + 1, text: "b" }] : []
          if (url.searchParams.get("limit") === "0") return json(200, { total: records.length, records: [{ nope: true }] })
          return json(200, { total: records.length, records })
        }
        case "/broken":
          return json(500, { error: "down" })
        case "/text":
          response.writeHead(200, { "content-type": "text/plain" })
          return response.end("not json")
        case "/odd":
          return json(200, { total: 1, records: [{ id: "one" }] })
        default:
          response.writeHead(404)
          response.end()
      }
    })
    http.listen(0, "127.0.0.1", () => {
      const { port } = http.address() as AddressInfo
      resume(Effect.succeed({ server: { url: `http://127.0.0.1:${port}`, requests }, close: () => http.close() }))
    })
  }),
  ({ close }) => Effect.sync(close)
).pipe(Effect.map(({ server }) => server))

describe("HttpSource", () => {
  it.scopedLive("searches with the query's path and URL parameters, and decodes the records", () =>
    Effect.gen(function*() {
      const server = yield* start
      const source = HttpSource.make({ url: server.url, records: Review })
      const found = yield* source.search({ path: "/reviews", urlParams: { batch_id: 1 } })
      expect(found).toEqual({ total: 2, records: [{ id: 10, text: "a" }, { id: 11, text: "b" }] })
      expect(server.requests).toEqual(["/reviews?batch_id=1"])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a count sends the count parameters and never decodes records", () =>
    Effect.gen(function*() {
      const server = yield* start
      const source = HttpSource.make({ url: server.url, records: Review })
      expect(yield* source.count({ path: "/reviews", urlParams: { batch_id: 0 } })).toBe(2)
      expect(server.requests).toEqual(["/reviews?batch_id=0&limit=0"])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a failing status, a body that is not JSON, records of the wrong shape, no server: SourceError", () =>
    Effect.gen(function*() {
      const server = yield* start
      const source = HttpSource.make({ url: server.url, records: Review, name: "reviews api" })
      const broken = yield* Effect.flip(source.search({ path: "/broken" }))
      expect(broken.message).toContain(`source "reviews api" failed: GET ${server.url}/broken`)
      expect(broken.message).toContain("500")
      expect((yield* Effect.flip(source.search({ path: "/text" }))).message).toContain("/text")
      const odd = yield* Effect.flip(source.search({ path: "/odd" }))
      expect(odd.message).toContain("the records do not match their schema")
      const closed = HttpSource.make({ url: "http://127.0.0.1:9", records: Review })
      expect((yield* Effect.flip(closed.search({}))).reason).toContain("GET http://127.0.0.1:9")
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("reads its URL from Config on each request", () =>
    Effect.gen(function*() {
      const server = yield* start
      const source = HttpSource.make({ url: Config.string("REVIEWS_API_URL"), records: Review })
      const found = yield* source.search({ path: "/reviews", urlParams: { batch_id: 2 } }).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["REVIEWS_API_URL", server.url]])))
      )
      expect(found.total).toBe(2)
      const missing = yield* Effect.flip(
        source.search({}).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      )
      expect(missing.reason).toContain("no URL")
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a listener on the API handles batch after batch", () =>
    Effect.gen(function*() {
      const server = yield* start
      const handled: Array<ReadonlyArray<number>> = []
      const listener = Listener.make({
        name: "api-reviews",
        source: HttpSource.make({ url: server.url, records: Review }),
        params: Schema.Struct({ batch_id: Schema.Int }),
        initialParams: { batch_id: 0 },
        query: ({ batch_id }) => ({ path: "/reviews", urlParams: { batch_id } }),
        every: "20 millis",
        run: (records, ctx) =>
          Effect.sync(() => {
            handled.push(records.map((r) => r.id))
            return { batch_id: ctx.params.batch_id + 1 }
          })
      })
      yield* Effect.gen(function*() {
        yield* Effect.repeat(Listener.params(listener), {
          until: (params) => params.batch_id === 3,
          schedule: Schedule.spaced("20 millis")
        })
      }).pipe(
        Effect.timeout("20 seconds"),
        Effect.provide(
          Listener.layer([listener]).pipe(
            Layer.provideMerge(Clockwork.layer([listener.job], { runner: { shutdownGrace: 0 } })),
            Layer.provide(Layer.mergeAll(JobStore.layerMemory, ListenerStore.layerMemory, FetchHttpClient.layer))
          )
        )
      )
      expect(handled).toEqual([[0, 1], [10, 11], [20, 21]])
    }), 30_000)
})
