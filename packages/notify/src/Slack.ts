/**
 * A channel that posts alerts to a Slack-compatible incoming webhook
 * (Slack, Mattermost, Rocket.Chat...): `{ text, blocks }`, the subject as
 * text and the details in a code block.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { Context, Effect, Layer, Redacted } from "effect"
import * as Alert from "./Alert.js"
import * as Channel from "./Channel.js"
import { postJson } from "./internal/post.js"

/**
 * Where to post. The URL is redacted: an incoming webhook's URL is its secret.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly url: Redacted.Redacted
  /** the channel's name in the delivery records (default "slack") */
  readonly name?: string | undefined
}

/**
 * The Slack channel's tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Slack extends Context.Tag("@clockwork/notify/Slack")<Slack, Channel.Channel>() {}

// Slack's own escaping: only these three are control characters in its text
const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

// a section's text is limited to 3000 characters
const limit = (text: string) => text.length > 2900 ? `${text.slice(0, 2900)}\n…` : text

/**
 * The message posted for an alert.
 *
 * @since 0.1.0
 * @category rendering
 */
export const message = (alert: Alert.Alert): { readonly text: string; readonly blocks: ReadonlyArray<unknown> } => {
  const subject = escape(Alert.subject(alert))
  return {
    text: subject,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${subject}*` } },
      { type: "section", text: { type: "mrkdwn", text: `\`\`\`${limit(escape(Alert.text(alert)))}\`\`\`` } }
    ]
  }
}

/**
 * Builds the channel on the app's `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Channel.Channel, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (client) => {
    const name = options.name ?? "slack"
    return Channel.make(
      name,
      (alert) => postJson(client, name, Redacted.value(options.url), JSON.stringify(message(alert)), {})
    )
  })

/**
 * The channel as a layer (needs an `HttpClient`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Slack, never, HttpClient.HttpClient> =>
  Layer.effect(Slack, make(options))
