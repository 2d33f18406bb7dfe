import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { type JobStore, Run } from "../src/index.js"
import * as Storable from "../src/internal/storable.js"

const refused = (value: unknown) => Either.getLeft(Storable.json(value, "payload")).pipe(Either.fromOption(() => value))

const nul = (at: number) => `contains a NUL character (U+0000) at index ${at}, which PostgreSQL cannot store`

describe("values", () => {
  it("plain JSON passes as the same object", () => {
    const value = { text: "é 😀 \uffff", list: [1, -2.5, 1e300, 5e-324, null, true, { "": "" }], nested: { a: { b: [] } } }
    expect(Storable.json(value, "payload")).toEqual(Either.right(value))
    expect(Either.getOrThrow(Storable.json(value, "payload"))).toBe(value)
    expect(Storable.json(undefined, "payload")).toEqual(Either.right(undefined))
    expect(Storable.json("plain", "payload")).toEqual(Either.right("plain"))
  })

  it("NUL characters and lone surrogates are refused, in values and keys, with their path", () => {
    expect(refused({ items: [{ name: "ok" }, { name: "a\u0000b" }] })).toEqual(
      Either.right({ path: "payload.items[1].name", reason: nul(1) })
    )
    expect(refused({ "odd key": { "k\u0000": 1 } })).toEqual(
      Either.right({ path: "payload[\"odd key\"][\"k\\u0000\"]", reason: `its key ${nul(1)}` })
    )
    expect(refused(["x\ud800"])).toEqual(
      Either.right({ path: "payload[0]", reason: "contains a lone surrogate (U+D800) at index 1, which is not valid Unicode" })
    )
    expect(refused("\udc00😀")).toEqual(
      Either.right({ path: "payload", reason: "contains a lone surrogate (U+DC00) at index 0, which is not valid Unicode" })
    )
    // a surrogate pair is one character, and fine
    expect(Either.isRight(Storable.json("😀", "payload"))).toBe(true)
  })

  it("numbers JSON has not, undefined in arrays, and what is not JSON are refused", () => {
    const reasonOf = (value: unknown) => Either.getOrThrow(refused(value)).reason
    expect(reasonOf({ n: NaN })).toBe("NaN is not a JSON number (it would be stored as null)")
    expect(reasonOf([Infinity])).toBe("Infinity is not a JSON number (it would be stored as null)")
    expect(reasonOf(-Infinity)).toBe("-Infinity is not a JSON number (it would be stored as null)")
    expect(reasonOf([1, undefined])).toBe("undefined in an array is not JSON (it would be stored as null)")
    expect(reasonOf([1, , 3])).toBe("an empty slot in an array is not JSON (it would be stored as null)")
    expect(reasonOf(10n)).toBe("a bigint (10n) is not JSON; encode it as a string (Schema.BigInt)")
    expect(reasonOf({ f: () => 1 })).toBe("a function is not JSON")
    expect(reasonOf(Symbol("s"))).toBe("a symbol is not JSON")
    expect(reasonOf(new Date(0))).toMatch(/^a Date is not plain JSON .*Schema\.Date/)
    expect(reasonOf(new Map())).toMatch(/^a Map is not plain JSON .*Schema\.ReadonlyMap/)
    expect(reasonOf(new Uint8Array(2))).toMatch(/^a Uint8Array is not plain JSON .*Base64/)
    class Point {
      constructor(readonly x: number) {}
    }
    expect(reasonOf({ at: new Point(1) })).toMatch(/^a Point is not plain JSON/)
    expect(Either.isRight(Storable.json(Object.assign(Object.create(null), { a: 1 }), "payload"))).toBe(true)
  })

  it("a cycle and absurd nesting are refused", () => {
    const cycle: Record<string, unknown> = { name: "loop" }
    cycle.self = { again: cycle }
    expect(Either.getOrThrow(refused(cycle)).reason).toBe("refers to itself (a cycle), which JSON cannot hold")
    let deep: unknown = 1
    for (let i = 0; i < 1001; i++) deep = [deep]
    expect(Either.getOrThrow(refused(deep)).reason).toBe("is nested deeper than 1000 levels")
    let fine: unknown = 1
    for (let i = 0; i < 999; i++) fine = [fine]
    expect(Either.isRight(Storable.json(fine, "payload"))).toBe(true)
  })

  it("undefined properties are dropped and -0 becomes 0, as JSON would on every store", () => {
    const stored = Either.getOrThrow(Storable.json({ a: undefined, b: -0, c: [{ d: undefined, e: 1 }] }, "payload"))
    expect(stored).toStrictEqual({ b: 0, c: [{ e: 1 }] })
    expect(Object.is((stored as { b: number }).b, 0)).toBe(true)
    expect(Object.is(Either.getOrThrow(Storable.json(-0, "payload")), 0)).toBe(true)
  })

  it("escapeText writes what cannot be stored as escapes, and leaves the rest", () => {
    expect(Storable.escapeText("a\u0000b\ud800c😀")).toBe("a\\u0000b\\ud800c😀")
    expect(Storable.escapeText("plain")).toBe("plain")
  })
})

describe("outcomes", () => {
  const base: JobStore.RunOutcome = {
    runId: "run-1" as Run.RunId,
    jobName: "job",
    attempt: 1,
    status: "succeeded",
    scheduledFor: 0,
    scheduleId: undefined,
    startedAt: 0,
    finishedAt: 5,
    workerId: "w"
  }
  const error = (message: string) => new Run.RunError({ tag: "Boom", message, cause: `Boom: ${message}` })

  it("a storable outcome is passed on as it is", () => {
    const outcome = { ...base, result: { ok: true }, metrics: { n: 1 } }
    expect(Storable.outcome(outcome)).toBe(outcome)
  })

  it("a success whose result cannot be stored becomes a failure, not retried; its storable metrics stay", () => {
    const outcome = Storable.outcome({
      ...base,
      result: { text: "x\u0000" },
      metrics: { n: 1 },
      followUps: [{ jobName: "next", payload: { text: "x\u0000" }, runAt: 5, scheduledFor: 5 }]
    })
    expect(outcome).toEqual({
      ...base,
      status: "failed",
      metrics: { n: 1 },
      error: new Run.RunError({
        tag: "UnstorableOutcome",
        message: `the run's result.text cannot be stored: ${nul(1)}`,
        cause: ""
      })
    })
    expect(Storable.outcome({ ...base, attempt: 3, result: NaN }).status).toBe("dead")
  })

  it("a success whose metrics or then-job payload cannot be stored fails the same way", () => {
    const metrics = Storable.outcome({ ...base, result: 1, metrics: { note: "\u0000" } })
    expect(metrics.status).toBe("failed")
    expect(metrics.metrics).toBeUndefined()
    expect(metrics.result).toBeUndefined()
    expect(metrics.error?.message).toBe(`the run's metrics.note cannot be stored: ${nul(0)}`)
    const followUp = Storable.outcome({
      ...base,
      followUps: [{ jobName: "next", payload: [NaN], runAt: 5, scheduledFor: 5 }]
    })
    expect(followUp.followUps).toBeUndefined()
    expect(followUp.error?.message).toBe(
      "the run's then[\"next\"].payload[0] cannot be stored: NaN is not a JSON number (it would be stored as null)"
    )
  })

  it("a failure keeps its status and retry; the stored error quotes the job's, escaped", () => {
    const outcome = Storable.outcome({ ...base, status: "failed", error: error("bad\u0000news"), retryAt: 1000 })
    expect(outcome.status).toBe("failed")
    expect(outcome.retryAt).toBe(1000)
    expect(outcome.error).toEqual(
      new Run.RunError({
        tag: "UnstorableOutcome",
        message: `the run's error.message cannot be stored: ${nul(3)}; the job failed with Boom: bad\\u0000news`,
        cause: "Boom: bad\\u0000news"
      })
    )
    const timedOut = Storable.outcome({ ...base, status: "timed_out", error: error("ok"), metrics: { x: Infinity } })
    expect(timedOut.status).toBe("timed_out")
    expect(timedOut.metrics).toBeUndefined()
    expect(timedOut.error?.message).toBe(
      "the run's metrics.x cannot be stored: Infinity is not a JSON number (it would be stored as null); the job failed with Boom: ok"
    )
  })

  it("values JSON changes without loss are changed in the outcome, as every store would", () => {
    const outcome = Storable.outcome({
      ...base,
      result: { a: undefined, b: 1 },
      followUps: [{ jobName: "next", payload: { a: undefined }, runAt: 5, scheduledFor: 5 }]
    })
    expect(outcome.result).toStrictEqual({ b: 1 })
    expect(outcome.followUps?.[0]?.payload).toStrictEqual({})
  })

  it("an outcome the store refused is recorded with the store's message, without its data", () => {
    const outcome = Storable.refused(
      { ...base, result: "fine", metrics: { n: 1 }, followUps: [{ jobName: "next", payload: 1, runAt: 5, scheduledFor: 5 }] },
      "new row violates check constraint \"x\u0000\""
    )
    expect(outcome).toEqual({
      ...base,
      status: "failed",
      error: new Run.RunError({
        tag: "UnstorableOutcome",
        message: "the run's outcome cannot be stored: the store refused it (new row violates check constraint \"x\\u0000\")",
        cause: ""
      })
    })
  })
})
