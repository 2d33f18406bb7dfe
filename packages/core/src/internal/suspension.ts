import { Cause, Chunk } from "effect"

/**
 * How a workflow's attempt ends waiting: a defect carrying this marker goes up
 * through the workflow's code (typed error handlers and retries leave
 * defects alone) to the runner, which queues the run again for `wakeAt`
 * (undefined: until something wakes it) instead of recording an attempt.
 */
export class Suspended {
  readonly _tag = "WorkflowSuspended"
  constructor(readonly wakeAt: number | undefined, readonly wakes: number) {}
}

/** The suspension a cause ends with: only when it holds no failure and no defect other than suspensions. */
export const suspensionOf = (cause: Cause.Cause<unknown>): Suspended | undefined => {
  if (!Chunk.isEmpty(Cause.failures(cause))) return undefined
  let found: Suspended | undefined
  for (const defect of Cause.defects(cause)) {
    if (!(defect instanceof Suspended)) return undefined
    found ??= defect
  }
  return found
}
