/**
 * A channel that writes alerts to the log (a warning with the alert's text),
 * for development and as a record next to the other channels.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import * as Alert from "./Alert.js"
import * as Channel from "./Channel.js"

/**
 * The log channel's tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Log extends Context.Tag("@clockwork/notify/Log")<Log, Channel.Channel>() {}

/**
 * The log channel, named "log".
 *
 * @since 0.1.0
 * @category constructors
 */
export const channel: Channel.Channel = Channel.make(
  "log",
  (alert) => Effect.logWarning(Alert.text(alert)).pipe(Effect.annotateLogs({ alert: alert.id }))
)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Log> = Layer.succeed(Log, channel)
