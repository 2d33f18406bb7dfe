// @ts-check
/**
 * The packaging check: this repository's packages pass it, and a package that
 * breaks each convention is reported for each, and mended by --fix where the
 * fix can be derived.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { check, fix } from "../packaging.mjs"

const roots = /** @type {string[]} */ ([])
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

/** A repository with one package, as a later package would first be written. */
const repository = (/** @type {Record<string, unknown>} */ manifest, withReadme = true) => {
  const root = mkdtempSync(join(tmpdir(), "clockwork-packaging-"))
  roots.push(root)
  const dir = join(root, "packages", "listener")
  mkdirSync(join(dir, "src", "internal"), { recursive: true })
  writeFileSync(join(dir, "package.json"), JSON.stringify(manifest))
  if (withReadme) writeFileSync(join(dir, "README.md"), "# @clockwork/listener\n")
  writeFileSync(join(dir, "src", "index.ts"), `export * as Listener from "./Listener.js"\n`)
  writeFileSync(
    join(dir, "src", "Listener.ts"),
    `import { Effect } from "effect"\nimport { SqlClient } from "@effect/sql"\nimport * as internal from "./internal/poll.js"\n`
  )
  writeFileSync(join(dir, "src", "Query.ts"), `import { JobStore } from "@clockwork/core"\nimport pg from "pg"\n`)
  writeFileSync(join(dir, "src", "internal", "poll.ts"), `export const poll = 1\n`)
  return root
}

describe("packaging", () => {
  it("holds for every package of this repository", () => {
    expect(check()).toEqual([])
  })

  it("reports each convention a package breaks, and --fix mends what it can derive", () => {
    const root = repository({
      name: "@clockwork/listener",
      version: "0.1.0",
      type: "module",
      exports: {
        ".": { source: "./src/index.ts", types: "./dist/src/index.d.ts", default: "./dist/src/index.js" },
        "./*": { types: "./dist/src/*.d.ts", default: "./dist/src/*.js" },
        "./internal/poll": { types: "./dist/src/internal/poll.d.ts", default: "./dist/src/internal/poll.js" }
      },
      files: ["dist/src"],
      dependencies: { "@clockwork/core": "*", effect: "^3.22.4", "@effect/sql": "^0.52.1" }
    }, false)
    expect(check(root)).toEqual([
      `@clockwork/listener: "description" is missing`,
      `@clockwork/listener: "license" is missing`,
      "@clockwork/listener: has no README.md",
      `@clockwork/listener: "sideEffects" is not declared (false, or the files that have some)`,
      `@clockwork/listener: "scripts.prepack" must build ("tsc -b"), or npm pack ships no compiled code`,
      `@clockwork/listener: "engines.node" is missing`,
      "@clockwork/listener: @clockwork/core must be a peer dependency, not a dependency (one copy per app)",
      "@clockwork/listener: effect must be a peer dependency, not a dependency (one copy per app)",
      "@clockwork/listener: @effect/sql must be a peer dependency, not a dependency (one copy per app)",
      "@clockwork/listener: effect is not a peer dependency",
      "@clockwork/listener: src/Query.ts imports pg, which is neither a dependency nor a peer dependency",
      `@clockwork/listener: export "./*" is a wildcard`,
      `@clockwork/listener: export "./internal/poll" exposes internal modules`,
      `@clockwork/listener: "exports" has no "./package.json"`,
      `@clockwork/listener: src/Listener.ts is not exported as "./Listener"`,
      `@clockwork/listener: src/Query.ts is not exported as "./Query"`,
      `@clockwork/listener: "files" does not ship ./src/index.ts, which "exports" names`,
      `@clockwork/listener: "files" must ship src/, where dist's maps point`
    ])

    fix(root)
    expect(check(root)).toEqual([
      `@clockwork/listener: "description" is missing`,
      `@clockwork/listener: "license" is missing`,
      "@clockwork/listener: has no README.md",
      `@clockwork/listener: "engines.node" is missing`,
      "@clockwork/listener: src/Query.ts imports pg, which is neither a dependency nor a peer dependency"
    ])
  })
})
