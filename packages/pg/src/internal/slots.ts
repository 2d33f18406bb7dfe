import { Effect } from "effect"

/**
 * A fixed number of slots, handed out first come, first served: a slot
 * freed goes to the longest waiter (Effect's Semaphore lets the fiber that
 * releases a permit take it straight back, so one running statement after
 * statement would keep the others waiting). Used for the PgStore's
 * connections and for PGlite's one session.
 */
export interface Slots {
  /**
   * Waits for a slot (with a `bound`, at most its `ms`, then fails with its
   * `onTimeout`), then runs `holding` with it, uninterruptibly: `holding` must see
   * to the slot's release (a finalizer, or the end of a fiber it forks). The
   * wait can be interrupted; an interruption that comes once the slot is the
   * caller's but before `holding` starts (the hand-over and the interruption
   * can reach the fiber together) gives the slot back.
   */
  readonly take: <A, E, R, X = never>(
    holding: Effect.Effect<A, E, R>,
    bound?: Bound<X>
  ) => Effect.Effect<A, X | E, R>
  /** Hands the slot to the first in line, or frees it. */
  readonly release: Effect.Effect<void>
}

/** How long a caller waits for a slot at most, and what it fails with then. */
export interface Bound<X> {
  readonly ms: number
  readonly onTimeout: () => X
}

/** No fiber and no timer unless the caller has to wait. */
export const make = (count: number): Slots => {
  let free = count
  // hand-overs to the callers waiting, in the order they came (a Set keeps insertion order)
  const line = new Set<() => void>()
  // a free slot is taken without suspending the caller's fiber: an `Effect.async` resumed at once still
  // costs a run of the fiber's loop, on every store call
  const grant = <X>(bound: Bound<X> | undefined, granted: () => void): Effect.Effect<void, X> =>
    Effect.suspend(() => {
      if (free === 0) return wait(bound, granted)
      free--
      granted()
      return Effect.void
    })
  const wait = <X>(bound: Bound<X> | undefined, granted: () => void): Effect.Effect<void, X> =>
    Effect.async<void, X>((resume) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const handOver = () => {
        line.delete(handOver)
        if (timer !== undefined) clearTimeout(timer)
        granted()
        resume(Effect.void)
      }
      line.add(handOver)
      if (bound !== undefined) {
        timer = setTimeout(() => {
          line.delete(handOver)
          resume(Effect.fail(bound.onTimeout()))
        }, bound.ms)
      }
      return Effect.sync(() => {
        line.delete(handOver)
        if (timer !== undefined) clearTimeout(timer)
      })
    })
  const release = Effect.sync(() => {
    const first = line.values().next()
    if (first.done === true) free++
    else first.value()
  })
  const take = <A, E, R, X = never>(holding: Effect.Effect<A, E, R>, bound?: Bound<X>) =>
    Effect.suspend(() => {
      // the slot is the caller's from the moment it is granted, before its fiber resumes
      let holds = false
      const granted = () => {
        holds = true
      }
      return Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(
          Effect.onInterrupt(restore(grant(bound, granted)), () => holds ? release : Effect.void),
          holding
        )
      )
    })
  return { take, release }
}
