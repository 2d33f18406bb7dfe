/**
 * A stand-in for the app's backend, whose `/v1/jobs/...` endpoints the rq
 * scheduler triggered with `job_request`: `POST /v1/jobs/breaking-news`
 * answers `{ alerts }`. It listens on 127.0.0.1 on a free port for as long as
 * its scope lives.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, type Scope } from "effect"

export interface Backend {
  /** the base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string
  /** how many breaking-news checks it has answered */
  readonly checks: () => number
}

export const start: Effect.Effect<Backend, never, Scope.Scope> = Effect.acquireRelease(
  Effect.async<{ readonly backend: Backend; readonly close: () => void }>((resume) => {
    let checks = 0
    const server = createServer((request, response) => {
      if (request.method === "POST" && request.url === "/v1/jobs/breaking-news") {
        checks++
        response.writeHead(200, { "content-type": "application/json" })
        response.end(JSON.stringify({ alerts: checks % 3 === 0 ? 1 : 0 }))
        return
      }
      response.writeHead(404).end("not found")
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({
        backend: { url: `http://127.0.0.1:${port}`, checks: () => checks },
        close: () => server.close()
      }))
    })
  }),
  ({ close }) =>
    Effect.sync(() => {
      close()
    })
).pipe(Effect.map(({ backend }) => backend))
