/**
 * The email channel against a real SMTP server on 127.0.0.1: recipients,
 * subject, text and HTML bodies, escaping, authentication, configuration,
 * and a refusal surfacing as a ChannelError.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Redacted } from "effect"
import { Alert, Email } from "../src/index.js"
import { attempt } from "./records.js"
import { smtpServer } from "./servers.js"

const alertWithError = (message: string) => {
  const entry = attempt("scrape-meetings", "failed", { runId: "run-42", attempt: 3, error: message })
  assert(entry._tag === "Attempt")
  const r = entry.record
  return new Alert.Alert({
    id: "run-42:3:final_failure",
    kind: "run",
    suppressed: 0,
    occurrences: [
      new Alert.Occurrence({
        reason: "final_failure",
        jobName: r.jobName,
        runId: r.runId,
        attempt: r.attempt,
        status: r.status,
        scheduleId: "nightly",
        scheduledFor: r.scheduledFor,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        durationMs: r.durationMs,
        error: { tag: r.error!.tag, message: r.error!.message, cause: r.error!.cause },
        workerId: "worker-7",
        link: "https://dash.example.com/runs/run-42"
      })
    ]
  })
}

describe("Email", () => {
  it.scoped("mails the alert as text and HTML to every recipient, logged in, the error escaped", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer({ user: "alerts", password: "s3cret-pw" })
      const channel = yield* Email.make({
        host: "127.0.0.1",
        port: smtp.port,
        auth: { user: "alerts", password: Redacted.make("s3cret-pw") },
        from: "clockwork@example.com",
        to: ["ops@example.com", "oncall@example.com"]
      })
      expect(channel.name).toBe("email")
      yield* channel.send(alertWithError(`<script>alert("x")</script> & <b>bold</b>`))
      expect(smtp.received).toHaveLength(1)
      const [{ from, mail, to, user }] = smtp.received as [typeof smtp.received[0]]
      expect(from).toBe("clockwork@example.com")
      expect(to).toEqual(["ops@example.com", "oncall@example.com"])
      expect(user).toBe("alerts")
      expect(mail.subject).toBe("[clockwork] scrape-meetings failed for good")
      expect(mail.headers.get("x-clockwork-alert-id")).toBe("run-42:3:final_failure")
      for (const value of ["run-42", "worker-7", "nightly", "ScrapeFailed", "2026-11-29T12:00:00.050Z", "1s 200ms", "at scrape"]) {
        expect(mail.text).toContain(value)
        expect(mail.html).toContain(value)
      }
      expect(mail.text).toContain(`ScrapeFailed: <script>alert("x")</script> & <b>bold</b>`)
      const html = String(mail.html)
      expect(html).not.toContain("<script>")
      expect(html).not.toContain("<b>bold")
      expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;")
      expect(html).toContain(`<a href="https://dash.example.com/runs/run-42">`)
      expect(html + mail.text).not.toContain("s3cret-pw")
    }))

  it.scoped("reads its settings from configuration (NOTIFY_SMTP_*), the password redacted", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer({ user: "u", password: "pw" })
      const provider = ConfigProvider.fromMap(
        new Map([
          ["NOTIFY_SMTP_HOST", "127.0.0.1"],
          ["NOTIFY_SMTP_PORT", String(smtp.port)],
          ["NOTIFY_SMTP_USER", "u"],
          ["NOTIFY_SMTP_PASSWORD", "pw"],
          ["NOTIFY_SMTP_FROM", "cw@example.com"],
          ["NOTIFY_SMTP_TO", "a@example.com,b@example.com"]
        ]),
        { pathDelim: "_" } // as the environment's provider reads NOTIFY_SMTP_HOST
      )
      const options = yield* Effect.withConfigProvider(Email.config(), provider)
      expect(String(options.auth?.password)).not.toContain("pw")
      const channel = yield* Effect.provide(Email.Email, Email.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(provider))))
      yield* channel.send(alertWithError("boom"))
      expect(smtp.received.map((r) => r.to)).toEqual([["a@example.com", "b@example.com"]])
    }))

  it.scoped("a refusing or absent server is a ChannelError naming the channel", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      smtp.refuse = true
      const channel = yield* Email.make({ host: "127.0.0.1", port: smtp.port, from: "a@example.com", to: "b@example.com", name: "mail" })
      const refused = yield* Effect.either(channel.send(alertWithError("boom")))
      assert(Either.isLeft(refused))
      expect(refused.left.channel).toBe("mail")
      expect(refused.left.reason).toContain("451")
      const closed = yield* Email.make({ host: "127.0.0.1", port: 1, from: "a@example.com", to: "b@example.com" })
      expect(Either.isLeft(yield* Effect.either(closed.send(alertWithError("boom"))))).toBe(true)
    }))
})
