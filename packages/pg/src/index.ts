/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as PgliteClient from "./PgliteClient.js"

/**
 * @since 0.1.0
 */
export * as PgliteStore from "./PgliteStore.js"

/**
 * @since 0.1.0
 */
export * as PgStore from "./PgStore.js"
