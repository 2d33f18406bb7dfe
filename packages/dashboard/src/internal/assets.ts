/**
 * The page's files (hand-written HTML, JS and CSS under the package's
 * `static/`, read once at start) and the headers every response carries: a
 * Content-Security-Policy that allows only this origin's script and style
 * files, so nothing a job name or an error holds can run.
 */
import { HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"

const files = {
  "/": { name: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { name: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { name: "style.css", type: "text/css; charset=utf-8" }
} as const

/** The asset paths the server answers. */
export type AssetPath = keyof typeof files

/** Where `static/` is from this module: `src/internal/` when run from source, `dist/src/internal/` when built. */
const directory = () => {
  const candidates = ["../../static/", "../../../static/"].map((p) => fileURLToPath(new URL(p, import.meta.url)))
  return candidates.find((dir) => Fs.existsSync(`${dir}index.html`)) ?? candidates[0]!
}

/** The files, read once. */
export const load = Effect.sync(() => {
  const dir = directory()
  return Object.fromEntries(
    Object.entries(files).map(([path, file]) => [path, { body: Fs.readFileSync(`${dir}${file.name}`, "utf8"), type: file.type }])
  ) as Record<AssetPath, { readonly body: string; readonly type: string }>
})

/** The response for one file. */
export const response = (asset: { readonly body: string; readonly type: string }) =>
  HttpServerResponse.text(asset.body, { contentType: asset.type, headers: { "cache-control": "no-cache" } })

const securityHeaders = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-resource-policy": "same-origin"
}

/**
 * Adds the security headers to every response, errors included: the server
 * has written the response by the time a middleware's effect ends, so they go
 * in through a pre-response handler.
 */
export const withSecurityHeaders = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.zipRight(
    HttpApp.appendPreResponseHandler((_, response) =>
      Effect.succeed(HttpServerResponse.setHeaders(response, securityHeaders))
    ),
    app
  )

const loopback = new Set(["127.0.0.1", "localhost", "::1", "[::1]"])

/** The host name of a Host header (`127.0.0.1:8080`, `[::1]:8080`, `localhost`). */
const hostnameOf = (header: string | undefined) =>
  header === undefined ? undefined : header.startsWith("[") ? header.slice(0, header.indexOf("]") + 1) : header.split(":")[0]

/**
 * On a dashboard bound to this machine only, answers 421 to a request that
 * names another host: a page on another site whose name resolves to
 * 127.0.0.1 (DNS rebinding) cannot read the dashboard through the browser.
 */
export const loopbackHostOnly = (boundTo: string) => <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  !loopback.has(boundTo) ? app : Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    loopback.has(hostnameOf(request.headers["host"]) ?? "")
      ? app
      : Effect.succeed(
        HttpServerResponse.text(
          `this dashboard answers requests for 127.0.0.1 or localhost only, not for "${request.headers["host"] ?? ""}"`,
          { status: 421, headers: securityHeaders }
        )
      ))
