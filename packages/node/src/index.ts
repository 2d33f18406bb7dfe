/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as WorkerJob from "./WorkerJob.js"

/**
 * @since 0.1.0
 */
export * as WorkerPool from "./WorkerPool.js"

/**
 * @since 0.1.0
 */
export * as Watchdog from "./Watchdog.js"
