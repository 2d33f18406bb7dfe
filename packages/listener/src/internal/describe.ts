import { Predicate } from "effect"

/** An error's message followed by its causes': "Failed to execute statement: relation ... does not exist". */
export const describe = (error: unknown): string => {
  if (Predicate.hasProperty(error, "message")) {
    const cause = Predicate.hasProperty(error, "cause") && error.cause !== undefined && error.cause !== error
      ? `: ${describe(error.cause)}`
      : ""
    return `${String(error.message)}${cause}`
  }
  return String(error)
}
