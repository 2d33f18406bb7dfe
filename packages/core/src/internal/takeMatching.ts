import { Effect, Queue } from "effect"

/**
 * The next item of `queue` that `matches`; the others are taken and dropped.
 * A plain loop of takes: `Effect.repeat` with `until` runs a Schedule's
 * machinery for every item, 40 µs of CPU each where a take costs 3, and a
 * process's change feed hands every subscriber every change.
 */
export const takeMatching = <A>(queue: Queue.Dequeue<A>, matches: (item: A) => boolean): Effect.Effect<A> => {
  const next: Effect.Effect<A> = Effect.flatMap(Queue.take(queue), (item) => matches(item) ? Effect.succeed(item) : next)
  return next
}
