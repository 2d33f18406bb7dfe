/**
 * HTTP request jobs: a job that sends one request (the rq scheduler's
 * `job_request`) to a base URL read from `Config` plus a path, and succeeds
 * when the answer has the expected status. The request goes through
 * `@effect/platform`'s `HttpClient`, so when the run is interrupted (its
 * timeout, a cancel, a shutdown) the request is aborted and its connection
 * closed.
 *
 * @since 0.1.0
 */
import { Job, type Policy } from "@clockwork/core"
import {
  FetchHttpClient,
  type Headers,
  HttpClient,
  type HttpClientError,
  HttpClientRequest,
  type HttpClientResponse,
  HttpMethod,
  type UrlParams
} from "@effect/platform"
import { Config, ConfigError, type Duration, Effect, type Layer, ParseResult, Schedule, Schema, Stream } from "effect"
import * as internal from "./internal/request.js"

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * The server answered with a status the job does not accept (by default, any
 * status outside 2xx). `body` is the start of the response body.
 *
 * @since 0.1.0
 * @category errors
 */
export class HttpStatusError extends Schema.TaggedError<HttpStatusError>()("HttpStatusError", {
  method: Schema.String,
  url: Schema.String,
  status: Schema.Int,
  body: Schema.String
}) {
  override get message() {
    return `${this.method} ${this.url} answered ${this.status}${this.body.length === 0 ? "" : `: ${this.body}`}`
  }
}

/**
 * The request got no answer: the connection was refused or reset, the host
 * is unknown (`reason: "Transport"`, with the system error `code` when there
 * is one), the URL is malformed (`"InvalidUrl"`) or the body could not be
 * encoded (`"Encode"`).
 *
 * @since 0.1.0
 * @category errors
 */
export class HttpRequestError extends Schema.TaggedError<HttpRequestError>()("HttpRequestError", {
  method: Schema.String,
  url: Schema.String,
  reason: Schema.Literal("Transport", "Encode", "InvalidUrl"),
  detail: Schema.String,
  code: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${this.method} ${this.url} failed: ${this.detail}`
  }
}

/**
 * The answer had an accepted status, but its body is not JSON or does not
 * match the job's `success` Schema.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidResponseBody extends Schema.TaggedError<InvalidResponseBody>()("InvalidResponseBody", {
  method: Schema.String,
  url: Schema.String,
  status: Schema.Int,
  reason: Schema.String
}) {
  override get message() {
    return `${this.method} ${this.url} answered ${this.status} with a body that does not match: ${this.reason}`
  }
}

/**
 * Every way an HTTP request job can fail. A missing or malformed base URL is
 * a `ConfigError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type HttpJobError = HttpStatusError | HttpRequestError | InvalidResponseBody | ConfigError.ConfigError

// ---------------------------------------------------------------------------
// retries
// ---------------------------------------------------------------------------

/**
 * Whether a failure may go away on its own: no answer (connection refused or
 * reset), a 5xx, 408 or 429, and anything that is not an HTTP job error (a
 * timeout, say). A 4xx, an unexpected 2xx, a body that does not match, a
 * malformed URL or a missing config value will fail the same way next time.
 *
 * @since 0.1.0
 * @category retries
 */
export const isTransient = (error: unknown): boolean => {
  if (error instanceof HttpStatusError) return error.status >= 500 || error.status === 408 || error.status === 429
  if (error instanceof HttpRequestError) return error.reason === "Transport"
  if (error instanceof InvalidResponseBody) return false
  return !ConfigError.isConfigError(error)
}

/**
 * A retry policy that follows `schedule` for transient failures (see
 * `isTransient`) and gives up at once on the others.
 *
 * @example
 * ```ts
 * HttpJob.make({
 *   name: "ping",
 *   path: "/ping",
 *   retry: HttpJob.retryTransient(Schedule.spaced("5 seconds").pipe(Schedule.intersect(Schedule.recurs(3))))
 * })
 * ```
 * @since 0.1.0
 * @category retries
 */
export const retryTransient = <Out>(schedule: Schedule.Schedule<Out, unknown>): Schedule.Schedule<Out, unknown> =>
  Schedule.whileInput(schedule, isTransient)

/**
 * The default retry policy of an HTTP job: the core default (exponential
 * backoff from 1 second with jitter, 5 attempts) for transient failures only.
 *
 * @since 0.1.0
 * @category retries
 */
export const defaultRetry: Schedule.Schedule<unknown, unknown> = retryTransient(Job.defaultRetry)

// ---------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------

/**
 * The base URL read when no `baseUrl` is given: `API_BASE_URL`.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultBaseUrl: Config.Config<string> = Config.string("API_BASE_URL")

/**
 * How to build an HTTP request job. Everything that depends on the run's
 * payload is a function of it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<P, PI, A, AI> {
  readonly name: string
  /** default: an empty struct (the job takes `{}`) */
  readonly payload?: Schema.Schema<P, PI>
  /** read on every run; default `Config.string("API_BASE_URL")` */
  readonly baseUrl?: Config.Config<string>
  /** default "GET" */
  readonly method?: HttpMethod.HttpMethod
  /** appended to the base URL with one slash between them */
  readonly path: string | ((payload: P) => string)
  /** query parameters */
  readonly query?: UrlParams.Input | ((payload: P) => UrlParams.Input)
  readonly headers?: Headers.Input | ((payload: P) => Headers.Input)
  /** sent as JSON (methods with a body only) */
  readonly body?: (payload: P) => unknown
  /** the statuses that mean success; default any 2xx. Redirects are followed first. */
  readonly expectStatus?: number | ReadonlyArray<number>
  /** decodes the JSON response into the run's result; without it the body is discarded */
  readonly success?: Schema.Schema<A, AI>
  /** the run's timeout, which aborts the request; default 15 minutes */
  readonly timeout?: Duration.DurationInput
  /** a Schedule over failures; default `defaultRetry` (transient failures only) */
  readonly retry?: Schedule.Schedule<unknown, any>
  readonly concurrency?: number
  readonly overlap?: Policy.Overlap
}

const isAccepted = (expect: number | ReadonlyArray<number> | undefined) =>
  expect === undefined
    ? (status: number) => status >= 200 && status < 300
    : typeof expect === "number"
    ? (status: number) => status === expect
    : (status: number) => expect.includes(status)

/**
 * Defines a job that sends one HTTP request per run. The run succeeds when
 * the answer's status is accepted; its status is stored in the run's metrics
 * and, with a `success` Schema, the decoded JSON body is its result. Any
 * other answer, or none, is a typed failure, retried on the job's retry
 * policy. The job needs an `HttpClient`: `layerFetch`, or any other.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { HttpJob } from "@clockwork/http"
 *
 * // POST {API_BASE_URL}/v1/feeds/{feed}/refresh
 * const refreshFeed = HttpJob.make({
 *   name: "refresh-feed",
 *   method: "POST",
 *   payload: Schema.Struct({ feed: Schema.String }),
 *   path: ({ feed }) => `/v1/feeds/${encodeURIComponent(feed)}/refresh`,
 *   body: ({ feed }) => ({ feed, force: true }),
 *   success: Schema.Struct({ articles: Schema.Int }),
 *   timeout: "30 seconds"
 * })
 * // Job<{ feed: string }, { articles: number }, HttpJob.HttpJobError, HttpClient>
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = <P = {}, PI = {}, A = void, AI = void>(
  options: Options<P, PI, A, AI>
): Job.Job<P, A, HttpJobError, HttpClient.HttpClient> => {
  const method = options.method ?? "GET"
  const baseUrl = options.baseUrl ?? defaultBaseUrl
  const accepted = isAccepted(options.expectStatus)
  const success = options.success
  const decodeSuccess = success === undefined ? undefined : Schema.decodeUnknown(success)
  const valueOf = <T>(input: T | ((payload: P) => T), payload: P): T =>
    typeof input === "function" ? (input as (payload: P) => T)(payload) : input

  return Job.make<P, PI, HttpJobError, HttpClient.HttpClient, A, AI>({
    name: options.name,
    payload: options.payload ?? (Schema.Struct({}) as unknown as Schema.Schema<P, PI>),
    ...(success === undefined ? {} : { success }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    retry: options.retry ?? defaultRetry,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.overlap === undefined ? {} : { overlap: options.overlap }),
    run: (payload, ctx) =>
      Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const url = internal.joinUrl(yield* baseUrl, valueOf(options.path, payload))
        const requestError = (error: HttpClientError.HttpClientError) => {
          const { code, detail } = internal.describeFailure(error)
          return new HttpRequestError({
            method,
            url,
            reason: error._tag === "RequestError" ? error.reason : "Transport",
            detail,
            ...(code === undefined ? {} : { code })
          })
        }

        let request = HttpClientRequest.make(method)(url)
        if (options.query !== undefined) {
          request = HttpClientRequest.setUrlParams(request, valueOf(options.query, payload))
        }
        if (options.headers !== undefined) {
          request = HttpClientRequest.setHeaders(request, valueOf(options.headers, payload))
        }
        if (options.body !== undefined) {
          if (!HttpMethod.hasBody(method)) {
            return yield* new HttpRequestError({
              method,
              url,
              reason: "Encode",
              detail: `a ${method} request cannot have a body`
            })
          }
          request = yield* HttpClientRequest.bodyJson(request, options.body(payload)).pipe(
            Effect.mapError((error) =>
              new HttpRequestError({
                method,
                url,
                reason: "Encode",
                detail: error.reason.error instanceof Error ? error.reason.error.message : String(error.reason.error)
              })
            )
          )
        }
        if (success !== undefined) request = HttpClientRequest.acceptJson(request)

        // interrupting this fiber aborts the request (and a body being read)
        const response: HttpClientResponse.HttpClientResponse = yield* client.execute(request).pipe(
          Effect.mapError(requestError)
        )
        const status = response.status
        if (!accepted(status)) {
          return yield* new HttpStatusError({ method, url, status, body: yield* internal.bodyExcerpt(response) })
        }
        yield* ctx.metrics({ status })

        if (decodeSuccess === undefined) {
          // read to the end, so the connection can serve the next request
          yield* Stream.runDrain(response.stream).pipe(Effect.mapError(requestError))
          return undefined as A
        }
        const text = yield* response.text.pipe(Effect.mapError(requestError))
        const invalid = (reason: string) => new InvalidResponseBody({ method, url, status, reason })
        const json = yield* Effect.try({
          try: (): unknown => text.trim().length === 0 ? undefined : JSON.parse(text),
          catch: (error) => invalid(`not JSON (${error instanceof Error ? error.message : String(error)})`)
        })
        return yield* decodeSuccess(json).pipe(
          Effect.mapError((error) => invalid(ParseResult.TreeFormatter.formatErrorSync(error)))
        )
      })
  })
}

// ---------------------------------------------------------------------------
// layers
// ---------------------------------------------------------------------------

/**
 * An `HttpClient` on the platform's `fetch` (Node 20 or later, Deno, Bun,
 * browsers): `FetchHttpClient.layer` from `@effect/platform`. An app may
 * provide any other `HttpClient` instead: one that adds an authorization
 * header (`HttpClient.mapRequest`), or `NodeHttpClient.layerUndici`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFetch: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer
