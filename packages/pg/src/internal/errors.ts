import { StoreError } from "@clockwork/core/JobStore"
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

const isSqlError = (error: unknown): error is SqlError => Predicate.isTagged(error, "SqlError")

/** Reports a SqlError as the store's error, naming the operation. */
export const storeError = (operation: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    effect,
    isSqlError,
    (error) => Effect.fail(new StoreError({ operation, message: describe(error), cause: error }))
  ) as Effect.Effect<A, Exclude<E, SqlError> | StoreError, R>
