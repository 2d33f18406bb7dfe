import { Feed, Run } from "@clockwork/core"
import { DateTime } from "effect"

let cursor = 0

/** A feed entry for one attempt, built by hand (the rules engine needs no store). */
export const attempt = (
  jobName: string,
  status: Run.RunStatus,
  options?: { readonly runId?: string; readonly attempt?: number; readonly retry?: boolean; readonly error?: string }
): Feed.FeedEntry => {
  const at = DateTime.unsafeMake(Date.UTC(2026, 10, 29, 12))
  const failed = status !== "succeeded"
  return {
    _tag: "Attempt",
    cursor: Feed.FeedCursor.make(`1.${++cursor}`),
    record: new Run.RunRecord({
      runId: Run.RunId.make(options?.runId ?? `run-${cursor}`),
      jobName,
      scheduleId: `${jobName}-schedule`,
      attempt: options?.attempt ?? 1,
      status,
      scheduledFor: at,
      startedAt: DateTime.add(at, { millis: 50 }),
      finishedAt: DateTime.add(at, { millis: 1250 }),
      durationMs: 1200,
      workerId: "worker-1",
      final: status !== "interrupted" && options?.retry !== true,
      ...(failed
        ? { error: new Run.RunError({ tag: "ScrapeFailed", message: options?.error ?? "boom", cause: "Error: boom\n    at scrape" }) }
        : {}),
      ...(options?.retry === true ? { retryAt: DateTime.add(at, { seconds: 10 }) } : {})
    })
  }
}
