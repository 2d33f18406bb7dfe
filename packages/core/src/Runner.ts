/**
 * The runner: claims due runs from the store and runs each as an
 * interruptible fiber, under a global and a per-job concurrency limit. A
 * timeout interrupts the fiber (its finalizers run) and the attempt is
 * recorded as timed out; failures are retried on the job's retry Schedule and
 * dead-lettered when it is exhausted; defects are recorded, never fatal. When
 * the runner's scope closes it stops claiming, lets in-flight runs finish
 * within a grace period, then interrupts and re-queues the rest.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer } from "effect"
import { Events } from "./Events.js"
import { JobStore } from "./JobStore.js"
import type { RunId } from "./Run.js"
import * as internal from "./internal/runner.js"
import { Registry } from "./Job.js"

/**
 * Runner settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** a name for this runner in the history (default: a random id) */
  readonly workerId?: string
  /** runs at once, across all jobs (default 100) */
  readonly concurrency?: number
  /** runs claimed per store round trip (default 100) */
  readonly batchSize?: number
  /** how long in-flight runs may finish after shutdown starts (default 30 seconds) */
  readonly shutdownGrace?: Duration.DurationInput
  /** how long a claim holds without a heartbeat (default 5 minutes) */
  readonly lease?: Duration.DurationInput
}

/**
 * The runner service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Runner {
  readonly workerId: string
  /** interrupts a run this runner is executing; false if it holds no such run */
  readonly cancel: (runId: RunId) => Effect.Effect<boolean>
  /** ids of the runs it holds: executing now, or ended with their outcome not yet written */
  readonly activeRuns: () => ReadonlyArray<RunId>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Runner: Context.Tag<Runner, Runner> = Context.GenericTag<Runner>("@clockwork/core/Runner")

/**
 * A runner for the app's registered jobs, living as long as the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<Runner, never, Registry | JobStore | Events> =>
  Layer.scoped(
    Runner,
    Effect.gen(function*() {
      return yield* internal.make(yield* Registry, yield* JobStore, yield* Events, {
        workerId: options?.workerId ?? `runner-${crypto.randomUUID().slice(0, 8)}`,
        concurrency: options?.concurrency ?? 100,
        batchSize: options?.batchSize ?? 100,
        shutdownGrace: Duration.decode(options?.shutdownGrace ?? "30 seconds"),
        leaseMs: Duration.toMillis(options?.lease ?? "5 minutes")
      })
    })
  )
