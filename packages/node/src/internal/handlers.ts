import { type Served, servedKey } from "./protocol.js"

/** The jobs served in this thread, by name (see `servedKey`). */
export const served = (): Map<string, Served> => {
  const global = globalThis as { [key: symbol]: Map<string, Served> | undefined }
  const key = Symbol.for(servedKey)
  return global[key] ??= new Map()
}
