/**
 * @since 0.1.0
 */
export * as Alert from "./Alert.js"

/**
 * @since 0.1.0
 */
export * as Channel from "./Channel.js"

/**
 * @since 0.1.0
 */
export * as DeliveryStore from "./DeliveryStore.js"

/**
 * @since 0.1.0
 */
export * as Email from "./Email.js"

/**
 * @since 0.1.0
 */
export * as Log from "./Log.js"

/**
 * @since 0.1.0
 */
export * as Notify from "./Notify.js"

/**
 * @since 0.1.0
 */
export * as Rules from "./Rules.js"

/**
 * @since 0.1.0
 */
export * as Slack from "./Slack.js"

/**
 * @since 0.1.0
 */
export * as Webhook from "./Webhook.js"
