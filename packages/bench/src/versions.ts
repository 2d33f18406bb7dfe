/**
 * Installed versions of the packages under test, read from their package.json
 * (found by walking up node_modules folders, as Node resolves packages).
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const versionOf = (name: string): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "node_modules", name, "package.json")
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version
    if (dirname(dir) === dir) return "unknown"
  }
}
