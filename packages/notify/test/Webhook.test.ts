/**
 * The webhook and Slack channels against a real HTTP server on 127.0.0.1:
 * the receiver verifies the signature (from the documented scheme and with
 * `Webhook.verify`), a tampered body and an old timestamp fail, a non-2xx
 * answer is a ChannelError; the Slack body is `{ text, blocks }`.
 */
import { FetchHttpClient } from "@effect/platform"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted, TestClock } from "effect"
import { Alert, Slack, Webhook } from "../src/index.js"
import { attempt } from "./records.js"
import { expectedSignature, httpServer } from "./servers.js"

const secret = "whsec-test-secret"

const alert = (message = "boom") => {
  const entry = attempt("sync", "dead", { runId: "run-7", attempt: 5, error: message })
  assert(entry._tag === "Attempt")
  const r = entry.record
  return new Alert.Alert({
    id: "run-7:5:final_failure",
    kind: "run",
    suppressed: 0,
    occurrences: [
      new Alert.Occurrence({
        reason: "final_failure",
        jobName: r.jobName,
        runId: r.runId,
        attempt: r.attempt,
        status: r.status,
        scheduledFor: r.scheduledFor,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        durationMs: r.durationMs,
        error: { tag: "SyncFailed", message, cause: "" }
      })
    ]
  })
}

describe("Webhook", () => {
  it.scoped("posts the alert as JSON, signed over the timestamp and the body", () =>
    Effect.gen(function*() {
      const server = yield* httpServer
      yield* TestClock.setTime(Date.UTC(2026, 10, 29, 12))
      const channel = yield* Webhook.make({ url: `${server.url}/hooks/clockwork`, secret: Redacted.make(secret) })
      yield* channel.send(alert())
      const [request] = server.requests
      assert(request !== undefined)
      expect(request.path).toBe("/hooks/clockwork")
      expect(request.headers["content-type"]).toContain("application/json")
      expect(request.headers["clockwork-alert-id"]).toBe("run-7:5:final_failure")
      const header = String(request.headers["clockwork-signature"])
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
      expect(header).toBe(expectedSignature(secret, header, request.body))
      expect(header.startsWith(`t=${Date.UTC(2026, 10, 29, 12) / 1000},`)).toBe(true)
      const body = JSON.parse(request.body)
      expect(body).toMatchObject({ id: "run-7:5:final_failure", kind: "run" })
      expect(body.occurrences[0]).toMatchObject({ jobName: "sync", runId: "run-7", status: "dead", startedAt: "2026-11-29T12:00:00.050Z" })
      expect(Alert.decode(body).id).toBe("run-7:5:final_failure")
      expect(request.body).not.toContain(secret)

      const now = Date.UTC(2026, 10, 29, 12, 1)
      expect(Webhook.verify(secret, header, request.body, now)).toEqual(Either.right(Date.UTC(2026, 10, 29, 12) / 1000))
      const tampered = Webhook.verify(secret, header, request.body.replace("boom", "fine"), now)
      assert(Either.isLeft(tampered))
      expect(tampered.left.reason).toBe("mismatch")
      const wrongSecret = Webhook.verify("another", header, request.body, now)
      expect(Either.isLeft(wrongSecret) && wrongSecret.left.reason).toBe("mismatch")
      const late = Webhook.verify(secret, header, request.body, now + 10 * 60_000)
      expect(Either.isLeft(late) && late.left.reason).toBe("expired")
      expect(Either.isRight(Webhook.verify(secret, header, request.body, now + 10 * 60_000, "1 hour"))).toBe(true)
      const malformed = Webhook.verify(secret, "v1=abc", request.body, now)
      expect(Either.isLeft(malformed) && malformed.left.reason).toBe("malformed")
      expect(Either.isLeft(Webhook.verify(secret, undefined, request.body, now))).toBe(true)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("an answer other than 2xx is a ChannelError naming the status", () =>
    Effect.gen(function*() {
      const server = yield* httpServer
      server.status = 503
      const channel = yield* Webhook.make({ url: server.url, secret: Redacted.make(secret), name: "ops-hook" })
      const result = yield* Effect.either(channel.send(alert()))
      assert(Either.isLeft(result))
      expect(result.left).toMatchObject({ _tag: "ChannelError", channel: "ops-hook" })
      expect(result.left.reason).toContain("503")
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("Slack", () => {
  it.scoped("posts { text, blocks } with the subject and the details, escaped as Slack wants", () =>
    Effect.gen(function*() {
      const server = yield* httpServer
      const channel = yield* Slack.make({ url: Redacted.make(`${server.url}/services/T0/B0/XYZ`) })
      yield* channel.send(alert("<!channel> & friends"))
      const body = JSON.parse(server.requests[0]!.body)
      expect(body.text).toBe("[clockwork] sync failed for good (dead-lettered)")
      expect(body.blocks).toHaveLength(2)
      expect(body.blocks[1].text.text).toContain("SyncFailed: &lt;!channel&gt; &amp; friends")
      expect(JSON.stringify(body)).not.toContain("<!channel>")
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
