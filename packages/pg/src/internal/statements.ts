import { StoreError } from "@clockwork/core/JobStore"
import { TransactionConnection } from "@effect/sql/SqlClient"
import { Duration, Effect, type Exit, type Fiber } from "effect"
import * as Slots from "./slots.js"

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
 *
 * Every store call goes through here, so the common case is kept cheap: the
 * operation runs on a fiber of its own, and the caller waits for it with a
 * plain timer and an observer of that fiber (`Effect.timeoutFail` races two
 * fibers and joins one, about 0.1 ms of CPU a call). The wait is I/O, not
 * the app's time: a TestClock moved ahead must not time out a statement in
 * flight, and a timer is the live clock.
 */
export const make = (connections: number): Effect.Effect<Statements> =>
  Effect.sync(() => {
    const slots = Slots.make(Math.max(1, connections))

    const run = (operation: string, timeout: Duration.Duration | undefined) =>
    <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | StoreError, R> => {
      const ms = timeout === undefined ? undefined : timerMillis(timeout)
      const timedOut = () =>
        new StoreError({
          operation,
          message: `the database did not answer within ${Duration.format(timeout!)} ` +
            `(the statement was not cancelled and may still complete)`
        })
      return Effect.flatMap(Effect.serviceOption(TransactionConnection), (transaction) => {
        const startedAt = Date.now()
        const left = () => ms === undefined ? undefined : Math.max(0, ms - (Date.now() - startedAt))
        // forked while uninterruptible: the fiber is too, and runs to its end whatever its caller does
        const forked = (slotted: boolean) =>
          Effect.flatMap(
            Effect.forkDaemon(slotted ? Effect.ensuring(effect, slots.release) : effect),
            (fiber) => Effect.interruptible(awaitWithin(fiber, left(), timedOut))
          )
        if (transaction._tag === "Some") return Effect.uninterruptible(forked(false))
        return slots.take(forked(true), ms === undefined ? undefined : { ms, onTimeout: timedOut })
      })
    }
    return { run }
  })

/** A wait as a timer's delay; none beyond what a timer can wait (24.8 days), which is no bound in practice. */
const timerMillis = (timeout: Duration.Duration) =>
  Duration.isFinite(timeout) && Duration.toMillis(timeout) <= 2 ** 31 - 1 ? Duration.toMillis(timeout) : undefined

/**
 * The fiber's exit, or `onTimeout` after `ms` (none: no limit). The fiber's
 * FiberRefs are not merged into the caller's, as `Fiber.join` would: a store
 * operation sets none its caller needs.
 */
const awaitWithin = <A, E, X>(
  fiber: Fiber.RuntimeFiber<A, E>,
  ms: number | undefined,
  onTimeout: () => X
): Effect.Effect<A, E | X> =>
  Effect.async<A, E | X>((resume) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const observer = (exit: Exit.Exit<A, E>) => {
      if (timer !== undefined) clearTimeout(timer)
      resume(exit)
    }
    if (ms !== undefined) {
      timer = setTimeout(() => {
        fiber.removeObserver(observer)
        resume(Effect.fail(onTimeout()))
      }, ms)
    }
    // called at once when the fiber has already ended
    fiber.addObserver(observer)
    return Effect.sync(() => {
      if (timer !== undefined) clearTimeout(timer)
      fiber.removeObserver(observer)
    })
  })
