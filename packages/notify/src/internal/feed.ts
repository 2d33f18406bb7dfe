import type { JobStore } from "@clockwork/core"
import { Scheduler } from "@clockwork/core"
import type { RunRecord } from "@clockwork/core/Run"
import type { Duration } from "effect"
import { Effect } from "effect"

// The run feed of @clockwork/core (Feed, Scheduler.consume) as this package uses it. It stands in
// for `import { Feed } from "@clockwork/core"` until core exports the module; then this file goes.

/** An entry of the run feed (`Feed.FeedEntry`). */
export type FeedEntry =
  | { readonly _tag: "Attempt"; readonly cursor: string; readonly record: RunRecord & { readonly final?: boolean } }
  | { readonly _tag: "ScheduleChanged"; readonly cursor: string }

/** `Feed.isFinalFailure`: an attempt that ended without success and will not be retried. */
export const isFinalFailure = (record: RunRecord): boolean =>
  record.status === "dead" || ((record.status === "failed" || record.status === "timed_out") && record.retryAt === undefined)

/** `Feed.ConsumerOptions`. */
export interface ConsumerOptions {
  readonly name: string
  readonly startAt?: "start" | "now"
  readonly batchSize?: number
  readonly lease?: Duration.DurationInput
}

type Consume = <E, R>(
  options: ConsumerOptions,
  handle: (entries: ReadonlyArray<FeedEntry>) => Effect.Effect<void, E, R>
) => Effect.Effect<never, E | JobStore.StoreError, R>

/** `Scheduler.consume`. */
export const consume = <E, R>(
  options: ConsumerOptions,
  handle: (entries: ReadonlyArray<FeedEntry>) => Effect.Effect<void, E, R>
): Effect.Effect<never, E | JobStore.StoreError, R | Scheduler.Scheduler> =>
  Effect.flatMap(Scheduler.Scheduler, (scheduler) => (scheduler as unknown as { readonly consume: Consume }).consume(options, handle))
