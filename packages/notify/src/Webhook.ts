/**
 * A channel that POSTs each alert as JSON (`Alert.encode`) to a URL, signed
 * so the receiver can tell it came from you and is recent.
 *
 * The `Clockwork-Signature` header is `t=<unix seconds>,v1=<hex>`, where hex is
 * HMAC-SHA256 with the shared secret over `<t>.<body>` (the raw body bytes as
 * received). A receiver recomputes it, compares in constant time, and rejects
 * a timestamp older than its tolerance (a replay): `verify` does all three.
 * `Clockwork-Alert-Id` carries the alert's stable id, to drop a second
 * delivery of the same alert.
 *
 * @example
 * ```ts
 * // in the receiver, with the raw body as a string
 * const ok = Webhook.verify(secret, request.headers["clockwork-signature"], body, Date.now())
 * if (Either.isLeft(ok)) return respond(400, ok.left.message)
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { Clock, Context, Duration, Effect, Either, Layer, Redacted, Schema } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import * as Alert from "./Alert.js"
import * as Channel from "./Channel.js"
import { postJson } from "./internal/post.js"

/**
 * The signature header's name.
 *
 * @since 0.1.0
 * @category constants
 */
export const signatureHeader = "Clockwork-Signature"

/**
 * The alert id header's name.
 *
 * @since 0.1.0
 * @category constants
 */
export const alertIdHeader = "Clockwork-Alert-Id"

/**
 * Where to post.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly url: string
  readonly secret: Redacted.Redacted
  /** the channel's name in the delivery records (default "webhook") */
  readonly name?: string | undefined
}

/**
 * The webhook channel's tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Webhook extends Context.Tag("@clockwork/notify/Webhook")<Webhook, Channel.Channel>() {}

const hmac = (secret: Redacted.Redacted | string, timestamp: number, body: string) =>
  createHmac("sha256", typeof secret === "string" ? secret : Redacted.value(secret)).update(`${timestamp}.${body}`).digest(
    "hex"
  )

/**
 * The signature header's value for a body at a timestamp (unix seconds).
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (secret: Redacted.Redacted | string, timestamp: number, body: string): string =>
  `t=${timestamp},v1=${hmac(secret, timestamp, body)}`

/**
 * Why a webhook's signature was refused.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidSignature extends Schema.TaggedError<InvalidSignature>()("InvalidSignature", {
  reason: Schema.Literal("malformed", "mismatch", "expired")
}) {
  override get message() {
    switch (this.reason) {
      case "malformed":
        return "the signature header is not t=<unix seconds>,v1=<hex>"
      case "mismatch":
        return "the signature does not match the body"
      case "expired":
        return "the signature's timestamp is outside the tolerance (a replay?)"
    }
  }
}

/**
 * Checks a signature header against the raw body: the HMAC must match (in
 * constant time) and the timestamp be within `tolerance` of `now` (epoch
 * milliseconds; default 5 minutes). Succeeds with the signed timestamp.
 *
 * @since 0.1.0
 * @category signing
 */
export const verify = (
  secret: Redacted.Redacted | string,
  header: string | undefined,
  body: string,
  now: number,
  tolerance: Duration.DurationInput = Duration.minutes(5)
): Either.Either<number, InvalidSignature> => {
  const parts = new Map((header ?? "").split(",").map((part) => {
    const at = part.indexOf("=")
    return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const
  }))
  const t = parts.get("t")
  const v1 = parts.get("v1")
  if (t === undefined || !/^\d+$/.test(t) || v1 === undefined || !/^[0-9a-f]{64}$/.test(v1)) {
    return Either.left(new InvalidSignature({ reason: "malformed" }))
  }
  const timestamp = Number(t)
  const expected = Buffer.from(hmac(secret, timestamp, body), "hex")
  if (!timingSafeEqual(expected, Buffer.from(v1, "hex"))) return Either.left(new InvalidSignature({ reason: "mismatch" }))
  if (Math.abs(now - timestamp * 1000) > Duration.toMillis(tolerance)) {
    return Either.left(new InvalidSignature({ reason: "expired" }))
  }
  return Either.right(timestamp)
}

/**
 * Builds the channel on the app's `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Channel.Channel, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (client) => {
    const name = options.name ?? "webhook"
    return Channel.make(name, (alert) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const body = JSON.stringify(Alert.encode(alert))
        return postJson(client, name, options.url, body, {
          [signatureHeader]: sign(options.secret, Math.floor(now / 1000), body),
          [alertIdHeader]: alert.id
        })
      }))
  })

/**
 * The channel as a layer (needs an `HttpClient`, e.g. `NodeHttpClient.layerUndici`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Webhook, never, HttpClient.HttpClient> =>
  Layer.effect(Webhook, make(options))
