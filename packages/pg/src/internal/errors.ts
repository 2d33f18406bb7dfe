import { StoreError, type StoreErrorKind } from "@clockwork/core/JobStore"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Predicate } from "effect"

/** An error's message followed by its causes': "Failed to execute statement: relation ... does not exist". */
export const describe = (error: unknown): string => {
  if (Predicate.hasProperty(error, "message")) {
    const cause = Predicate.hasProperty(error, "cause") && error.cause !== undefined ? `: ${describe(error.cause)}` : ""
    return `${String(error.message)}${cause}`
  }
  return String(error)
}

const sqlState = /^[0-9A-Z]{5}$/

/**
 * SQLSTATE classes (the first two characters): the server could not answer
 * now (08 connection exception, 40 transaction rollback: serialization
 * failure, deadlock; 53 insufficient resources; 57 operator intervention:
 * query cancelled, server shutting down) or it refused the data (22 data
 * exception: invalid encoding, value out of range; 23 integrity constraint; 54
 * program limit exceeded: a value too large).
 */
const transientClasses = new Set(["08", "40", "53", "57"])
const permanentClasses = new Set(["22", "23", "54"])

/** Errors of the socket under the driver: the server is unreachable or the connection broke. */
const networkCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN"
])

/** node-postgres and @effect/sql-pg say a connection broke or could not be had in words, without a code. */
const connectionMessage = /connection|terminated|timeout|timed out|not queryable/i

/**
 * Whether trying the failed request again can help, from the SQLSTATE or the
 * driver's error anywhere in the chain of causes. A lock wait that timed out
 * (55P03) is transient too.
 */
export const classify = (error: unknown): StoreErrorKind => {
  let kind: StoreErrorKind = "unknown"
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    const code = Predicate.hasProperty(e, "code") && typeof e.code === "string" ? e.code : undefined
    if (code !== undefined && sqlState.test(code)) {
      const sqlClass = code.slice(0, 2)
      if (permanentClasses.has(sqlClass)) return "permanent"
      if (transientClasses.has(sqlClass) || code === "55P03") return "transient"
      return "unknown"
    }
    if (code !== undefined && networkCodes.has(code)) return "transient"
    if (Predicate.hasProperty(e, "message") && connectionMessage.test(String(e.message))) kind = "transient"
    e = Predicate.hasProperty(e, "cause") ? e.cause : undefined
  }
  return kind
}

const isSqlError = (error: unknown): error is SqlError => Predicate.isTagged(error, "SqlError")

/** Reports a SqlError as the store's error, naming the operation and saying whether trying again can help. */
export const storeError = (operation: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    effect,
    isSqlError,
    (error) => Effect.fail(new StoreError({ operation, message: describe(error), kind: classify(error), cause: error }))
  ) as Effect.Effect<A, Exclude<E, SqlError> | StoreError, R>
