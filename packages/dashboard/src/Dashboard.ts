/**
 * The dashboard server: the page, its JSON API (`/api`, OpenAPI at
 * `/api/openapi.json`), live updates as server-sent events (`/api/events`)
 * and Prometheus metrics (`/metrics`), on one port of this machine, over the
 * app's scheduler and store.
 *
 * @since 0.1.0
 */
import { JobStore, Scheduler } from "@clockwork/core"
import { HttpApiBuilder, type HttpApp, HttpServer, HttpServerResponse } from "@effect/platform"
import type { ServeError } from "@effect/platform/HttpServerError"
import { NodeHttpServer } from "@effect/platform-node"
import { Config, type ConfigError, Context, Effect, Layer, Option, type Redacted, Stream } from "effect"
import { createServer } from "node:http"
import * as Api from "./DashboardApi.js"
import * as Assets from "./internal/assets.js"
import * as Handlers from "./internal/handlers.js"
import * as Live from "./internal/live.js"
import * as Metrics from "./internal/metrics.js"

/**
 * Where the dashboard serves.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** 0 picks a free port */
  readonly port: number
  /** default 127.0.0.1: only this machine can reach it */
  readonly host?: string | undefined
  /**
   * the token actions need (`Authorization: Bearer <token>`); default: the
   * `CLOCKWORK_DASHBOARD_TOKEN` variable, and read-only when it is unset
   */
  readonly token?: Config.Config<Option.Option<Redacted.Redacted>> | undefined
}

/**
 * The running dashboard.
 *
 * @since 0.1.0
 * @category models
 */
export interface Dashboard {
  /** the page's address, e.g. `http://127.0.0.1:8080/` */
  readonly url: string
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Dashboard: Context.Tag<Dashboard, Dashboard> = Context.GenericTag<Dashboard>(
  "@clockwork/dashboard/Dashboard"
)

/**
 * The token from `CLOCKWORK_DASHBOARD_TOKEN`, when set.
 *
 * @since 0.1.0
 * @category config
 */
export const tokenConfig: Config.Config<Option.Option<Redacted.Redacted>> = Config.option(
  Config.redacted("CLOCKWORK_DASHBOARD_TOKEN")
)

const encoder = new TextEncoder()

const sse = (updates: Stream.Stream<ReadonlyArray<Live.Topic>, JobStore.StoreError>) =>
  Stream.concat(
    Stream.make("retry: 2000\n\n"),
    Stream.merge(
      updates.pipe(
        Stream.map((topics) => `event: update\ndata: ${JSON.stringify({ topics })}\n\n`),
        // the page's EventSource connects again (after `retry`) and refetches everything
        Stream.catchAll((error) => Stream.make(`event: failure\ndata: ${JSON.stringify({ message: error.message })}\n\n`))
      ),
      // a comment now and then, so that proxies keep an idle connection open
      Stream.as(Stream.tick("15 seconds"), ": keep-alive\n\n"),
      { haltStrategy: "left" }
    )
  ).pipe(Stream.map((text) => encoder.encode(text)))

const routes = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const store = yield* JobStore.JobStore
    const assets = yield* Assets.load
    for (const path of ["/", "/app.js", "/style.css"] as const) {
      yield* router.get(path, Effect.succeed(Assets.response(assets[path])))
    }
    yield* router.get(
      "/api/events",
      Effect.sync(() =>
        HttpServerResponse.stream(sse(Live.updates(scheduler, store)), {
          contentType: "text/event-stream",
          headers: { "cache-control": "no-cache" }
        })
      )
    )
    yield* router.get(
      "/metrics",
      Metrics.text(scheduler).pipe(
        Effect.map((text) => HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" })),
        Effect.catchAll((error) => Effect.succeed(HttpServerResponse.text(error.message, { status: 503 })))
      )
    )
  })
)

/**
 * Serves the dashboard inside an app, as long as the layer lives.
 *
 * @example
 * ```ts
 * const App = Dashboard.layer({ port: 8080 }).pipe(Layer.provide(Clockwork.layer([sendNewsletter])))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Dashboard, ServeError | ConfigError.ConfigError, Scheduler.Scheduler | JobStore.JobStore> => {
  const host = options.host ?? "127.0.0.1"
  const api = Layer.unwrapEffect(Effect.map(options.token ?? tokenConfig, (token) =>
    HttpApiBuilder.api(Api.api).pipe(
      Layer.provide([Handlers.read, Handlers.actions]),
      Layer.provide(Handlers.authorization(token))
    )))
  const dashboard = Layer.effect(
    Dashboard,
    Effect.gen(function*() {
      const server = yield* HttpServer.HttpServer
      const url = server.address._tag === "TcpAddress"
        ? `http://${server.address.hostname.includes(":") ? `[${server.address.hostname}]` : server.address.hostname}:${server.address.port}/`
        : `unix:${server.address.path}`
      yield* Effect.logInfo(`clockwork dashboard on ${url}`)
      return { url }
    })
  )
  const middleware = <E, R>(app: HttpApp.Default<E, R>) => Assets.withSecurityHeaders(Assets.loopbackHostOnly(host)(app))
  return Layer.merge(HttpApiBuilder.serve(middleware), dashboard).pipe(
    Layer.provide(routes),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
    Layer.provide(api),
    Layer.provide(NodeHttpServer.layer(createServer, { port: options.port, host }))
  )
}
