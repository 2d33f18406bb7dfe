/**
 * Builds the CLI and the packages it imports (`tsc -b`, incremental: nothing
 * to do after `npm run build`), so the tests run the binary users run.
 */
import { execFileSync } from "node:child_process"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

export default function setup() {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
  execFileSync(process.execPath, [tsc, "-b", fileURLToPath(new URL("../tsconfig.json", import.meta.url))], {
    stdio: "inherit"
  })
}
