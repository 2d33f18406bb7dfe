/**
 * Failure alerts by email: a notifier on the run feed (`@clockwork/notify`),
 * the seed's `notify_job_failure`. It mails the SMTP server in NOTIFY_SMTP_HOST
 * (and NOTIFY_SMTP_PORT, _USER, _PASSWORD, _FROM, _TO, see `Email.config`)
 * when set, else a catcher the demo starts on 127.0.0.1, which prints each mail
 * it receives instead of delivering it.
 */
import { DeliveryStore, Email, Notify } from "@clockwork/notify"
import { Config, Effect, Layer, Option, Runtime } from "effect"
import type { AddressInfo } from "node:net"
import { SMTPServer } from "smtp-server"

/** An SMTP server on 127.0.0.1 that logs what it receives, for as long as its scope lives. */
const catcher = Effect.acquireRelease(
  Effect.flatMap(Effect.runtime<never>(), (runtime) => Effect.async<SMTPServer>((resume) => {
    const server = new SMTPServer({
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onData: (stream, session, callback) => {
        let raw = ""
        stream.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")))
        stream.on("end", () => {
          const subject = /^Subject: (.*)$/m.exec(raw)?.[1] ?? "(no subject)"
          const to = session.envelope.rcptTo.map((r) => r.address).join(", ")
          // logged with the app's logger
          Runtime.runSync(runtime)(Effect.log(`mail to ${to}: ${subject}`).pipe(Effect.annotateLogs("job", "smtp catcher")))
          callback()
        })
      }
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  })),
  (server) => Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
  })
)

const mail = Layer.unwrapScoped(Effect.gen(function*() {
  if (Option.isSome(yield* Config.option(Config.string("NOTIFY_SMTP_HOST")))) return Email.layerConfig()
  const server = yield* catcher
  const port = (server.server.address() as AddressInfo).port
  yield* Effect.log(`alerts are mailed to an SMTP catcher on 127.0.0.1:${port} (NOTIFY_SMTP_HOST sends them for real)`)
  return Email.layer({ host: "127.0.0.1", port, from: "clockwork@localhost", to: "on-call@localhost" })
}))

/**
 * The notifier: one mail per run that fails for good (failed, timed out or
 * dead, no retry to come), linking to the run in the demo's dashboard.
 */
export const layer = Layer.unwrapEffect(
  Effect.map(Config.integer("CLOCKWORK_DASHBOARD_PORT").pipe(Config.withDefault(8080)), (port) =>
    Notify.layer({ name: "demo", channels: [Email.Email], dashboardUrl: `http://127.0.0.1:${port}/#` }))
).pipe(
  Layer.provide(mail),
  Layer.provide(DeliveryStore.layerSql())
)
