import { StoreError } from "@clockwork/core/JobStore"
import { TransactionConnection } from "@effect/sql/SqlClient"
import { Clock, Duration, Effect, Fiber } from "effect"

/**
 * Runs a store operation to its end, whatever happens to its caller.
 *
 * @effect/sql-pg 0.53 answers the interruption of a running query with
 * `pg_cancel_backend(pid)`, sent on another connection. By the time it
 * arrives the query may have ended and its connection gone back to the pool,
 * so it cancels whatever that connection runs next: another call's statement
 * ("canceling statement due to user request"). Here the operation never sees
 * an interruption (it runs in a fiber of its own, uninterruptible), while its
 * caller can still be interrupted, or give up waiting: it is let go at once
 * and the operation ends on its own. A statement once sent commits or fails
 * as it would have; a caller that gave up does not know which.
 */
export const toTheEnd = <A, E, R>(operation: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  // interruptible around the join, so a caller in an uninterruptible region (a finalizer) can still time out
  Effect.interruptible(Effect.disconnect(Effect.uninterruptible(operation)))

// the wait is I/O, not the app's time: a TestClock moved ahead must not time out a statement in flight
const liveClock = Clock.make()

/** How a store runs its operations: to their end, at most `connections` at once, each wait bounded. */
export interface Statements {
  /**
   * Runs `operation` to its end (as `toTheEnd`) once one of the store's
   * `connections` slots is free; its caller waits at most `timeout` in all
   * (then fails with a StoreError naming the operation; the statement may
   * still complete). A network path that went silent (packets dropped,
   * nothing reset) is noticed this way: no socket error ever comes.
   */
  readonly run: (
    operation: string,
    timeout: Duration.Duration | undefined
  ) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
}

/**
 * The slots keep the wait for a connection where it can be abandoned: an
 * operation starts (and then runs to its end) only when it may get a pool
 * connection at once, so a caller interrupted while waiting leaves nothing
 * behind, instead of a statement queued in the pool that would run long after
 * its caller is gone (thousands, when an app times out its requests under
 * load). Inside the app's transaction an operation needs no slot: it runs on
 * the transaction's connection.
 */
export const make = (connections: number): Effect.Effect<Statements> =>
  Effect.map(Effect.makeSemaphore(Math.max(1, connections)), (slots) => {
    const slotted = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.flatMap(Effect.serviceOption(TransactionConnection), (transaction) =>
        transaction._tag === "Some"
          ? toTheEnd(effect)
          : Effect.uninterruptibleMask((restore) =>
            Effect.zipRight(
              restore(slots.take(1)),
              // forked while uninterruptible: the fiber is too, and frees the slot when it ends
              Effect.flatMap(
                Effect.forkDaemon(Effect.ensuring(effect, slots.release(1))),
                (fiber) => Effect.interruptible(Fiber.join(fiber))
              )
            )
          ))
    const run = (operation: string, timeout: Duration.Duration | undefined) =>
    <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | StoreError, R> => {
      if (timeout === undefined) return slotted(effect)
      return Effect.clockWith((clock) =>
        Effect.withClock(
          Effect.timeoutFail(Effect.withClock(slotted(effect), clock), {
            duration: timeout,
            onTimeout: () =>
              new StoreError({
                operation,
                message: `the database did not answer within ${Duration.format(timeout)} ` +
                  `(the statement was not cancelled and may still complete)`
              })
          }),
          liveClock
        )
      )
    }
    return { run }
  })
