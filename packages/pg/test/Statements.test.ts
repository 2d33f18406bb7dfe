/**
 * How a store runs its operations (statements.ts), without a database: the
 * slots (at most `connections` operations at once, callers served in the
 * order they came), the bound on a caller's wait, and operations that run to
 * their end whatever their caller does.
 */
import { StoreError } from "@clockwork/core/JobStore"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Either, Exit, Fiber } from "effect"
import * as Statements from "../src/internal/statements.js"

/** An operation that records its start and ends when `done` is completed. */
const gated = (name: string, log: Array<string>, done: Deferred.Deferred<string>) =>
  Effect.zipRight(Effect.sync(() => log.push(`${name} started`)), Deferred.await(done))

/** Lets forked callers reach their wait. */
const settle = Effect.sleep("20 millis")

/** Three callers of `run`, one after the other, each with an operation gated by its own Deferred. */
const threeInLine = (run: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>) =>
  Effect.gen(function*() {
    const log: Array<string> = []
    const gates: Array<Deferred.Deferred<string>> = []
    const callers: Array<Fiber.RuntimeFiber<string, StoreError>> = []
    for (const name of ["a", "b", "c"]) {
      const gate = yield* Deferred.make<string>()
      gates.push(gate)
      callers.push(yield* Effect.fork(run(gated(name, log, gate))))
      yield* settle
    }
    return { log, gates: gates as [Deferred.Deferred<string>, Deferred.Deferred<string>, Deferred.Deferred<string>], callers }
  })

describe("Statements", () => {
  it.live("callers beyond the slots wait in line, and each freed slot goes to the first in line", () =>
    Effect.gen(function*() {
      const statements = yield* Statements.make(1)
      const { callers: [first, second, third], gates: [a, b, c], log } = yield* threeInLine(
        statements.run("test", Duration.seconds(30))
      )
      expect(log).toEqual(["a started"])
      yield* Deferred.succeed(a, "a")
      expect(yield* Fiber.join(first)).toBe("a")
      yield* settle
      expect(log).toEqual(["a started", "b started"])
      yield* Deferred.succeed(b, "b")
      yield* Deferred.succeed(c, "c")
      expect(yield* Fiber.join(second)).toBe("b")
      expect(yield* Fiber.join(third)).toBe("c")
      expect(log).toEqual(["a started", "b started", "c started"])
    }))

  it.live("a caller waiting for a slot gives up after the timeout, naming its operation; the operation never starts", () =>
    Effect.gen(function*() {
      const statements = yield* Statements.make(1)
      const log: Array<string> = []
      const [held, late] = yield* Effect.all([Deferred.make<string>(), Deferred.make<string>()])
      yield* Effect.fork(statements.run("hold", Duration.seconds(30))(gated("held", log, held)))
      yield* settle
      const startedAt = Date.now()
      const waited = yield* Effect.either(statements.run("claim", Duration.millis(100))(gated("late", log, late)))
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(90)
      expect(Either.isLeft(waited) && waited.left instanceof StoreError && waited.left.operation).toBe("claim")
      expect(Either.isLeft(waited) && waited.left.message).toMatch(/did not answer within 100ms/)
      // the slot it gave up on goes to the next caller
      yield* Deferred.succeed(held, "held")
      yield* Deferred.succeed(late, "late")
      expect(yield* statements.run("next", Duration.seconds(30))(Effect.succeed("next"))).toBe("next")
      expect(log).toEqual(["held started"])
    }))

  it.live("a caller interrupted while waiting leaves the line: its operation never starts", () =>
    Effect.gen(function*() {
      const statements = yield* Statements.make(1)
      const { callers: [first, second, third], gates: [a, , c], log } = yield* threeInLine(
        statements.run("test", undefined)
      )
      yield* Fiber.interrupt(second)
      yield* Deferred.succeed(a, "a")
      yield* Deferred.succeed(c, "c")
      expect(yield* Fiber.join(first)).toBe("a")
      expect(yield* Fiber.join(third)).toBe("c")
      expect(log).toEqual(["a started", "c started"])
    }))

  it.live("a caller interrupted just as a slot is handed to it passes the slot on", () =>
    Effect.gen(function*() {
      const statements = yield* Statements.make(1)
      const log: Array<string> = []
      const [held, waited] = yield* Effect.all([Deferred.make<string>(), Deferred.make<string>()])
      let waiter: Fiber.RuntimeFiber<string, StoreError> | undefined
      // the holder's operation ends by interrupting the waiter: the slot is handed over right after, so the
      // waiter hears of both before it runs again (a request timing out as a statement ends, under load)
      const holder = yield* Effect.fork(statements.run("hold", Duration.seconds(30))(
        Effect.ensuring(gated("held", log, held), Effect.sync(() => waiter!.unsafeInterruptAsFork(waiter!.id())))
      ))
      yield* settle
      waiter = yield* Effect.fork(statements.run("wait", Duration.seconds(30))(gated("waiter", log, waited)))
      yield* settle
      yield* Deferred.succeed(held, "held")
      expect(yield* Fiber.join(holder)).toBe("held")
      expect(Exit.isInterrupted(yield* Fiber.await(waiter))).toBe(true)
      // the slot is free again: the next caller gets it (it would wait out its bound if the slot were lost)
      const next = yield* Effect.either(statements.run("next", Duration.seconds(2))(Effect.succeed("next")))
      expect(next).toEqual(Either.right("next"))
      expect(log).toEqual(["held started"])
    }))

  it.live("an operation that outlasts the timeout fails its caller, runs to its end and only then frees its slot", () =>
    Effect.gen(function*() {
      const statements = yield* Statements.make(1)
      const log: Array<string> = []
      const [slow, next] = yield* Effect.all([Deferred.make<string>(), Deferred.make<string>()])
      const timedOut = yield* Effect.either(statements.run("complete", Duration.millis(50))(gated("slow", log, slow)))
      expect(Either.isLeft(timedOut) && timedOut.left.message).toMatch(/may still complete/)
      const waiting = yield* Effect.fork(statements.run("claim", Duration.seconds(30))(gated("next", log, next)))
      yield* settle
      expect(log).toEqual(["slow started"])
      yield* Deferred.succeed(slow, "slow")
      yield* settle
      expect(log).toEqual(["slow started", "next started"])
      yield* Deferred.succeed(next, "next")
      expect(yield* Fiber.join(waiting)).toBe("next")
    }))

  it.live("an interrupted caller lets its operation run to its end", () =>
    Effect.gen(function*() {
      const statements = yield* Statements.make(2)
      const ended = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const caller = yield* Effect.fork(
        statements.run("enqueue", Duration.seconds(30))(
          Effect.zipRight(Deferred.await(gate), Deferred.succeed(ended, undefined))
        )
      )
      yield* settle
      yield* Fiber.interrupt(caller)
      yield* Deferred.succeed(gate, undefined)
      yield* Deferred.await(ended).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "never ended" }))
    }))
})
