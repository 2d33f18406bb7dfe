import { Cause, Option } from "effect"
import { RunError } from "../Run.js"

/** A failure as stored: the error's tag and message (a typed error, a defect or an interruption), and the pretty cause. */
export const toRunError = (cause: Cause.Cause<unknown>): RunError => {
  const failure = Cause.failureOption(cause)
  const error: unknown = Option.isSome(failure)
    ? failure.value
    : Option.getOrUndefined(Cause.dieOption(cause))
  const tag = Option.isSome(failure)
    ? typeof error === "object" && error !== null && "_tag" in error
      ? String((error as { _tag: unknown })._tag)
      : error instanceof Error
      ? error.name
      : "Error"
    : Cause.isDie(cause)
    ? "Defect"
    : "Interrupted"
  const message = error instanceof Error
    ? error.message
    : typeof error === "object" && error !== null && "message" in error
    ? String((error as { message: unknown }).message)
    : error === undefined
    ? tag
    : String(error)
  return new RunError({ tag, message, cause: Cause.pretty(cause) }, true)
}

/**
 * Error tags no retry can help: a payload that does not decode, a job this
 * runner does not have, a workflow whose code no longer matches its journal.
 */
export const notRetried: ReadonlySet<string> = new Set(["ParseError", "UnknownJob", "WorkflowChanged", "DuplicateStep"])
