/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as HttpSource from "./HttpSource.js"

/**
 * @since 0.1.0
 */
export * as Listener from "./Listener.js"

/**
 * @since 0.1.0
 */
export * as ListenerStore from "./ListenerStore.js"

/**
 * @since 0.1.0
 */
export * as MemorySource from "./MemorySource.js"

/**
 * @since 0.1.0
 */
export * as Source from "./Source.js"

/**
 * @since 0.1.0
 */
export * as SqlSource from "./SqlSource.js"
