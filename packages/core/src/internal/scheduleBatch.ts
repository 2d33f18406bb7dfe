import type { ScheduleInput } from "../JobStore.js"
import { StoreError } from "../StoreError.js"

/** The refusal of a batch naming one schedule id twice (documented on `JobStore.duplicateScheduleId`). */
export const duplicateScheduleId = (
  operation: string,
  inputs: ReadonlyArray<ScheduleInput>
): StoreError | undefined => {
  const seen = new Set<string>()
  for (const { id } of inputs) {
    if (seen.has(id)) {
      return new StoreError({
        operation,
        // escaped: the id may hold what a terminal shows badly
        message: `schedule id ${JSON.stringify(id)} is given more than once; nothing was written`,
        kind: "permanent"
      })
    }
    seen.add(id)
  }
  return undefined
}
