/**
 * The progress line of a long operation (migrate, prune), on stderr. On a
 * terminal it is one line rewritten in place with the time spent, erased when
 * the operation ends; elsewhere (a pipe, a log file) it is printed once, so
 * logs stay readable. Nothing is printed with --json.
 */
import { Clock, Effect, Fiber, Schedule } from "effect"
import { duration } from "./output.js"

const write = (text: string) => Effect.sync(() => process.stderr.write(text))

/** Runs `effect` under a progress line saying `label`. */
export const withProgress = <A, E, R>(
  label: string,
  quiet: boolean,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  if (quiet) return effect
  if (process.stderr.isTTY !== true) return Effect.zipRight(write(`${label}…\n`), effect)
  return Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const ticker = yield* Effect.flatMap(Clock.currentTimeMillis, (now) => write(`\r\x1b[K${label}… ${duration(now - start)}`))
      .pipe(Effect.repeat(Schedule.spaced("200 millis")), Effect.fork)
    return yield* effect.pipe(Effect.ensuring(Effect.zipRight(Fiber.interrupt(ticker), write("\r\x1b[K"))))
  })
}
