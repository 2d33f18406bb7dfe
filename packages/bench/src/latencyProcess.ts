/**
 * A process of the latency scenario (c), in one of two roles, so that the
 * job crosses processes as it does in a deployment:
 *
 * - `worker`: starts one system's worker and prints `<i> <ms>` when job `i`
 *   starts (wall-clock milliseconds, comparable across processes);
 * - `producer`: for each line `<i>` on its stdin, reads the clock, enqueues
 *   job `i` (single-job API) and prints `<i> <ms>` with the time read before
 *   the enqueue.
 *
 * Each prints `ready` once connected; both stop when their stdin closes.
 */
import { createInterface } from "node:readline"
import { load } from "./load.js"
import { type Connection, nowMs, type SystemName } from "./system.js"

interface Request {
  readonly role: "worker" | "producer"
  readonly system: SystemName
  readonly connection: Connection
}

const print = (line: string) => process.stdout.write(`${line}\n`)

/** The payload of the producer's first job, which only opens its connections (a running app's are open). */
const warmUp = -1

const main = async (request: Request) => {
  const system = await load(request.system, request.connection, false)
  const lines = createInterface({ input: process.stdin })
  const closed = new Promise<void>((resolve) => lines.once("close", () => resolve()))
  if (request.role === "worker") {
    const worker = await system.startWorker((i) => print(`${i} ${nowMs()}`))
    print("ready")
    await closed
    await worker.stop()
  } else {
    await system.enqueue(warmUp)
    let queue = Promise.resolve()
    lines.on("line", (line) => {
      const i = Number(line)
      queue = queue.then(async () => {
        const at = nowMs()
        await system.enqueue(i)
        print(`${i} ${at}`)
      })
    })
    print("ready")
    await closed
    await queue
  }
  await system.close()
}

main(JSON.parse(process.argv[2] ?? "{}") as Request).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
