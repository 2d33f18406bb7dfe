/**
 * Runs another workspace's own benchmark script (`npm run bench -w ...`) as a
 * child process, echoes its lines as progress, and returns the JSON summary
 * it prints last.
 */
import { spawn } from "node:child_process"
import { repoRoot } from "./paths.js"
import * as Progress from "./progress.js"

export interface Output<A> {
  readonly summary: A
  /** every line it printed before the summary */
  readonly lines: ReadonlyArray<string>
  readonly command: string
}

export const run = <A>(scenario: string, workspace: string, args: ReadonlyArray<string>): Promise<Output<A>> =>
  new Promise((resolve, reject) => {
    const npmArgs = ["run", "--silent", "bench", "--workspace", workspace, "--", ...args]
    const command = `npm ${npmArgs.join(" ")}`
    const child = spawn("npm", npmArgs, { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    let partial = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk
      const lines = (partial + chunk).split("\n")
      partial = lines.pop() ?? ""
      // the summary is indented JSON; echo only the benchmark's own lines
      for (const line of lines) if (!/^\s*[{}"\]]/.test(line) && line.trim() !== "") Progress.line(scenario, line)
    })
    child.on("error", reject)
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${command} exited with ${code}`))
      const at = out.lastIndexOf("\n{")
      const json = at >= 0 ? out.slice(at + 1) : out.trimStart().startsWith("{") ? out : ""
      try {
        const lines = out.slice(0, Math.max(0, at)).split("\n").filter((l) => l.trim() !== "")
        resolve({ summary: JSON.parse(json) as A, lines, command })
      } catch {
        reject(new Error(`${command} printed no JSON summary`))
      }
    })
  })
