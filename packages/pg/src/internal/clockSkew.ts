import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Duration, Effect } from "effect"
import type { Tables } from "./tables.js"

/**
 * Measures how far the database server's clock is from this machine's, and
 * warns when it is more than `max`. The store keeps the instants the app's
 * Clock gives it (that is what lets TestClock scenarios run against a real
 * database), so processes on several machines compare each other's instants:
 * leases, fire times, `runAt`. The server's clock stands for the others'.
 *
 * The machine's live clock is read (unless `clock` says otherwise), not the
 * ambient one: under a TestClock the comparison would be meaningless. Returns the skew in milliseconds
 * (positive: the server is ahead), taken against the middle of the round trip.
 */
export const check = (
  t: Tables,
  max: Duration.Duration,
  clock: Clock.Clock = Clock.make()
): Effect.Effect<number, SqlError> =>
  Effect.gen(function*() {
    const sent = clock.unsafeCurrentTimeMillis()
    const [row] = yield* t.sql<{ readonly ms: number }>`
      select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`
    const received = clock.unsafeCurrentTimeMillis()
    const skew = Math.round(row!.ms - (sent + received) / 2)
    const roundTrip = received - sent
    if (Math.abs(skew) > Duration.toMillis(max)) {
      yield* Effect.logWarning(
        `clockwork: the database server's clock is ${Math.abs(skew)} ms ${skew > 0 ? "ahead of" : "behind"} this machine's ` +
          `(round trip ${roundTrip} ms); leases and fire times compare instants from different machines, ` +
          `so keep their clocks in sync (NTP)`
      )
    } else {
      yield* Effect.logDebug(`clockwork: clock skew with the database server ${skew} ms (round trip ${roundTrip} ms)`)
    }
    return skew
  })
