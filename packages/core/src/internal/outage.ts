import { Cause, Clock, Duration, Effect, Option, type Scope } from "effect"
import type { JobStore } from "../JobStore.js"
import { StoreError } from "../StoreError.js"

/**
 * One process's view of whether its store answers. When it stops answering
 * (PostgreSQL restarts, backends are terminated, the network drops), every
 * loop that uses it fails: the runner's claims, heartbeats and completions,
 * the ticker, the reaper, retention. Each outage is logged once when it
 * starts, as a warning (the failures after it at debug level), and once when
 * it ends; each loop backs off (100 ms doubling to 5 s) until the store
 * answers.
 *
 * An outage ends once the store has answered for `settle` (3 s) without a
 * failure: a failure before that belongs to the same outage. After a restart
 * or a network cut a pool finds its dead connections one by one, interleaved
 * with calls that succeed on new ones; that is one outage, not many. Two
 * outages further apart than that are two, however close.
 *
 * Failures other than `StoreError` are bugs, not outages: logged every time,
 * as errors, and retried after a second. So is a `StoreError` of kind
 * `permanent`: the store answered, and refused the request's data.
 */
export interface Outage {
  /** after a store call failed: logs (once per outage), then waits before the caller tries again */
  readonly failed: (operation: string, cause: Cause.Cause<unknown>) => Effect.Effect<void>
  /** after a store call succeeded: ends the outage once the store has answered for long enough */
  readonly answered: Effect.Effect<void>
}

const outages = new WeakMap<JobStore, Outage>()

/** The outage tracker of `store`, shared by every loop of this process that uses it. */
export const of = (store: JobStore): Outage => {
  let outage = outages.get(store)
  if (outage === undefined) {
    outage = make()
    outages.set(store, outage)
  }
  return outage
}

/**
 * Runs `task` (store calls) at once and then every `interval`, in a fiber of
 * the scope; its failures are outages of `store`, reported as above.
 */
export const every = <E, R>(
  store: JobStore,
  operation: string,
  interval: Duration.Duration,
  task: Effect.Effect<void, E, R>
): Effect.Effect<void, never, R | Scope.Scope> => {
  const outage = of(store)
  return task.pipe(
    Effect.zipRight(outage.answered),
    Effect.catchAllCause((cause) => outage.failed(operation, cause)),
    Effect.zipRight(Effect.sleep(interval)),
    Effect.forever,
    // a background duty's store calls are not traced: each would be a root span, every interval
    Effect.withTracerEnabled(false),
    Effect.forkScoped,
    Effect.asVoid
  )
}

const firstDelay = 100
const maxDelay = 5_000

/** How long the store must answer without a failure before an outage is over. */
export const settle = 3_000

type State =
  | { readonly _tag: "up" }
  /** `failures` since the outage began set the backoff */
  | { readonly _tag: "down"; readonly since: number; failures: number }
  /** answering again since `backAt`; over at `backAt + settle` unless a call fails before */
  | { readonly _tag: "settling"; readonly since: number; readonly backAt: number; failures: number }

const make = (): Outage => {
  let state: State = { _tag: "up" }

  // ends the outage if `settling` is still the state and has lasted long enough
  const over = (settling: State, now: number) =>
    Effect.suspend(() => {
      if (state !== settling || settling._tag !== "settling" || now - settling.backAt < settle) return Effect.void
      state = { _tag: "up" }
      const lasted = Duration.format(Duration.millis(settling.backAt - settling.since))
      return Effect.logInfo(`clockwork: the store answers again, after ${lasted}`)
    })

  const answered = Effect.suspend(() => {
    if (state._tag === "up") return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const current = state
      if (current._tag === "up") return Effect.void
      if (current._tag === "settling") return over(current, now)
      const settling: State = { _tag: "settling", since: current.since, backAt: now, failures: current.failures }
      state = settling
      // said without waiting for another call: a process may make none for a while
      return Effect.asVoid(Effect.forkDaemon(
        Effect.zipRight(Effect.sleep(settle), Effect.flatMap(Clock.currentTimeMillis, (then) => over(settling, then)))
      ))
    })
  })

  const failed = (operation: string, cause: Cause.Cause<unknown>) =>
    Effect.gen(function*() {
      const error = Option.getOrUndefined(Cause.failureOption(cause))
      if (!(error instanceof StoreError) || error.kind === "permanent") {
        yield* Effect.logError(`clockwork: ${operation} failed; trying again in 1 second`, cause)
        return yield* Effect.sleep("1 second")
      }
      const now = yield* Clock.currentTimeMillis
      const current = state
      const down: Extract<State, { _tag: "down" }> = current._tag === "down"
        ? current
        : { _tag: "down", since: current._tag === "up" ? now : current.since, failures: current._tag === "up" ? 0 : current.failures }
      state = down
      const delay = Math.min(maxDelay, firstDelay * 2 ** down.failures)
      down.failures += 1
      if (current._tag === "up") {
        yield* Effect.logWarning(
          `clockwork: the store does not answer (${operation}: ${error.message}); ` +
            `trying again with backoff, and saying so once it answers`
        )
      } else if (current._tag === "settling") {
        yield* Effect.logDebug(`clockwork: the store failed again as it came back (${operation}: ${error.message})`)
      } else {
        yield* Effect.logDebug(`clockwork: the store still does not answer (${operation}: ${error.message})`)
      }
      yield* Effect.sleep(delay)
    })

  return { failed, answered }
}
