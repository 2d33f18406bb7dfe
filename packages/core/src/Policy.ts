/**
 * What a schedule does when ticks were missed (downtime, a long pause) and
 * when a tick comes while the previous run is still going.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * After missed ticks: `coalesce` fires once for all of them (the default),
 * `catchUp` fires each missed tick (the most recent `limit` of them), `skip`
 * fires none of the ticks older than the schedule's misfire grace and waits for
 * the next one.
 *
 * @since 0.1.0
 * @category models
 */
export const Misfire = Schema.Union(
  Schema.TaggedStruct("Coalesce", {}),
  Schema.TaggedStruct("CatchUp", { limit: Schema.Int.pipe(Schema.positive()) }),
  Schema.TaggedStruct("Skip", {})
)

/**
 * @since 0.1.0
 * @category models
 */
export type Misfire = typeof Misfire.Type

/**
 * Fire once for all missed ticks (the default).
 *
 * @since 0.1.0
 * @category constructors
 */
export const coalesce: Misfire = Misfire.members[0].make({})

/**
 * Fire each missed tick, at most the `limit` most recent ones.
 *
 * @since 0.1.0
 * @category constructors
 */
export const catchUp = (limit: number): Misfire => Misfire.members[1].make({ limit })

/**
 * Fire none of the missed ticks; wait for the next one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const skipMissed: Misfire = Misfire.members[2].make({})

/**
 * When a tick fires while an earlier run of the same schedule is queued or
 * running: `skip` drops the new run, `queue` runs it after the earlier one
 * finishes (one at a time, in order), `allow` runs it alongside.
 *
 * @since 0.1.0
 * @category models
 */
export const Overlap = Schema.Literal("skip", "queue", "allow")

/**
 * @since 0.1.0
 * @category models
 */
export type Overlap = typeof Overlap.Type
