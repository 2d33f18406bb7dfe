/**
 * A compact logger for the demo: seconds since start, the job (when the line
 * comes from a run), the message.
 */
import { Clock, Effect, HashMap, Layer, Logger, LogLevel, Option } from "effect"

export const seconds = (millis: number): string => `${(millis / 1000).toFixed(2)}s`

const format = (start: number) =>
  Logger.make(({ annotations, date, logLevel, message }) => {
    const job = Option.getOrElse(HashMap.get(annotations, "job"), () => "")
    const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
    const level = LogLevel.greaterThanEqual(logLevel, LogLevel.Warning) ? `${logLevel.label} ` : ""
    globalThis.console.log(`+${seconds(date.getTime() - start).padStart(7)}  ${String(job).padEnd(20)} ${level}${text}`)
  })

/** Replaces the default logger, measuring time from when the layer is built. */
export const layer: Layer.Layer<never> = Logger.replaceEffect(
  Logger.defaultLogger,
  Effect.map(Clock.currentTimeMillis, format)
)
