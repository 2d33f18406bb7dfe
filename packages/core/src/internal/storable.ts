/**
 * What every store can hold, checked once, in core, before anything reaches a
 * store, so the in-memory store refuses exactly what PostgreSQL and PGlite
 * cannot keep, and a unit test on `Testing.layer` meets what production would.
 *
 * Values (payloads, results, metrics) are stored as `jsonb`, names and error
 * strings as `text`. Neither can hold a NUL character (U+0000); a lone UTF-16
 * surrogate is not Unicode (`jsonb` refuses it, `text` turns it into U+FFFD);
 * JSON has no NaN or Infinity (`JSON.stringify` writes `null`), no
 * `undefined` in an array (written as `null`), no bigint, function or symbol,
 * and keeps only the JSON text of a Date, a Map or a class instance. Such
 * values are refused, with the path to the bad value and what was wrong.
 *
 * Two differences JSON makes are not worth refusing, so they are applied on
 * every store alike: an object property whose value is `undefined` is
 * dropped, and `-0` is stored as `0`.
 */
import { Either } from "effect"
import type { NewRun, RunOutcome } from "../JobStore.js"
import type { Metrics, RunStatus } from "../Run.js"
import { RunError, UnstorableOutcome } from "../Run.js"

/** Where a value cannot be stored, and why. */
export interface Unstorable {
  /** e.g. `payload.items[2].name` */
  readonly path: string
  readonly reason: string
}

const unstorableCharacter = /\u0000|\p{Cs}/u
const unstorableCharacters = /\u0000|\p{Cs}/gu

const codePoint = (char: string) => `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`

/** Why a string cannot be stored in `text` or `jsonb`, if it cannot. */
export const textProblem = (value: string): string | undefined => {
  const found = unstorableCharacter.exec(value)
  if (found === null) return undefined
  return found[0] === "\u0000"
    ? `contains a NUL character (U+0000) at index ${found.index}, which PostgreSQL cannot store`
    : `contains a lone surrogate (${codePoint(found[0])}) at index ${found.index}, which is not valid Unicode`
}

/** The string with NUL characters and lone surrogates written as escapes (`\u0000`), so it can be stored. */
export const escapeText = (value: string): string =>
  unstorableCharacter.test(value)
    ? value.replace(unstorableCharacters, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`)
    : value

/** Checks a string for `text`; `Left` names what is wrong. */
export const text = (value: string, path: string): Either.Either<string, Unstorable> => {
  const reason = textProblem(value)
  return reason === undefined ? Either.right(value) : Either.left({ path, reason })
}

// past this depth, a value is looked for among its ancestors (a cycle) on each step
const cycleCheckDepth = 32
const maxDepth = 1000

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/

const hintFor = (value: object): string => {
  if (value instanceof Date) return "use a Schema whose encoded side is a string (Schema.Date, not Schema.DateFromSelf)"
  if (value instanceof Map || value instanceof Set) return "encode it as an array (Schema.ReadonlyMap, Schema.ReadonlySet)"
  if (ArrayBuffer.isView(value)) return "encode it as a string (Schema.Uint8ArrayFromBase64)"
  return "encode it with a Schema whose encoded side is plain JSON"
}

/** Walks a value once; `normalize` is set when JSON would change it in a way that is not refused. */
class Walk {
  readonly keys: Array<string | number> = []
  readonly ancestors: Array<object> = []
  normalize = false

  check(value: unknown): string | undefined {
    switch (typeof value) {
      case "string":
        return textProblem(value)
      case "number":
        if (!Number.isFinite(value)) return `${value} is not a JSON number (it would be stored as null)`
        if (Object.is(value, -0)) this.normalize = true
        return undefined
      case "boolean":
        return undefined
      case "undefined":
        return "undefined is not JSON"
      case "bigint":
        return `a bigint (${value}n) is not JSON; encode it as a string (Schema.BigInt)`
      case "symbol":
      case "function":
        return `a ${typeof value} is not JSON`
    }
    if (value === null) return undefined
    const object = value as object
    if (this.ancestors.length >= cycleCheckDepth && this.ancestors.includes(object)) {
      return "refers to itself (a cycle), which JSON cannot hold"
    }
    if (this.ancestors.length >= maxDepth) return `is nested deeper than ${maxDepth} levels`
    if (Array.isArray(object)) return this.array(object)
    const proto = Object.getPrototypeOf(object)
    if (proto !== Object.prototype && proto !== null) {
      const name = (object.constructor as { name?: string } | undefined)?.name ?? "object"
      return `a ${name} is not plain JSON (only its JSON text would be stored); ${hintFor(object)}`
    }
    return this.record(object as Record<string, unknown>)
  }

  private array(array: ReadonlyArray<unknown>): string | undefined {
    this.ancestors.push(array)
    for (let i = 0; i < array.length; i++) {
      this.keys.push(i)
      const element = array[i]
      const reason = element === undefined
        ? `${i in array ? "undefined" : "an empty slot"} in an array is not JSON (it would be stored as null)`
        : this.check(element)
      if (reason !== undefined) return reason
      this.keys.pop()
    }
    this.ancestors.pop()
    return undefined
  }

  private record(record: Record<string, unknown>): string | undefined {
    this.ancestors.push(record)
    for (const key of Object.keys(record)) {
      this.keys.push(key)
      const keyProblem = textProblem(key)
      if (keyProblem !== undefined) return `its key ${keyProblem}`
      const element = record[key]
      if (element === undefined) this.normalize = true
      else {
        const reason = this.check(element)
        if (reason !== undefined) return reason
      }
      this.keys.pop()
    }
    this.ancestors.pop()
    return undefined
  }

  path(root: string): string {
    let path = root
    for (const key of this.keys) {
      path += typeof key === "number" ? `[${key}]` : identifier.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
    }
    return path
  }
}

const noValue: Either.Either<unknown, Unstorable> = Either.right(undefined)

/**
 * Checks a value for `jsonb`; `Right` is the value as every store will hold it
 * (the same object unless it had `undefined` properties or `-0`). `undefined`
 * itself is "no value" and passes.
 */
export const json = (value: unknown, root: string): Either.Either<unknown, Unstorable> => {
  if (value === undefined) return noValue
  const walk = new Walk()
  const reason = walk.check(value)
  if (reason !== undefined) return Either.left({ path: walk.path(root), reason })
  return Either.right(walk.normalize ? JSON.parse(JSON.stringify(value)) : value)
}

/**
 * Whether two stored values are the same value, as `jsonb` compares them: an
 * object's keys in any order, an array's elements in theirs. (Their JSON texts
 * differ when only the key order does.)
 */
export const sameJson = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  const keys = Object.keys(x)
  if (keys.length !== Object.keys(y).length) return false
  for (const key of keys) if (!Object.hasOwn(y, key) || !sameJson(x[key], y[key])) return false
  return true
}

// ---------------------------------------------------------------------------
// outcomes
// ---------------------------------------------------------------------------

const errorProblem = (error: RunError | undefined): Unstorable | undefined => {
  if (error === undefined) return undefined
  for (const field of ["tag", "message", "cause"] as const) {
    const reason = textProblem(error[field])
    if (reason !== undefined) return { path: `error.${field}`, reason }
  }
  return undefined
}

/**
 * The outcome as it can be stored. An outcome holding something no store can
 * keep is replaced by one recording `UnstorableOutcome` (see its doc): a
 * success becomes a failure that is not retried, a failure keeps its status and
 * retry; unstorable metrics are dropped.
 */
export const outcome = (o: RunOutcome): RunOutcome => {
  // most outcomes (a job that returns nothing, reports nothing, and succeeded) have nothing to check
  if (o.result === undefined && o.metrics === undefined && o.error === undefined && o.followUps === undefined) return o
  const result = json(o.result, "result")
  const metrics = json(o.metrics, "metrics")
  const storableMetrics = Either.getOrUndefined(metrics) as Metrics | undefined
  const problem = errorProblem(o.error) ??
    (Either.isLeft(result) ? result.left : Either.isLeft(metrics) ? metrics.left : undefined)
  if (problem !== undefined) return unstorable(o, problem, storableMetrics)
  let followUps = o.followUps
  for (const [i, run] of (o.followUps ?? []).entries()) {
    const payload = json(run.payload, `then[${JSON.stringify(run.jobName)}].payload`)
    if (Either.isLeft(payload)) return unstorable(o, payload.left, storableMetrics)
    if (payload.right !== run.payload) {
      followUps = followUps === o.followUps ? [...followUps!] : followUps
      ;(followUps as Array<NewRun>)[i] = { ...run, payload: payload.right }
    }
  }
  const storableResult = Either.getOrUndefined(result)
  if (storableResult === o.result && storableMetrics === o.metrics && followUps === o.followUps) return o
  return { ...o, result: storableResult, metrics: storableMetrics, followUps }
}

/**
 * The outcome to record when the store refused `o` for its data (a permanent
 * store error the check above did not foresee): the same replacement, with the
 * store's message as the reason, and no result or metrics.
 */
export const refused = (o: RunOutcome, storeMessage: string): RunOutcome =>
  unstorable(o, { path: "outcome", reason: `the store refused it (${escapeText(storeMessage)})` }, undefined)

const unstorable = (o: RunOutcome, problem: Unstorable, metrics: Metrics | undefined): RunOutcome => {
  const error = new UnstorableOutcome({
    field: problem.path,
    reason: problem.reason,
    ...(o.error === undefined ? {} : { jobError: `${escapeText(o.error.tag)}: ${escapeText(o.error.message)}` })
  })
  const succeeded = o.status === "succeeded"
  // as for a result that does not match its Schema: not retried, dead when earlier attempts were
  const status: RunStatus = succeeded ? (o.attempt > 1 ? "dead" : "failed") : o.status
  return {
    runId: o.runId,
    jobName: o.jobName,
    attempt: o.attempt,
    status,
    scheduledFor: o.scheduledFor,
    scheduleId: o.scheduleId,
    startedAt: o.startedAt,
    finishedAt: o.finishedAt,
    workerId: o.workerId,
    error: new RunError({
      tag: error._tag,
      message: error.message,
      cause: o.error === undefined ? "" : escapeText(o.error.cause)
    }, true),
    ...(metrics === undefined ? {} : { metrics }),
    ...(succeeded || o.retryAt === undefined ? {} : { retryAt: o.retryAt })
  }
}
