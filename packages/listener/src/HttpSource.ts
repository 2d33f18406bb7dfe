/**
 * A source over a JSON API, through @effect/platform's `HttpClient`: a GET to
 * the source's URL plus the query's path and URL parameters, answered with
 * `{ "total": 12, "records": [...] }` (field names configurable). A count-only
 * query sends the same request with `countParams` added (`limit=0` by
 * default) and reads only `total`: its records, if any come back, are never
 * decoded.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as UrlParams from "@effect/platform/UrlParams"
import { type Config, Effect, ParseResult, Predicate, Schema } from "effect"
import { describe } from "./internal/describe.js"
import * as Source from "./Source.js"

/**
 * What an HTTP source is queried with: a path under the source's URL and URL
 * parameters (encoded by the client).
 *
 * @since 0.1.0
 * @category models
 */
export interface Query {
  readonly path?: string
  readonly urlParams?: UrlParams.CoercibleRecord
}

/**
 * Settings for an HTTP source.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<Rec, I> {
  /** the base URL, or a Config read on each request (`Config.string("REVIEWS_API_URL")`) */
  readonly url: string | Config.Config<string>
  /** one record, as the API sends it */
  readonly records: Schema.Schema<Rec, I>
  /** where the answer keeps the total and the records (default "total" and "records") */
  readonly fields?: { readonly total?: string; readonly records?: string }
  /** URL parameters that make the API count without sending records (default `{ limit: 0 }`) */
  readonly countParams?: UrlParams.CoercibleRecord
  /** headers sent with every request (an API key...) */
  readonly headers?: { readonly [name: string]: string }
  /** default "http <url>" */
  readonly name?: string
}

const joinUrl = (base: string, path: string): string =>
  path.length === 0 ? base : `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`

/**
 * A source over a JSON API. It needs an `HttpClient` in the app's context
 * (`FetchHttpClient.layer`, `NodeHttpClient.layerUndici`...). A status other
 * than 2xx, an answer that is not JSON, or records that do not match the
 * Schema fail the search with `SourceError`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { HttpSource } from "@clockwork/listener"
 *
 * const reviews = HttpSource.make({
 *   url: "https://reviews.example.com/api",
 *   records: Schema.Struct({ id: Schema.Number, text: Schema.String })
 * })
 * // query: ({ batchId }) => ({ path: "/reviews", urlParams: { batch_id: batchId } })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = <Rec, I>(
  options: Options<Rec, I>
): Source.Source<Query, Rec, Source.SourceError, HttpClient.HttpClient> => {
  const name = options.name ?? `http ${typeof options.url === "string" ? options.url : "(config)"}`
  const totalField = options.fields?.total ?? "total"
  const recordsField = options.fields?.records ?? "records"
  const countParams = options.countParams ?? { limit: 0 }
  const decodeRecords = Schema.decodeUnknown(Schema.Array(options.records))
  const fail = (reason: string, cause?: unknown) =>
    new Source.SourceError({ source: name, reason, ...(cause === undefined ? {} : { cause }) })

  const get = (query: Query, extra: UrlParams.CoercibleRecord | undefined) =>
    Effect.gen(function*() {
      const base = typeof options.url === "string"
        ? options.url
        : yield* Effect.mapError(options.url, (error) => fail(`no URL: ${describe(error)}`, error))
      const client = HttpClient.filterStatusOk(yield* HttpClient.HttpClient)
      const url = joinUrl(base, query.path ?? "")
      const response = yield* client.get(url, {
        urlParams: extra === undefined ? query.urlParams ?? {} : { ...query.urlParams, ...extra },
        headers: { accept: "application/json", ...options.headers }
      }).pipe(Effect.mapError((error) => fail(`GET ${url}: ${describe(error)}`, error)))
      const body = yield* Effect.mapError(response.json, (error) => fail(`GET ${url}: ${describe(error)}`, error))
      if (!Predicate.isRecord(body)) return yield* fail(`GET ${url}: the answer is not a JSON object`)
      return { url, body }
    })

  const totalOf = (url: string, body: { readonly [key: string]: unknown }, fallback: number | undefined) => {
    const total = body[totalField]
    if (typeof total === "number") return Effect.succeed(total)
    if (total === undefined && fallback !== undefined) return Effect.succeed(fallback)
    return Effect.fail(fail(`GET ${url}: the answer has no number at "${totalField}"`))
  }

  return {
    name,
    records: options.records,
    search: (query) =>
      Effect.gen(function*() {
        const { body, url } = yield* get(query, undefined)
        const records = yield* decodeRecords(body[recordsField] ?? []).pipe(
          Effect.mapError((error) =>
            fail(`GET ${url}: the records do not match their schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)
          )
        )
        return { total: yield* totalOf(url, body, records.length), records }
      }),
    count: (query) =>
      Effect.flatMap(get(query, countParams), ({ body, url }) => {
        const records = body[recordsField]
        return totalOf(url, body, Array.isArray(records) && records.length === 0 ? 0 : undefined)
      })
  }
}
