// @ts-check
/**
 * The consumer test: clockwork as a user outside this repository gets it.
 * Packs every published package (prepack builds it), checks each tarball
 * (every export target and map source inside), installs the tarballs with
 * effect@^3 in a fresh directory under the system's temp directory, then:
 *
 * - runs the README's snippets marked `<!-- consumer: FILE -->` there: the
 *   "Install in your app" script (plain Node ESM, memory store and PGlite),
 *   Testing.layer outside @effect/vitest, the command-line section (the
 *   installed `clockwork` binary);
 * - imports every entry point of every package in Node, and typechecks a
 *   TypeScript file importing them under `NodeNext` and under `Bundler`
 *   resolution, with `skipLibCheck: false`;
 * - runs the exported conformance suite against the memory store with vitest,
 *   as the author of another store would;
 * - checks that npm refuses Effect 4 (a peer conflict) rather than installing
 *   two copies of effect.
 *
 * Needs the npm registry. `node scripts/consumer.mjs [--keep]` (--keep leaves
 * the directory for a look). Exits 1 when a check fails.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { checkTarball, publishedPackages } from "./packaging.mjs"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..")
const keep = process.argv.includes("--keep")
const work = mkdtempSync(join(tmpdir(), "clockwork-consumer-"))
const app = join(work, "app")
const tarballs = join(work, "tarballs")
mkdirSync(app)
mkdirSync(tarballs)

let passed = 0
let failed = 0
const started = performance.now()
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`

/**
 * Runs a command; returns its output, or records a failure with its output.
 * @param {string} label
 * @param {string} command
 * @param {ReadonlyArray<string>} args
 * @param {{ cwd?: string, expectFailure?: boolean, env?: Record<string, string | undefined> }} [options]
 */
const step = (label, command, args, options = {}) => {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? app,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    maxBuffer: 64 * 1024 * 1024
  })
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`
  const ok = options.expectFailure === true ? result.status !== 0 : result.status === 0
  console.log(`${ok ? "ok  " : "FAIL"} ${label} (${elapsed()})`)
  if (!ok) {
    failed++
    console.log(output.split("\n").map((line) => `     ${line}`).join("\n"))
  } else passed++
  return { ok, output, stdout: result.stdout ?? "" }
}

/** @param {string} label @param {boolean} ok @param {string} [detail] */
const expectThat = (label, ok, detail = "") => {
  console.log(`${ok ? "ok  " : "FAIL"} ${label}`)
  if (ok) passed++
  else {
    failed++
    if (detail !== "") console.log(detail.split("\n").map((line) => `     ${line}`).join("\n"))
  }
}

/** Imports every package and module a user may import; the types must be real (not any). */
const typescriptFile = `import { Clockwork, Job, JobStore, Scheduler, Testing, Trigger } from "@clockwork/core"
import * as Run from "@clockwork/core/Run"
import { run as conformance } from "@clockwork/core/conformance"
import { PgliteStore, PgStore } from "@clockwork/pg"
import { AsyncJob, HttpJob } from "@clockwork/http"
import { WorkerJob, WorkerPool } from "@clockwork/node"
import { Cli } from "@clockwork/cli"
import { Effect, Layer, Schema } from "effect"

const greet = Job.make({
  name: "greet",
  payload: Schema.Struct({ name: Schema.String }),
  success: Schema.String,
  run: ({ name }) => Effect.succeed(\`hello, \${name}\`)
})
const app = Clockwork.layer([greet]).pipe(Layer.provide(PgliteStore.layer({ dataDir: "data" })))
const greeting: Effect.Effect<string, unknown> = Scheduler.run(greet, { name: "Ada" }).pipe(Effect.provide(app))
// @ts-expect-error the payload's Schema types the payload
const wrong = Scheduler.enqueue(greet, { name: 1 })
const status: Run.RunStatus = "dead"
const code: Cli.ExitCode = Cli.ExitCode.notFound
export const all = [greeting, wrong, status, code, conformance, PgStore.layer, Testing.layer, Trigger.every,
  JobStore.layerMemory, AsyncJob.make, HttpJob.make, WorkerJob.make, WorkerPool.layer]
`

/** Every entry point of every published package ("." and each explicit export), as an import specifier. */
const entryPoints = publishedPackages(repo).flatMap(([, manifest]) =>
  Object.keys(manifest.exports ?? {})
    .filter((key) => key !== "./package.json")
    .map((key) => `${manifest.name}${key.slice(1)}`)
)

try {
  // 1. pack (prepack builds) and check every tarball
  const packed = []
  for (const [dir, manifest] of publishedPackages(repo)) {
    const result = step(`npm pack ${manifest.name}`, "npm", ["pack", "--json", "--pack-destination", tarballs], { cwd: dir })
    if (!result.ok) continue
    const [info] = JSON.parse(result.stdout.slice(result.stdout.indexOf("[")))
    const tarball = join(tarballs, info.filename)
    const problems = checkTarball(dir, tarball)
    expectThat(`${manifest.name}: exports, binaries and map sources are in the tarball`, problems.length === 0, problems.join("\n"))
    packed.push(tarball)
  }

  // 2. the README's snippets, as a user copies them
  const snippets = new Map()
  for (const readme of [join(repo, "README.md"), join(repo, "packages", "cli", "README.md")]) {
    const text = readFileSync(readme, "utf8")
    for (const match of text.matchAll(/<!-- consumer: ([\w.-]+) -->\n```\w*\n([\s\S]*?)\n```/g)) {
      snippets.set(match[1], match[2])
    }
  }
  for (const file of ["app.mjs", "testing.mjs", "cli.sh"]) {
    expectThat(`the README has the snippet ${file}`, snippets.has(file))
  }
  for (const [file, text] of snippets) writeFileSync(join(app, file), `${text}\n`)

  // 3. install as the README says, from the tarballs, with the tools a TypeScript user and a store author add
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2))
  step("npm install the tarballs with effect@^3", "npm", [
    "install",
    "--no-audit",
    "--no-fund",
    ...packed,
    "effect@^3",
    "typescript@~5.9.3",
    "@types/node@^20.19.0",
    "@types/pg@^8",
    "@effect/vitest@^0.30.0",
    "vitest@^3.2.4"
  ])
  const tree = step("npm ls: one copy of effect, every peer met", "npm", ["ls", "--all", "effect"])
  const versions = new Set([...tree.output.matchAll(/effect@(3\.\d+\.\d+)/g)].map((m) => m[1]))
  expectThat("npm ls: one version of effect 3", versions.size === 1, tree.output)

  // 4. plain Node ESM: the install section's script on the memory store and PGlite, Testing outside vitest
  const ran = step("node app.mjs (README: Install in your app)", "node", ["app.mjs"])
  expectThat(
    "app.mjs ran the job on the memory store and on PGlite",
    ran.stdout.includes("memory: hello, Ada") && ran.stdout.includes("pglite: hello, Ada"),
    ran.output
  )
  const tested = step("node testing.mjs (README: Testing.layer outside @effect/vitest)", "node", ["testing.mjs"])
  expectThat("testing.mjs moved the TestClock a day: 24 hourly runs", tested.stdout.includes("24 runs"), tested.output)

  // the conformance suites need vitest's runner: they run under vitest below
  const imports = entryPoints.filter((specifier) => !/\/conformance(\/|$)/.test(specifier)).map((specifier) => `await import(${JSON.stringify(specifier)})`).join("\n")
  writeFileSync(join(app, "imports.mjs"), `${imports}\n`)
  step(`node: import each entry point of each package`, "node", ["imports.mjs"])

  // 5. the command line section, on the data directory app.mjs left
  const cli = step("bash cli.sh (README: the command line)", "bash", ["-e", "cli.sh"])
  expectThat("the CLI shows the run app.mjs made", /greet\s+succeeded/.test(cli.stdout), cli.output)
  const json = step("clockwork runs --json", "npx", ["clockwork", "runs", "--data-dir", "clockwork-data", "--json"])
  expectThat(
    "clockwork runs --json parses, one succeeded greet",
    json.ok && JSON.parse(json.stdout).runs.some((/** @type {any} */ r) => r.job === "greet" && r.state === "succeeded"),
    json.output
  )
  const usage = step("clockwork with a bad option exits 2", "npx", ["clockwork", "runs", "--limit", "many"], {
    expectFailure: true
  })
  expectThat("... and says why", /'many' is not a integer/.test(usage.output), usage.output)

  // 6. TypeScript, under both resolutions, checking the libraries' declarations too
  writeFileSync(
    join(app, "check.ts"),
    `${typescriptFile}\n${entryPoints.map((specifier, i) => `export * as entry${i} from ${JSON.stringify(specifier)}`).join("\n")}\n`
  )
  for (const [label, options] of [
    ["NodeNext", { module: "NodeNext", moduleResolution: "NodeNext" }],
    ["Bundler", { module: "ESNext", moduleResolution: "Bundler" }]
  ]) {
    const config = `tsconfig.${label}.json`
    writeFileSync(join(app, config), JSON.stringify({
      compilerOptions: {
        ...options,
        target: "ES2022",
        // @effect/platform's declarations name DOM types (Storage, Transferable)
        lib: ["ES2022", "DOM"],
        types: ["node"],
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        noEmit: true
      },
      files: ["check.ts"]
    }, null, 2))
    step(`tsc (${label}, skipLibCheck false)`, "npx", ["tsc", "-p", config])
  }

  // 7. the conformance suite, compiled and exported, run by a store author's vitest
  writeFileSync(join(app, "store.test.mjs"), [
    `import { JobStore } from "@clockwork/core"`,
    `import { run } from "@clockwork/core/conformance"`,
    ``,
    `run("my store", JobStore.layerMemory)`,
    ``
  ].join("\n"))
  const conformance = step("vitest: @clockwork/core/conformance on the memory store", "npx", [
    "vitest",
    "run",
    "--root",
    app,
    "store.test.mjs"
  ])
  expectThat("the conformance suite ran its tests", /Tests\s+\d+ passed/.test(conformance.output), conformance.output)

  // 8. Effect 4 next to clockwork: npm refuses (a peer conflict) instead of installing two copies
  const four = join(work, "effect4")
  mkdirSync(four)
  writeFileSync(join(four, "package.json"), JSON.stringify({ name: "effect4", private: true, type: "module" }))
  const refused = step("npm install @clockwork/core effect@4 is refused", "npm", [
    "install",
    "--dry-run",
    "--no-audit",
    "--no-fund",
    packed.find((t) => t.includes("clockwork-core")) ?? "",
    "effect@4"
  ], { cwd: four, expectFailure: true })
  expectThat("... with ERESOLVE naming the effect peer", /ERESOLVE/.test(refused.output) && /peer effect@"\^3/.test(refused.output), refused.output)
} finally {
  if (keep) console.log(`kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
}

console.log(`consumer: ${passed} passed, ${failed} failed (${elapsed()})`)
process.exit(failed === 0 ? 0 : 1)
