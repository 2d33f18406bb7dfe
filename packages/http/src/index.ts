/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as AsyncJob from "./AsyncJob.js"

/**
 * @since 0.1.0
 */
export * as HttpJob from "./HttpJob.js"
