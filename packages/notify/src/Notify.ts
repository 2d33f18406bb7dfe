/**
 * The notifier: a named consumer of the run feed that applies the rules to
 * every attempt, writes the alerts it raises to the outbox (`DeliveryStore`)
 * and sends them through its channels. Run it in one process or in many:
 * one instance at a time holds the name and raises alerts, so each alert is
 * raised once; any instance sends what is pending.
 *
 * It is never in a job's way: it runs in its own fibers, a send has a
 * timeout and a few quick retries, then the delivery waits for a later round
 * (with backoff) and the feed moves on; after the last round it is recorded
 * as undelivered and logged once.
 *
 * @since 0.1.0
 */
import { Feed, Scheduler } from "@clockwork/core"
import { Clock, Context, Duration, Effect, Either, Layer, Option, Queue, Schedule, Schema } from "effect"
import * as Alert from "./Alert.js"
import * as Channel from "./Channel.js"
import { DeliveryStore } from "./DeliveryStore.js"
import * as Rules from "./Rules.js"

/**
 * Two channels of a notifier have the same name (their delivery records would mix).
 *
 * @since 0.1.0
 * @category errors
 */
export class DuplicateChannel extends Schema.TaggedError<DuplicateChannel>()("DuplicateChannel", {
  name: Schema.String
}) {
  override get message() {
    return `two channels are named "${this.name}": give one another name`
  }
}

/**
 * A notifier's settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<Channels extends ReadonlyArray<Channel.Tag>> {
  /** the notifier's name: instances sharing it share its feed cursor and deliveries */
  readonly name: string
  /** the channels' tags (`Email.Email`, `Webhook.Webhook`, your own...) */
  readonly channels: Channels
  /** the rules, as data (validated at start-up; default: alert on final failures) */
  readonly rules?: typeof Rules.Rules.Encoded | undefined
  /** the dashboard's base URL: alerts link to `<url>/runs/<run id>` (`http://host:port/#` for @clockwork/dashboard) */
  readonly dashboardUrl?: string | undefined
  /** where a notifier with no stored cursor begins in the feed (default "now") */
  readonly startAt?: "start" | "now" | undefined
  /** how long the name stays held by an instance that stopped renewing it (default 30 seconds) */
  readonly lease?: Duration.DurationInput | undefined
  /** the quick retries of one send (default: 2 more, 200 ms then 400 ms apart) */
  readonly retry?: Schedule.Schedule<unknown, Channel.ChannelError> | undefined
  /**
   * how long one send may take (default 15 seconds); a claimed delivery is
   * held for three of them and 5 seconds, then another instance may take it
   */
  readonly sendTimeout?: Duration.DurationInput | undefined
  /** rounds of sends before a delivery is given up (default 8) */
  readonly rounds?: number | undefined
  /** the wait after the first failed round, doubled after each next one up to 5 minutes (default 10 seconds) */
  readonly backoff?: Duration.DurationInput | undefined
  /** how often pending deliveries are looked for when nothing wakes the sender (default 5 seconds) */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** how long the records of delivered and undelivered alerts are kept (default 7 days; pruned hourly) */
  readonly keep?: Duration.DurationInput | undefined
}

type Identifiers<Channels extends ReadonlyArray<Channel.Tag>> = Channels[number] extends Context.Tag<infer Id, any> ? Id
  : never

const maxBackoff = Duration.minutes(5)

const decodeAlert = Schema.decodeUnknown(Alert.Alert)

/**
 * Runs a notifier while the layer lives. Fails at start-up with
 * `InvalidRules`, `DuplicateChannel` or `InvalidConsumer` (a name the feed
 * cannot hold); later failures (the store, the feed)
 * are logged and the notifier starts over after a pause.
 *
 * @example
 * ```ts
 * const Alerts = Notify.layer({ name: "ops", channels: [Email.Email, Webhook.Webhook] }).pipe(
 *   Layer.provide(Email.layerConfig()),
 *   Layer.provide(Webhook.layer({ url: "https://ops.example.com/hooks/clockwork", secret })),
 *   Layer.provide(NodeHttpClient.layerUndici),
 *   Layer.provide(DeliveryStore.layerSql())
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = <const Channels extends ReadonlyArray<Channel.Tag>>(
  options: Options<Channels>
): Layer.Layer<
  never,
  Rules.InvalidRules | DuplicateChannel | Feed.InvalidConsumer,
  Scheduler.Scheduler | DeliveryStore | Identifiers<Channels>
> =>
  Layer.scopedDiscard(Effect.gen(function*() {
    if (options.name.length === 0 || options.name.length > 190 || options.name.includes("\u0000")) {
      return yield* new Feed.InvalidConsumer({ name: options.name, reason: "a notifier's name is 1 to 190 characters, without NUL" })
    }
    const rules = yield* Either.match(Rules.validate(options.rules ?? {}), { onLeft: Effect.fail, onRight: Effect.succeed })
    const channels: Array<Channel.Channel> = []
    for (const tag of options.channels) {
      const channel = yield* tag
      if (channels.some((c) => c.name === channel.name)) return yield* new DuplicateChannel({ name: channel.name })
      channels.push(channel)
    }
    const store = yield* DeliveryStore
    const engine = yield* Rules.engine(rules, { dashboardUrl: options.dashboardUrl })
    const name = options.name
    const names = channels.map((c) => c.name)
    const byName = new Map(channels.map((c) => [c.name, c]))
    const retry = options.retry ?? Schedule.exponential("200 millis").pipe(Schedule.intersect(Schedule.recurs(2)))
    const sendTimeout = Duration.decode(options.sendTimeout ?? Duration.seconds(15))
    const rounds = options.rounds ?? 8
    const backoff = Duration.decode(options.backoff ?? Duration.seconds(10))
    const pollInterval = options.pollInterval ?? Duration.seconds(5)
    // a claim outlives the default retries of one send (its deliveries are sent at once, side by
    // side), so no other instance takes it meanwhile
    const claimFor = Duration.sum(Duration.times(sendTimeout, 3), Duration.seconds(5))
    const claimSize = 10
    const wakes = new Map<string, Queue.Queue<void>>()
    for (const channel of names) wakes.set(channel, yield* Queue.sliding<void>(1))

    const record = (alerts: ReadonlyArray<Alert.Alert>) =>
      alerts.length === 0 ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (now) =>
        store.add(
          name,
          alerts.flatMap((alert) => names.map((channel) => ({ alertId: alert.id, channel, alert: Alert.encode(alert) }))),
          now
        ).pipe(Effect.zipRight(Effect.forEach(wakes.values(), (wake) => Queue.offer(wake, undefined)))))

    const deliver = (delivery: { readonly alertId: string; readonly channel: string; readonly alert: unknown; readonly attempts: number }) => {
      const channel = byName.get(delivery.channel)!
      return decodeAlert(delivery.alert).pipe(
        Effect.mapError(() => new Channel.ChannelError({ channel: channel.name, reason: "the stored alert cannot be read" })),
        Effect.flatMap(channel.send),
        Effect.timeoutFail({
          duration: sendTimeout,
          onTimeout: () =>
            new Channel.ChannelError({ channel: channel.name, reason: `no answer within ${Duration.format(sendTimeout)}` })
        }),
        Effect.retry(retry),
        Effect.matchEffect({
          onSuccess: () => store.delivered(name, delivery.alertId, delivery.channel),
          onFailure: (error) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              const round = delivery.attempts + 1
              if (round >= rounds) {
                return store.failed(name, delivery.alertId, delivery.channel, error.reason, undefined).pipe(
                  Effect.zipRight(Effect.logWarning(
                    `alert ${delivery.alertId} was not delivered to ${delivery.channel} after ${round} rounds: ${error.reason}`
                  ))
                )
              }
              const wait = Duration.min(Duration.times(backoff, 2 ** (round - 1)), maxBackoff)
              return store.failed(name, delivery.alertId, delivery.channel, error.reason, now + Duration.toMillis(wait))
            })
        })
      )
    }

    // one sender per channel: a slow or down channel holds back neither the others nor the feed
    const sender = (channel: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const claimed = yield* store.claim(name, [channel], now, now + Duration.toMillis(claimFor), claimSize)
        yield* Effect.forEach(claimed, deliver, { concurrency: claimSize, discard: true })
        if (claimed.length === 0) yield* Effect.race(Queue.take(wakes.get(channel)!), Effect.sleep(pollInterval))
      }).pipe(Effect.forever)

    // sleeps until the next throttle or digest window ends; an offer may open an earlier one
    const windowOpened = yield* Queue.sliding<void>(1)
    const windows = Effect.gen(function*() {
      yield* record(yield* engine.due)
      const next = yield* engine.nextDue
      const now = yield* Clock.currentTimeMillis
      yield* Option.match(next, {
        onNone: () => Queue.take(windowOpened),
        onSome: (at) => Effect.race(Queue.take(windowOpened), Effect.sleep(Duration.millis(Math.max(0, at - now))))
      })
    }).pipe(Effect.forever)

    const consumer = Scheduler.consume(
      { name: `notify:${name}`, startAt: options.startAt ?? "now", ...(options.lease === undefined ? {} : { lease: options.lease }) },
      (entries) => Effect.flatMap(engine.offer(entries), record).pipe(Effect.zipRight(Queue.offer(windowOpened, undefined)))
    )

    // the notifier's own failures are logged, then it starts over (from the stored cursor)
    const resilient = <E, R>(what: string, effect: Effect.Effect<never, E, R>) =>
      effect.pipe(
        Effect.sandbox,
        Effect.tapError((cause) => Effect.logError(`notifier "${name}": the ${what} failed; starting over`, cause)),
        Effect.retry(Schedule.exponential("1 second").pipe(Schedule.union(Schedule.spaced("30 seconds"))))
      )

    const keep = Duration.toMillis(options.keep ?? Duration.days(7))
    const pruner = Effect.gen(function*() {
      yield* store.prune(name, (yield* Clock.currentTimeMillis) - keep)
      yield* Effect.sleep(Duration.hours(1))
    }).pipe(Effect.forever)

    for (const channel of names) yield* Effect.forkScoped(resilient(`sender of ${channel}`, sender(channel)))
    yield* Effect.forkScoped(resilient("pruner", pruner))
    yield* Effect.forkScoped(resilient("window timer", windows))
    yield* Effect.forkScoped(resilient("feed consumer", consumer))
  }))
