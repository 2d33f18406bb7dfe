/**
 * A watchdog for a worker process whose event loop may block. A fiber job that
 * never yields (`while (true) {}`, a synchronous parser stuck on bad input)
 * stops everything on its thread: timeouts, heartbeats, even SIGTERM, since a
 * signal handler needs the event loop. The watchdog runs on its own thread and
 * kills the process (SIGKILL) once the loop has been blocked for
 * `maxBlocked`, after one line on stderr. The runs it held are then taken back
 * by a reaper when their leases expire, and each lost lease counts against its
 * job's retry policy, so a run that blocks every worker that takes it ends
 * `dead` instead of stopping the deployment. Run the process under a
 * supervisor that restarts it (systemd, a container runtime, a process manager).
 *
 * @since 0.1.0
 */
import { Duration, Layer } from "effect"
import * as internal from "./internal/watchdog.js"

/**
 * Watchdog settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * how long the event loop may be blocked before the process is killed
   * (default 30 seconds); keep it below the runner's lease, so the process dies
   * before its leases expire and nothing runs twice at once
   */
  readonly maxBlocked?: Duration.DurationInput
}

/**
 * The watchdog, for as long as the layer lives.
 *
 * @example
 * ```ts
 * const Worker = Clockwork.layerWorker(jobs).pipe(
 *   Layer.provideMerge(Watchdog.layer({ maxBlocked: "20 seconds" })),
 *   Layer.provide(Store)
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<never> =>
  Layer.scopedDiscard(internal.start(Duration.decode(options?.maxBlocked ?? "30 seconds")))
