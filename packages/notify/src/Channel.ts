/**
 * Where alerts go. A channel is a small service with a name and `send`; the
 * package has email (`Email`), signed webhooks (`Webhook`), Slack-compatible
 * incoming webhooks (`Slack`) and the log (`Log`). Your own channel is a tag
 * whose service `make` builds:
 *
 * @example
 * ```ts
 * class Pager extends Context.Tag("app/Pager")<Pager, Channel.Channel>() {}
 * const PagerLive = Layer.succeed(Pager, Channel.make("pager", (alert) => pageOnCall(Alert.subject(alert))))
 * ```
 *
 * @since 0.1.0
 */
import type { Context } from "effect"
import { type Effect, Schema } from "effect"
import type { Alert } from "./Alert.js"

/**
 * A channel could not deliver an alert (server down, refused, timed out).
 *
 * @since 0.1.0
 * @category errors
 */
export class ChannelError extends Schema.TaggedError<ChannelError>()("ChannelError", {
  channel: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `channel "${this.channel}" could not deliver: ${this.reason}`
  }
}

/**
 * A channel. Its `name` keys the delivery records, so it stays the same
 * across restarts and is unique among a notifier's channels.
 *
 * @since 0.1.0
 * @category models
 */
export interface Channel {
  readonly name: string
  readonly send: (alert: Alert) => Effect.Effect<void, ChannelError>
}

/**
 * A tag whose service is a channel, as `Notify.layer`'s `channels` takes them.
 *
 * @since 0.1.0
 * @category models
 */
export type Tag<Id = any> = Context.Tag<Id, Channel>

/**
 * Builds a channel.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (name: string, send: (alert: Alert) => Effect.Effect<void, ChannelError>): Channel => ({ name, send })
