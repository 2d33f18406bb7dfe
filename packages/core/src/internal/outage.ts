import { Cause, Clock, Duration, Effect, Option, type Scope } from "effect"
import { type JobStore, StoreError } from "../JobStore.js"

/**
 * One process's view of whether its store answers. When it stops answering
 * (PostgreSQL restarts, backends are terminated, the network drops), every
 * loop that uses it fails: the runner's claims, heartbeats and completions,
 * the ticker, the reaper, retention. The first failure of an outage is logged
 * once, as a warning, the failures after it at debug level, and the recovery
 * once; each loop backs off (100 ms doubling to 5 s) until the store answers.
 * Failures within 30 s of the last one are the same outage, not a new one to
 * announce: after a restart a pool finds its dead connections one by one.
 *
 * Failures other than `StoreError` are bugs, not outages: logged every time,
 * as errors, and retried after a second. So is a `StoreError` of kind
 * `permanent`: the store answered, and refused the request's data.
 */
export interface Outage {
  /** after a store call failed: logs (once per outage), then waits before the caller tries again */
  readonly failed: (operation: string, cause: Cause.Cause<unknown>) => Effect.Effect<void>
  /** after a store call succeeded: ends the outage, if there is one */
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
    Effect.forkScoped,
    Effect.asVoid
  )
}

const firstDelay = 100
const maxDelay = 5_000

/** Failures this soon after the last one belong to the same outage (a pool finding its dead connections one by one). */
const sameOutage = 30_000

const make = (): Outage => {
  // when the outage began, whether it was announced, the failures since (they set the backoff)
  let since: number | undefined
  let announced = false
  let failures = 0
  let lastFailureAt: number | undefined

  const answered = Effect.suspend(() => {
    if (since === undefined) return Effect.void
    const began = since
    const said = announced
    since = undefined
    announced = false
    failures = 0
    return said
      ? Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.logInfo(`clockwork: the store answers again, after ${Duration.format(Duration.millis(now - began))}`))
      : Effect.void
  })

  const failed = (operation: string, cause: Cause.Cause<unknown>) =>
    Effect.gen(function*() {
      const error = Option.getOrUndefined(Cause.failureOption(cause))
      if (!(error instanceof StoreError) || error.kind === "permanent") {
        yield* Effect.logError(`clockwork: ${operation} failed; trying again in 1 second`, cause)
        return yield* Effect.sleep("1 second")
      }
      const now = yield* Clock.currentTimeMillis
      const recent = lastFailureAt !== undefined && now - lastFailureAt < sameOutage
      lastFailureAt = now
      const opening = since === undefined
      if (opening) {
        since = now
        failures = 0
        announced = !recent
      }
      if (opening && announced) {
        yield* Effect.logWarning(
          `clockwork: the store does not answer (${operation}: ${error.message}); ` +
            `trying again with backoff, and saying so once it answers`
        )
      } else {
        yield* Effect.logDebug(`clockwork: the store still does not answer (${operation}: ${error.message})`)
      }
      const delay = Math.min(maxDelay, firstDelay * 2 ** failures)
      failures += 1
      yield* Effect.sleep(delay)
    })

  return { failed, answered }
}
