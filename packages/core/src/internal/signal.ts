import { Effect, Queue } from "effect"

/**
 * A loop's wake-up. Given many times before the loop takes it (once per run,
 * say), it is queued once; taken, or the wait given up, it can be given
 * again, so a signal given while the loop is busy wakes its next wait.
 */
export interface Signal {
  readonly give: () => void
  readonly wait: Effect.Effect<void>
}

export const make: Effect.Effect<Signal> = Effect.map(Queue.sliding<void>(1), (queue) => {
  let given = false
  return {
    give: () => {
      if (given) return
      given = true
      queue.unsafeOffer(undefined)
    },
    wait: Effect.ensuring(
      Queue.take(queue),
      Effect.sync(() => {
        given = false
      })
    )
  }
})
