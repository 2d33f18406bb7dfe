// @ts-check
/**
 * The packaging conventions of every published package (packages/* without
 * "private": true), checked mechanically so that a package added later is held
 * to them too:
 *
 * - `effect`, `@effect/*` and `@clockwork/*` are peer dependencies (one copy of
 *   each in an app: two copies of effect crash at run time), effect on the 3.x
 *   line, `@clockwork/*` at their current version; every package that `src`
 *   imports is declared.
 * - `exports` names each public module (every `src/*.ts` but `index.ts` and the
 *   binaries) with `types`, `default` (built, in `dist`) and `source`
 *   conditions; no wildcard, nothing under `internal`.
 * - `files` ships `dist/src` and the sources its maps point at; `prepack`
 *   builds (`tsc -b`), so a tarball never lacks its compiled code;
 *   `sideEffects` is declared; a binary starts with a shebang.
 *
 * `node scripts/packaging.mjs` prints what breaks them and exits 1;
 * `--fix` rewrites what can be derived (exports, files, sideEffects, prepack,
 * dependencies that must be peers) and checks again. `checkTarball` checks a
 * packed tarball: every export target and every map's source is in it.
 */
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { dirname, join, posix, relative } from "node:path"
import { fileURLToPath } from "node:url"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..")

/** @param {string} file */
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"))

/** The published packages under `root`/packages: [directory, manifest]. */
export const publishedPackages = (root = repo) =>
  readdirSync(join(root, "packages"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, "packages", entry.name, "package.json")))
    .map((entry) => {
      const dir = join(root, "packages", entry.name)
      return /** @type {const} */ ([dir, readJson(join(dir, "package.json"))])
    })
    .filter(([, manifest]) => manifest.private !== true)

/** @param {string} name */
const mustBePeer = (name) => name === "effect" || name.startsWith("@effect/") || name.startsWith("@clockwork/")

/** @param {string} specifier */
const packageOf = (specifier) => {
  const parts = specifier.split("/")
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]
}

const builtins = new Set(builtinModules)

/** @param {string} dir */
const sourceFiles = (dir) => {
  /** @type {string[]} */
  const out = []
  if (!existsSync(dir)) return out
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sourceFiles(path))
    else if (/\.(?:[cm]?ts|[cm]?js)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path)
  }
  return out
}

/** The packages a file imports (static, dynamic with a literal, side-effect imports). */
const importsOf = (/** @type {string} */ file) => {
  const text = readFileSync(file, "utf8")
  const found = new Set()
  for (const match of text.matchAll(/(?:(?<=[\s}])from\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g)) {
    const specifier = match[1]
    if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) continue
    if (builtins.has(specifier)) continue
    found.add(packageOf(specifier))
  }
  return found
}

/** The public modules: src/*.ts but index.ts and the binaries. */
const publicModules = (/** @type {string} */ dir, /** @type {any} */ manifest) => {
  const binaries = new Set(
    Object.values(typeof manifest.bin === "string" ? { bin: manifest.bin } : manifest.bin ?? {}).map((target) =>
      posix.basename(String(target)).replace(/\.js$/, "")
    )
  )
  if (!existsSync(join(dir, "src"))) return []
  return readdirSync(join(dir, "src"))
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
    .map((file) => file.slice(0, -3))
    .filter((name) => name !== "index" && !binaries.has(name))
    .sort()
}

/** @param {string} name */
const entryFor = (name) => ({
  source: `./src/${name}.ts`,
  types: `./dist/src/${name}.d.ts`,
  default: `./dist/src/${name}.js`
})

/** Every string a conditional export points at. @param {unknown} target @returns {string[]} */
const targetsOf = (target) =>
  typeof target === "string"
    ? [target]
    : target !== null && typeof target === "object"
    ? Object.values(target).flatMap(targetsOf)
    : []

/** Whether `files` ships `path` (./dist/src/X.js is shipped by "dist/src" or "dist"). */
const shipped = (/** @type {ReadonlyArray<string>} */ files, /** @type {string} */ path) => {
  const clean = path.replace(/^\.\//, "")
  return clean === "package.json" || files.some((entry) => clean === entry || clean.startsWith(`${entry.replace(/\/$/, "")}/`))
}

/**
 * What breaks the conventions, one sentence each naming the package; empty
 * when none does.
 */
export const check = (root = repo) => {
  /** @type {string[]} */
  const problems = []
  const versions = new Map(publishedPackages(root).map(([, m]) => [m.name, m.version]))
  for (const [dir, manifest] of publishedPackages(root)) {
    const name = manifest.name ?? relative(root, dir)
    const problem = (/** @type {string} */ text) => problems.push(`${name}: ${text}`)

    if (manifest.type !== "module") problem(`"type" must be "module"`)
    for (const field of ["version", "description", "license"]) {
      if (typeof manifest[field] !== "string") problem(`"${field}" is missing`)
    }
    if (!existsSync(join(dir, "README.md"))) problem("has no README.md")
    if (manifest.sideEffects === undefined) problem(`"sideEffects" is not declared (false, or the files that have some)`)
    if (!/\btsc -b\b/.test(manifest.scripts?.prepack ?? "")) {
      problem(`"scripts.prepack" must build ("tsc -b"), or npm pack ships no compiled code`)
    }
    if (manifest.engines?.node === undefined) problem(`"engines.node" is missing`)

    // dependencies
    const deps = manifest.dependencies ?? {}
    const peers = manifest.peerDependencies ?? {}
    for (const dep of Object.keys(deps)) {
      if (mustBePeer(dep)) problem(`${dep} must be a peer dependency, not a dependency (one copy per app)`)
    }
    for (const [peer, range] of Object.entries(peers)) {
      if (peer === "effect" && !/^\^3\.\d+/.test(String(range))) problem(`the effect peer range must be ^3.x (is ${range})`)
      if (peer.startsWith("@clockwork/") && versions.has(peer) && range !== `^${versions.get(peer)}`) {
        problem(`the ${peer} peer range must be ^${versions.get(peer)} (is ${range})`)
      }
    }
    if (peers.effect === undefined) problem("effect is not a peer dependency")
    const exported = targetsOf(manifest.exports)
    const sourceDirs = new Set(["src", ...exported.filter((t) => t.startsWith("./conformance/")).map(() => "conformance")])
    for (const sourceDir of sourceDirs) {
      for (const file of sourceFiles(join(dir, sourceDir))) {
        for (const used of importsOf(file)) {
          if (used === name) continue
          if (deps[used] === undefined && peers[used] === undefined) {
            problem(`${relative(dir, file)} imports ${used}, which is neither a dependency nor a peer dependency`)
          }
        }
      }
    }

    // exports
    const exportsMap = manifest.exports
    if (exportsMap === null || typeof exportsMap !== "object" || Array.isArray(exportsMap)) {
      problem(`"exports" must map each public module explicitly`)
    } else {
      for (const [key, target] of Object.entries(exportsMap)) {
        if (key.includes("*") || targetsOf(target).some((t) => t.includes("*"))) problem(`export "${key}" is a wildcard`)
        if (/(^|\/)internal(\/|$)/.test(key) || targetsOf(target).some((t) => /\/internal\//.test(t))) {
          problem(`export "${key}" exposes internal modules`)
        }
        if (key === "./package.json") continue
        if (typeof target !== "object" || target === null || !("types" in target) || !("default" in target)) {
          problem(`export "${key}" needs "types" and "default" conditions`)
          continue
        }
        for (const condition of ["types", "default"]) {
          const path = String(/** @type {Record<string, unknown>} */ (target)[condition])
          if (!path.startsWith("./dist/")) problem(`export "${key}" ${condition} must point into ./dist (is ${path})`)
        }
      }
      if (exportsMap["."] === undefined) problem(`"exports" has no "."`)
      if (exportsMap["./package.json"] === undefined) problem(`"exports" has no "./package.json"`)
      for (const module of publicModules(dir, manifest)) {
        if (exportsMap[`./${module}`] === undefined) problem(`src/${module}.ts is not exported as "./${module}"`)
      }
    }

    // files
    const files = manifest.files ?? []
    if (!Array.isArray(files) || files.length === 0) problem(`"files" must list what is shipped`)
    else {
      for (const target of exported) {
        if (!shipped(files, target)) problem(`"files" does not ship ${target}, which "exports" names`)
      }
      // declaration and source maps point at the sources: ship them too
      for (const sourceDir of sourceDirs) {
        if (!files.includes(sourceDir)) problem(`"files" must ship ${sourceDir}/, where dist's maps point`)
      }
      if (files.some((/** @type {string} */ f) => /(^|\/)test(\/|$)/.test(f))) problem(`"files" ships tests`)
    }
    const bins = typeof manifest.bin === "string" ? { [name]: manifest.bin } : manifest.bin ?? {}
    for (const [command, target] of Object.entries(bins)) {
      const source = join(dir, String(target).replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts"))
      if (!String(target).startsWith("./dist/")) problem(`bin ${command} must point into ./dist`)
      else if (!existsSync(source)) problem(`bin ${command}: ${relative(dir, source)} does not exist`)
      else if (!readFileSync(source, "utf8").startsWith("#!/usr/bin/env node")) {
        problem(`bin ${command}: ${relative(dir, source)} must start with #!/usr/bin/env node`)
      }
      if (!shipped(files, String(target))) problem(`"files" does not ship bin ${command}`)
    }
  }
  return problems
}

/**
 * Rewrites what the conventions derive from the sources: exports (each
 * public module; other keys, such as ./conformance, are kept), files,
 * sideEffects (false when undeclared), prepack, and effect/@effect/@clockwork
 * dependencies moved to peer dependencies.
 */
export const fix = (root = repo) => {
  const versions = new Map(publishedPackages(root).map(([, m]) => [m.name, m.version]))
  for (const [dir, manifest] of publishedPackages(root)) {
    /** @type {Record<string, unknown>} */
    const exportsMap = { ".": entryFor("index") }
    for (const module of publicModules(dir, manifest)) exportsMap[`./${module}`] = entryFor(module)
    for (const [key, target] of Object.entries(manifest.exports ?? {})) {
      if (exportsMap[key] === undefined && key !== "./package.json" && !key.includes("*") && !key.includes("internal")) {
        exportsMap[key] = target
      }
    }
    exportsMap["./package.json"] = "./package.json"
    manifest.exports = exportsMap
    const files = new Set(manifest.files ?? [])
    files.add("dist/src")
    files.add("src")
    manifest.files = [...files]
    manifest.sideEffects ??= false
    manifest.scripts = { prepack: "tsc -b", ...manifest.scripts }
    for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
      if (!mustBePeer(dep)) continue
      manifest.peerDependencies = {
        ...manifest.peerDependencies,
        [dep]: dep.startsWith("@clockwork/") && versions.has(dep) ? `^${versions.get(dep)}` : range
      }
      delete manifest.dependencies[dep]
    }
    if (manifest.dependencies !== undefined && Object.keys(manifest.dependencies).length === 0) delete manifest.dependencies
    writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`)
  }
}

/**
 * What is wrong with a packed tarball of the package in `dir`: an export
 * target, a binary or a map's source that it does not contain.
 */
export const checkTarball = (/** @type {string} */ dir, /** @type {string} */ tarball) => {
  const manifest = readJson(join(dir, "package.json"))
  const listed = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.replace(/^package\//, ""))
  const contents = new Set(listed)
  /** @type {string[]} */
  const problems = []
  const problem = (/** @type {string} */ text) => problems.push(`${manifest.name} (${tarball}): ${text}`)
  for (const target of targetsOf(manifest.exports)) {
    const path = target.replace(/^\.\//, "")
    if (!contents.has(path)) problem(`exports name ${target}, which the tarball lacks`)
  }
  const bins = typeof manifest.bin === "string" ? [manifest.bin] : Object.values(manifest.bin ?? {})
  for (const target of bins) {
    if (!contents.has(String(target).replace(/^\.\//, ""))) problem(`bin ${target} is not in the tarball`)
  }
  for (const path of listed.filter((p) => p.endsWith(".map"))) {
    const map = JSON.parse(execFileSync("tar", ["-xzOf", tarball, `package/${path}`], { encoding: "utf8" }))
    for (const source of map.sources ?? []) {
      const resolved = posix.normalize(posix.join(posix.dirname(path), map.sourceRoot ?? "", source))
      if (!contents.has(resolved)) problem(`${path} points at ${resolved}, which the tarball lacks`)
    }
  }
  return problems
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--fix")) fix()
  const problems = check()
  for (const text of problems) console.error(text)
  if (problems.length > 0) {
    console.error(`${problems.length} packaging problem(s); node scripts/packaging.mjs --fix rewrites what it can`)
    process.exit(1)
  }
  console.log(`packaging: ${publishedPackages().length} packages follow the conventions`)
}
