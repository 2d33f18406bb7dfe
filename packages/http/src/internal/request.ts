import type { HttpClientError, HttpClientResponse } from "@effect/platform"
import { Effect, Stream } from "effect"

/** How much of an error response's body an error keeps. */
export const excerptLength = 1000

/**
 * The base URL and the path joined by exactly one slash. Plain concatenation
 * (not `new URL(path, base)`) keeps a path prefix in the base URL:
 * `https://api.example.com/internal` + `/v1/jobs` stays under `/internal`.
 */
export const joinUrl = (base: string, path: string): string => {
  if (path.length === 0) return base
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`
}

/**
 * The first `excerptLength` characters of a response body. Only that much is
 * read: the rest of the stream is dropped (and the connection with it). A
 * body that cannot be read gives an empty excerpt; the status says enough.
 */
export const bodyExcerpt = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<string> =>
  response.stream.pipe(
    Stream.decodeText(),
    Stream.runFoldWhile("", (text) => text.length <= excerptLength, (text, chunk) => text + chunk),
    Effect.map((text) => text.length > excerptLength ? `${text.slice(0, excerptLength)}…` : text),
    Effect.orElseSucceed(() => "")
  )

const messageOf = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null) return error === undefined ? undefined : String(error)
  const message = "message" in error ? String(error.message) : ""
  if (message.length > 0) return message
  // an AggregateError (every address of a host refused) carries its reasons in `errors`
  if ("errors" in error && Array.isArray(error.errors)) {
    const reasons = error.errors.map(messageOf).filter((m): m is string => m !== undefined)
    return reasons.length > 0 ? reasons.join("; ") : undefined
  }
  return undefined
}

/**
 * What went wrong under a client error, in words, and the system error code
 * (ECONNREFUSED, ENOTFOUND...) when there is one. fetch reports "fetch
 * failed" and puts the reason in `cause`, so the chain is walked.
 */
export const describeFailure = (
  error: HttpClientError.HttpClientError
): { readonly detail: string; readonly code: string | undefined } => {
  const messages: Array<string> = []
  let code: string | undefined
  let current: unknown = error.cause
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const message = messageOf(current)
    if (message !== undefined && !messages.includes(message)) messages.push(message)
    if (typeof current === "object" && "code" in current && typeof current.code === "string") code = current.code
    current = typeof current === "object" && "cause" in current ? current.cause : undefined
  }
  if (error.description !== undefined) messages.unshift(error.description)
  return { detail: messages.length > 0 ? messages.join(": ") : `${error.reason} error`, code }
}
