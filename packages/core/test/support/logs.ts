import { Logger } from "effect"

/** A logger that keeps each message logged through it, as text, in `lines`. */
export const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ message }) => {
    lines.push(String(Array.isArray(message) ? message.join(" ") : message))
  })
  return { lines, logger }
}
