/**
 * A stream of lifecycle events (scheduled, started, succeeded, failed, timed
 * out, retrying, cancelled, dead-lettered, a dependent cancelled...) for
 * notifiers and dashboards.
 * Events are published in the process that caused them.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, PubSub, type Queue, Schema, type Scope, Stream } from "effect"
import { RunError } from "./Run.js"

const runFields = {
  runId: Schema.String,
  jobName: Schema.String,
  attempt: Schema.Int,
  scheduleId: Schema.optional(Schema.String),
  /** epoch ms, from Effect's Clock */
  at: Schema.Number
}

/**
 * A lifecycle event.
 *
 * @since 0.1.0
 * @category models
 */
export const Event = Schema.Union(
  Schema.TaggedStruct("Scheduled", {
    scheduleId: Schema.String,
    jobName: Schema.String,
    outcome: Schema.Literal("created", "updated", "unchanged"),
    nextFireAt: Schema.optional(Schema.Number),
    at: Schema.Number
  }),
  Schema.TaggedStruct("Enqueued", { ...runFields, runAt: Schema.Number }),
  Schema.TaggedStruct("Skipped", {
    scheduleId: Schema.String,
    jobName: Schema.String,
    reason: Schema.String,
    at: Schema.Number
  }),
  Schema.TaggedStruct("Started", runFields),
  Schema.TaggedStruct("Progress", { ...runFields, value: Schema.Number }),
  Schema.TaggedStruct("Succeeded", { ...runFields, durationMs: Schema.Number }),
  /** `final`: no attempt follows (no retry allowed or left); `DeadLettered` follows only an exhausted retry policy */
  Schema.TaggedStruct("Failed", { ...runFields, durationMs: Schema.Number, error: RunError, final: Schema.Boolean }),
  Schema.TaggedStruct("TimedOut", { ...runFields, durationMs: Schema.Number, error: RunError, final: Schema.Boolean }),
  Schema.TaggedStruct("Retrying", { ...runFields, retryAt: Schema.Number }),
  Schema.TaggedStruct("Cancelled", runFields),
  Schema.TaggedStruct("Interrupted", runFields),
  Schema.TaggedStruct("DeadLettered", { ...runFields, error: RunError }),
  /**
   * a dependent (a `then:` job) will not run: its parent ended without
   * success; the store records it as a `cancelled` run with this error
   */
  Schema.TaggedStruct("DependentCancelled", {
    /** the dependent's job */
    jobName: Schema.String,
    parentRunId: Schema.String,
    parentJobName: Schema.String,
    error: RunError,
    at: Schema.Number
  })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Event = typeof Event.Type

/**
 * Whether an event ends its run without success for good: a failure or
 * timeout with no attempt to follow, or a dead-lettered run. This is the
 * event to alert on.
 *
 * @example
 * ```ts
 * Stream.filter(events.stream, Events.isFinalFailure)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const isFinalFailure = (event: Event): boolean =>
  event._tag === "DeadLettered" || ((event._tag === "Failed" || event._tag === "TimedOut") && event.final)

/**
 * The events service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Events {
  readonly publish: (event: Event) => Effect.Effect<void>
  /** a subscription that lives as long as the scope */
  readonly subscribe: Effect.Effect<Queue.Dequeue<Event>, never, Scope.Scope>
  /** every event from the moment the stream starts */
  readonly stream: Stream.Stream<Event>
  /** whether anyone listens: publishers skip building events nobody reads */
  readonly hasSubscribers: () => boolean
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Events: Context.Tag<Events, Events> = Context.GenericTag<Events>("@clockwork/core/Events")

/**
 * Builds the events service on an unbounded PubSub.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Events> = Effect.gen(function*() {
  const pubsub = yield* PubSub.unbounded<Event>()
  let subscribers = 0
  const subscribe = Effect.acquireRelease(
    Effect.tap(PubSub.subscribe(pubsub), () => {
      subscribers++
    }),
    () =>
      Effect.sync(() => {
        subscribers--
      })
  )
  return {
    publish: (event) => subscribers === 0 ? Effect.void : Effect.asVoid(PubSub.publish(pubsub, event)),
    subscribe,
    stream: Stream.unwrapScoped(Effect.map(subscribe, (queue) => Stream.fromQueue(queue))),
    hasSubscribers: () => subscribers > 0
  }
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Events> = Layer.effect(Events, make)
