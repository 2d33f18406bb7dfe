import { Clock, Effect, Queue, type Scope } from "effect"
import { Heap } from "./heap.js"
import { sleepAtMost } from "./timer.js"

/**
 * Timeouts for many runs armed on one timer fiber. A per-run `Effect.timeout`
 * forks a fiber and a sleep per run; here arming is a heap push and
 * disarming a flag, and the timer fiber sleeps (on Effect's Clock, so
 * TestClock drives it) until the earliest live deadline.
 */
export interface Deadline {
  readonly at: number
  readonly onExpire: () => void
  cancelled: boolean
}

export interface Deadlines {
  readonly arm: (at: number, onExpire: () => void) => Deadline
  readonly disarm: (deadline: Deadline) => void
}

export const make: Effect.Effect<Deadlines, never, Scope.Scope> = Effect.gen(function*() {
  const heap = new Heap<Deadline>((a, b) => a.at < b.at)
  const wake = yield* Queue.sliding<void>(1)
  let cancelled = 0

  const compact = () => {
    const live: Array<Deadline> = []
    while (heap.size > 0) {
      const d = heap.pop()!
      if (!d.cancelled) live.push(d)
    }
    for (const d of live) heap.push(d)
    cancelled = 0
  }

  const expireDue = (now: number) => {
    for (let top = heap.peek(); top !== undefined && (top.cancelled || top.at <= now); top = heap.peek()) {
      heap.pop()
      if (top.cancelled) cancelled--
      else top.onExpire()
    }
  }

  const loop = Effect.gen(function*() {
    for (;;) {
      expireDue(yield* Clock.currentTimeMillis)
      const top = heap.peek()
      if (top === undefined) {
        yield* Queue.take(wake)
      } else {
        const now = yield* Clock.currentTimeMillis
        if (top.at > now) yield* Effect.raceFirst(Queue.take(wake), sleepAtMost(top.at - now))
      }
    }
  })
  yield* Effect.forkScoped(loop)

  return {
    arm: (at, onExpire) => {
      const deadline: Deadline = { at, onExpire, cancelled: false }
      const top = heap.peek()
      heap.push(deadline)
      if (top === undefined || at < top.at) wake.unsafeOffer(undefined)
      return deadline
    },
    disarm: (deadline) => {
      if (deadline.cancelled) return
      deadline.cancelled = true
      cancelled++
      if (cancelled > 1024 && cancelled > heap.size / 2) compact()
    }
  }
})
