import { Job } from "@clockwork/core"
import {
  Cause,
  Clock,
  DateTime,
  type Duration,
  Effect,
  Fiber,
  Option,
  ParseResult,
  PubSub,
  Schema,
  Stream
} from "effect"
import type {
  Any,
  DuplicateListenerName,
  Handle,
  InvalidParams,
  ListenerNotRegistered,
  Listeners,
  Status,
  Tick,
  UnknownListener
} from "../Listener.js"
import { ListenerStore, type ListenerState } from "../ListenerStore.js"
import * as Loop from "./loop.js"

export interface LayerConfig {
  readonly owner: string
  readonly lease: Duration.DurationInput
  readonly errors: {
    readonly duplicate: (name: string) => DuplicateListenerName
    readonly notRegistered: (name: string) => ListenerNotRegistered
    readonly unknown: (name: string) => UnknownListener
    readonly invalidParams: (listener: string, reason: string) => InvalidParams
  }
}

/** One listener in this process: its fiber while its stream runs, and its ticks for subscribers. */
interface Slot {
  readonly listener: Any
  readonly initial: unknown
  readonly ticks: PubSub.PubSub<Tick<any>>
  readonly lock: Effect.Semaphore
  fiber: Fiber.RuntimeFiber<void> | undefined
  /** set while a stop interrupts the fiber, so the tick in flight cancels its run */
  stopping: boolean
}

/**
 * Checks the listeners, starts each one's stream in a fiber of the layer's
 * scope, and hands out their handles.
 */
export const make = (listeners: ReadonlyArray<Any>, config: LayerConfig) =>
  Effect.gen(function*() {
    const { errors, owner } = config
    const slots = new Map<string, Slot>()
    for (const listener of listeners) {
      if (slots.has(listener.name)) return yield* Effect.fail(errors.duplicate(listener.name))
      yield* Loop.toSchedule(listener.every)
      const initial = yield* Schema.encode(listener.params)(listener.initialParams).pipe(
        Effect.mapError((error) =>
          errors.invalidParams(listener.name, ParseResult.TreeFormatter.formatErrorSync(error))
        )
      )
      slots.set(listener.name, {
        listener,
        initial,
        ticks: yield* PubSub.unbounded<Tick<any>>(),
        lock: yield* Effect.makeSemaphore(1),
        fiber: undefined,
        stopping: false
      })
    }
    // a runner in this process must have the jobs, or the listeners' runs would wait forever
    const registry = yield* Effect.serviceOption(Job.Registry)
    if (Option.isSome(registry)) {
      for (const listener of listeners) {
        if (registry.value.jobs.get(listener.name) !== listener.job) {
          return yield* Effect.fail(errors.notRegistered(listener.name))
        }
      }
    }
    const store = yield* ListenerStore
    const scope = yield* Effect.scope
    // what the streams need (the Scheduler, the store, the sources' services), for restarts too
    const context = yield* Effect.context<any>()

    const start = (slot: Slot) =>
      Effect.gen(function*() {
        const { listener } = slot
        const fiber = yield* Loop.stream(listener, {
          owner,
          lease: config.lease,
          stopping: () => slot.stopping,
          errors: { invalidParams: (reason) => errors.invalidParams(listener.name, reason) }
        }).pipe(
          Stream.runForEach((tick) => PubSub.publish(slot.ticks, tick)),
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause)
              ? Effect.void
              : Effect.logError(`clockwork: listener "${listener.name}" ended`, cause)
          ),
          Effect.provide(context),
          Effect.forkIn(scope)
        )
        slot.fiber = fiber
        fiber.addObserver(() => {
          if (slot.fiber === fiber) slot.fiber = undefined
        })
      })

    const statusOf = (slot: Slot, state: Option.Option<ListenerState>, now: number) =>
      Effect.map(
        Schema.decodeUnknown(slot.listener.params)(Option.match(state, { onNone: () => slot.initial, onSome: (s) => s.params })).pipe(
          Effect.mapError((error) =>
            errors.invalidParams(slot.listener.name, ParseResult.TreeFormatter.formatErrorSync(error))
          )
        ),
        (params): Status<unknown> => {
          const s = Option.getOrUndefined(state)
          const leased = s?.owner !== undefined && s.leaseUntil !== undefined && DateTime.toEpochMillis(s.leaseUntil) > now
          return {
            name: slot.listener.name,
            state: s?.stopped === true ? "stopped" : leased && s?.owner === owner ? "running" : "standby",
            holder: leased ? s?.owner : undefined,
            params,
            ticks: s?.ticks ?? 0,
            skipped: s?.skipped ?? 0,
            succeeded: s?.succeeded ?? 0,
            failed: s?.failed ?? 0,
            consecutiveFailures: s?.consecutiveFailures ?? 0,
            lastTickAt: s?.lastTickAt === undefined ? undefined : DateTime.toEpochMillis(s.lastTickAt),
            lastRunId: s?.lastRunId,
            lastError: s?.lastError
          }
        }
      )

    const handleOf = (slot: Slot): Handle<unknown> => {
      const name = slot.listener.name
      const status = Effect.flatMap(store.get(name), (state) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => statusOf(slot, state, now)))
      return {
        name,
        stop: slot.lock.withPermits(1)(Effect.gen(function*() {
          // stored first, so no other process takes the lease this one is about to give up
          yield* store.setStopped(name, true, yield* Clock.currentTimeMillis, slot.initial)
          const fiber = slot.fiber
          if (fiber === undefined) return
          slot.stopping = true
          yield* Effect.ensuring(Fiber.interrupt(fiber), Effect.sync(() => {
            slot.stopping = false
          }))
        })),
        resume: slot.lock.withPermits(1)(Effect.gen(function*() {
          yield* store.setStopped(name, false, yield* Clock.currentTimeMillis, slot.initial)
          if (slot.fiber === undefined) yield* start(slot)
        })),
        status,
        params: Effect.map(status, (s) => s.params),
        ticks: Stream.fromPubSub(slot.ticks)
      }
    }

    const handles = new Map(Array.from(slots.values(), (slot) => [slot.listener.name, handleOf(slot)] as const))
    for (const slot of slots.values()) yield* start(slot)

    const service: Listeners = {
      owner,
      names: Array.from(slots.keys()),
      handle: <P>(listener: Any) => {
        const handle = handles.get(listener.name)
        return handle === undefined || slots.get(listener.name)!.listener !== listener
          ? Effect.fail(errors.unknown(listener.name))
          : Effect.succeed(handle as Handle<P>)
      }
    }
    return service
  })
