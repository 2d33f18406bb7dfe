import { Effect, FiberRef, Layer } from "effect"
import type { Scheduler } from "effect"

/**
 * A scheduler that counts the tasks it is given and the ones still waiting to
 * run. Every step of a fiber that is not its first synchronous stretch (a
 * resumption after a sleep, a deferred, a queue, a promise, a yield) is a
 * task, so "nothing waiting and nothing given over a whole event-loop turn"
 * means every fiber on it is suspended on something that needs the clock, or
 * I/O that is not answering.
 */
export class CountingScheduler implements Scheduler.Scheduler {
  scheduled = 0
  waiting = 0
  constructor(readonly inner: Scheduler.Scheduler) {}
  shouldYield(fiber: Parameters<Scheduler.Scheduler["shouldYield"]>[0]) {
    return this.inner.shouldYield(fiber)
  }
  scheduleTask(task: Scheduler.Task, priority: number, fiber?: Parameters<Scheduler.Scheduler["scheduleTask"]>[2]) {
    this.scheduled++
    this.waiting++
    this.inner.scheduleTask(() => {
      this.waiting--
      task()
    }, priority, fiber)
  }
}

/** Installs a counting scheduler, around the current one, for the fibers forked after it and the effect provided. */
export const layer: Layer.Layer<never> = Layer.unwrapEffect(
  Effect.map(FiberRef.get(FiberRef.currentScheduler), (current) =>
    current instanceof CountingScheduler ? Layer.empty : Layer.setScheduler(new CountingScheduler(current)))
)

/** The counting scheduler of the current fiber, if it runs on one. */
export const current: Effect.Effect<CountingScheduler | undefined> = Effect.map(
  FiberRef.get(FiberRef.currentScheduler),
  (scheduler) => scheduler instanceof CountingScheduler ? scheduler : undefined
)

// setImmediate runs after the poll phase, so I/O that has answered is handed
// over in the same turn; where there is none (a browser), a timer serves
const nextTurn: (f: () => void) => () => void = typeof globalThis.setImmediate === "function"
  ? (f) => {
    const handle = globalThis.setImmediate(f)
    return () => globalThis.clearImmediate(handle)
  }
  : (f) => {
    const handle = setTimeout(f, 0)
    return () => clearTimeout(handle)
  }

/**
 * Waits one event-loop turn, and tells whether the fibers on `scheduler`
 * were idle throughout: when the turn comes every microtask has run, so no
 * fiber that was runnable then is still in the middle of a step, and none was
 * given a task since the turn was asked for.
 */
const quietTurn = (scheduler: CountingScheduler): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    const before = scheduler.scheduled
    return Effect.sync(nextTurn(() => resume(Effect.succeed(scheduler.scheduled === before && scheduler.waiting === 0))))
  })

/**
 * Turns the event loop until a whole turn passes with every fiber on
 * `scheduler` idle. A fiber that never stops (a loop of yields) would keep it
 * turning forever: after `maxTurns` it gives up, as a fixed count would.
 */
export const settle = (scheduler: CountingScheduler, maxTurns = 256): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (let turn = 0; turn < maxTurns; turn++) {
      if (yield* quietTurn(scheduler)) return
    }
  })
