import { Effect } from "effect"
import { make } from "../src/internal/memoryStore.js"
Effect.runPromise(Effect.gen(function*() {
  for (const variant of ["parent running", "parent succeeded", "other first"]) {
    const store = yield* make
    const now = 1000
    const [p] = yield* store.enqueue([{ jobName: "a", payload: null, runAt: now, scheduledFor: now }], now)
    if (variant === "other first") yield* store.enqueue([{ jobName: "b", payload: null, runAt: now, scheduledFor: now, priority: 1 }], now)
    const claimed = (yield* store.claim({ now, limit: 1, workerId: "w", leaseMs: 1e9, ...(variant === "other first" ? { jobNames: ["a"] } : {}) })).runs
    const parent = claimed[0]!
    const kids = yield* store.startChildren({ parentRunId: p!, attempt: parent.attempt, now: now + 10, children: [{ step: "child:0", position: "0", run: { jobName: "c", payload: null, runAt: now + 10, scheduledFor: now + 10 } }] })
    if (variant === "parent succeeded") yield* store.complete([{ runId: parent.id, jobName: "a", attempt: parent.attempt, status: "succeeded", scheduledFor: now, scheduleId: undefined, startedAt: now, finishedAt: now + 20, workerId: "w" }])
    const c1 = yield* store.claim({ now: now + 30, limit: 5, workerId: "w", leaseMs: 1e9 })
    console.log(variant, "child", kids, "claimed", c1.runs.map((r) => r.jobName))
  }
}))
