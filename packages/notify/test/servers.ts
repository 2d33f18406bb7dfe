import { Effect } from "effect"
import { createHmac } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { type ParsedMail, simpleParser } from "mailparser"
import { SMTPServer } from "smtp-server"

/** A mail as the SMTP server received it. */
export interface Received {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly user: string | undefined
  readonly mail: ParsedMail
}

/**
 * An SMTP server on 127.0.0.1 (no STARTTLS, plain login allowed) that keeps
 * what it receives. `refuse` makes it answer every message with a 451.
 */
export const smtpServer = (options?: { readonly user?: string; readonly password?: string; readonly port?: number }) =>
  Effect.acquireRelease(
    Effect.async<{ readonly port: number; readonly received: Array<Received>; refuse: boolean; readonly server: SMTPServer }>((resume) => {
      const received: Array<Received> = []
      const state = { port: 0, received, refuse: false, server: undefined as unknown as SMTPServer }
      const server = new SMTPServer({
        disabledCommands: ["STARTTLS"],
        allowInsecureAuth: true,
        authOptional: options?.user === undefined,
        logger: false,
        onAuth: (auth, _session, callback) =>
          auth.username === options?.user && auth.password === options?.password
            ? callback(null, { user: auth.username })
            : callback(new Error("invalid login")),
        onData: (stream, session, callback) => {
          simpleParser(stream).then((mail) => {
            if (state.refuse) return callback(Object.assign(new Error("try later"), { responseCode: 451 }))
            received.push({
              from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
              user: session.user,
              mail
            })
            callback()
          }, callback)
        }
      })
      state.server = server
      server.listen(options?.port ?? 0, "127.0.0.1", () => {
        state.port = (server.server.address() as AddressInfo).port
        resume(Effect.succeed(state))
      })
    }),
    ({ server }) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
    })
  )

/** A request as the HTTP server received it. */
export interface Request {
  readonly path: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  /** the status it was answered */
  readonly status: number
}

/** An HTTP server on 127.0.0.1 that keeps each request and answers `status` (200 by default). */
export const httpServer = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly requests: Array<Request>; status: number; readonly server: Http.Server }>((resume) => {
    const requests: Array<Request> = []
    const state = { url: "", requests, status: 200, server: undefined as unknown as Http.Server }
    const server = Http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        requests.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status: state.status })
        res.writeHead(state.status).end()
      })
    })
    state.server = server
    server.listen(0, "127.0.0.1", () => {
      state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      resume(Effect.succeed(state))
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
    })
)

/** The receiver's side of the signature, written from the documented scheme (not with the package's code). */
export const expectedSignature = (secret: string, header: string, body: string) => {
  const t = /t=(\d+)/.exec(header)?.[1]
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`
}
