import { Clock, Effect, type Scope } from "effect"
import { Heap } from "./heap.js"
import * as Signal from "./signal.js"
import { sleepAtMost } from "./timer.js"

/**
 * Timeouts for many runs armed on one timer fiber. A per-run `Effect.timeout`
 * forks a fiber and a sleep per run; here arming is a heap push and
 * disarming a flag, and the timer fiber sleeps (on Effect's Clock, so
 * TestClock drives it) until the earliest live deadline.
 *
 * The deadline's fields live on the object it times out (the runner's run),
 * and one callback serves every expiry: arming allocates nothing.
 */
export interface Deadline {
  /** when it expires, in epoch milliseconds */
  deadlineAt: number
  /** armed, and neither disarmed nor expired since */
  armed: boolean
}

export interface Deadlines<D extends Deadline> {
  /** Arms `d` to expire at `at`; an object is armed at most once. */
  readonly arm: (d: D, at: number) => void
  readonly disarm: (d: D) => void
}

export const make = <D extends Deadline>(onExpire: (d: D) => void): Effect.Effect<Deadlines<D>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const heap = new Heap<D>((a, b) => a.deadlineAt < b.deadlineAt)
    const wake = yield* Signal.make
    // disarmed objects still in the heap
    let disarmed = 0

    // disarmed objects at the top go at once: runs with one timeout mostly end in the order they
    // started, so the heap holds little more than the live deadlines, and no finished run for long
    const dropDisarmed = () => {
      for (let top = heap.peek(); top !== undefined && !top.armed; top = heap.peek()) {
        heap.pop()
        disarmed--
      }
    }

    const expireDue = (now: number) => {
      dropDisarmed()
      for (let top = heap.peek(); top !== undefined && top.deadlineAt <= now; top = heap.peek()) {
        heap.pop()
        top.armed = false
        onExpire(top)
        dropDisarmed()
      }
    }

    const loop = Effect.gen(function*() {
      for (;;) {
        expireDue(yield* Clock.currentTimeMillis)
        const top = heap.peek()
        if (top === undefined) {
          yield* wake.wait
        } else {
          const now = yield* Clock.currentTimeMillis
          if (top.deadlineAt > now) yield* Effect.raceFirst(wake.wait, sleepAtMost(top.deadlineAt - now))
        }
      }
    })
    yield* Effect.forkScoped(loop)

    return {
      arm: (d, at) => {
        d.deadlineAt = at
        d.armed = true
        const top = heap.peek()
        heap.push(d)
        if (top === undefined || at < top.deadlineAt) wake.give()
      },
      disarm: (d) => {
        if (!d.armed) return
        d.armed = false
        disarmed++
        if (heap.peek() === d) dropDisarmed()
        else if (disarmed > 1024 && disarmed > heap.size / 2) {
          heap.retain((x) => x.armed)
          disarmed = 0
        }
      }
    }
  })
