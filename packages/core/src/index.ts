/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Clockwork from "./Clockwork.js"

/**
 * @since 0.1.0
 */
export * as Events from "./Events.js"

/**
 * @since 0.1.0
 */
export * as Feed from "./Feed.js"

/**
 * @since 0.1.0
 */
export * as Job from "./Job.js"

/**
 * @since 0.1.0
 */
export * as JobStore from "./JobStore.js"

/**
 * @since 0.1.0
 */
export * as Journal from "./Journal.js"

/**
 * @since 0.1.0
 */
export * as Policy from "./Policy.js"

/**
 * @since 0.1.0
 */
export * as Run from "./Run.js"

/**
 * @since 0.1.0
 */
export * as Runner from "./Runner.js"

/**
 * @since 0.1.0
 */
export * as Scheduler from "./Scheduler.js"

/**
 * @since 0.1.0
 */
export * as Telemetry from "./Telemetry.js"

/**
 * @since 0.1.0
 */
export * as Testing from "./Testing.js"

/**
 * @since 0.1.0
 */
export * as Trigger from "./Trigger.js"

/**
 * @since 0.1.0
 */
export * as Workflow from "./Workflow.js"
