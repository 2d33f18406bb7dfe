/**
 * Clean-up of stale embeddings (`clean_up_embeddings` in the Python
 * scheduler), the timeout example. There is no stop flag to poll: when the
 * 2-second timeout passes, the run's fiber is interrupted, its finalizers run
 * (here: the index lock is released) and the attempt is recorded as
 * `timed_out`.
 */
import { Job } from "@clockwork/core"
import { Context, Effect, Exit, Layer, Ref, Schema } from "effect"

/** The vector index the job cleans: a service, so the demo and the tests bring their own. */
export class EmbeddingIndex extends Context.Tag("@clockwork/examples/EmbeddingIndex")<EmbeddingIndex, {
  readonly lock: Effect.Effect<void>
  readonly unlock: Effect.Effect<void>
  readonly isLocked: Effect.Effect<boolean>
  /** removes one batch of stale vectors; a batch takes a second */
  readonly removeBatch: Effect.Effect<number>
}>() {
  /** An in-memory index with plenty of stale vectors. */
  static readonly layerMemory = Layer.effect(
    EmbeddingIndex,
    Effect.gen(function*() {
      const locked = yield* Ref.make(false)
      return {
        lock: Ref.set(locked, true),
        unlock: Ref.set(locked, false),
        isLocked: Ref.get(locked),
        removeBatch: Effect.as(Effect.sleep("1 second"), 1000)
      }
    })
  )
}

export const CleanUp = Schema.Struct({
  batches: Schema.Int
})

export const CleanedUp = Schema.Struct({
  removed: Schema.Int
})

export const cleanUpEmbeddings = Job.make({
  name: "clean-up-embeddings",
  payload: CleanUp,
  success: CleanedUp,
  timeout: "2 seconds",
  // a timeout is final here: retrying would only time out again
  retry: Job.noRetry,
  run: ({ batches }, ctx) =>
    Effect.scoped(Effect.gen(function*() {
      const index = yield* EmbeddingIndex
      yield* Effect.acquireRelease(index.lock, (_, exit) =>
        Effect.zipRight(
          index.unlock,
          Effect.log(Exit.isInterrupted(exit) ? "interrupted: released the index lock" : "released the index lock")
        ))
      let removed = 0
      for (let batch = 1; batch <= batches; batch++) {
        removed += yield* index.removeBatch
        yield* ctx.metrics({ removed })
        yield* ctx.progress(batch / batches)
      }
      return { removed }
    }))
})
