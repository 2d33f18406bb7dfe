/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Dashboard from "./Dashboard.js"

/**
 * @since 0.1.0
 */
export * as DashboardApi from "./DashboardApi.js"
