// @ts-check
/**
 * Installs the systems the bench compares clockwork with (graphile-worker,
 * pg-boss) in competitors/, apart from the workspace, and links them into the
 * bench's node_modules so that `import "graphile-worker"` resolves from src/.
 *
 * They declare Node >= 22 and run on Node 20 for the bench; in the workspace's
 * own install they made `npm install` warn about it for everyone, including
 * users who only want clockwork. Installs again when competitors/package-lock.json
 * is newer than what is installed; a root `npm install` may remove the links,
 * so they are made on every run.
 */
import { spawnSync } from "node:child_process"
import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, statSync, symlinkSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const bench = join(dirname(fileURLToPath(import.meta.url)), "..")
const competitors = join(bench, "competitors")
const names = ["graphile-worker", "pg-boss"]

const installed = join(competitors, "node_modules", ".package-lock.json")
const lock = join(competitors, "package-lock.json")
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.error("bench: installing graphile-worker and pg-boss in packages/bench/competitors (they declare Node >= 22)")
  const npm = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--prefix", competitors], {
    stdio: "inherit",
    shell: process.platform === "win32"
  })
  if (npm.status !== 0) {
    console.error(`bench: npm ci in ${competitors} failed (exit ${npm.status ?? npm.signal})`)
    process.exit(1)
  }
}

const modules = join(bench, "node_modules")
mkdirSync(modules, { recursive: true })
for (const name of names) {
  const link = join(modules, name)
  const target = relative(modules, join(competitors, "node_modules", name))
  const present = (() => {
    try {
      return lstatSync(link)
    } catch {
      return undefined
    }
  })()
  if (present?.isSymbolicLink() && readlinkSync(link) === target) continue
  if (present !== undefined) rmSync(link, { recursive: true, force: true })
  symlinkSync(target, link, "junction")
}
