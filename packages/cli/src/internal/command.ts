/**
 * What the commands share: running against the store the options name, and
 * parsing instants given as a date or as a duration ago.
 */
import { Run } from "@clockwork/core"
import { Clock, Duration, Effect, Option } from "effect"
import { InvalidArgument } from "./errors.js"
import * as Store from "./store.js"

/** Runs `f` with the store the options name, closed afterwards. */
export const withStore = <A, E, R extends Store.Services>(
  options: Store.StoreOptions,
  f: (target: Store.Target) => Effect.Effect<A, E, R>
): Effect.Effect<A, unknown> =>
  Effect.flatMap(
    Store.target(options),
    (target) => Effect.provide(f(target) as Effect.Effect<A, E, Store.Services>, Store.layer(target, options.schema))
  )

/**
 * An instant given as an ISO date ("2026-11-29", "2026-11-29T08:00:00Z") or
 * as a duration before now ("2 hours", "30 days"), in epoch milliseconds.
 */
export const instantOrAgo = (option: string, value: string): Effect.Effect<number, InvalidArgument> =>
  Effect.gen(function*() {
    const ago = Duration.decodeUnknown(value.trim())
    if (Option.isSome(ago) && Duration.isFinite(ago.value)) {
      return (yield* Clock.currentTimeMillis) - Duration.toMillis(ago.value)
    }
    const at = Date.parse(value)
    if (Number.isNaN(at)) {
      return yield* new InvalidArgument({
        option,
        value,
        reason: "is neither a date (2026-11-29T08:00:00Z) nor a duration before now (2 hours, 30 days)"
      })
    }
    return at
  })

/** A run id as typed on the command line. */
export const runId = (id: string): Run.RunId => Run.RunId.make(id.trim())
