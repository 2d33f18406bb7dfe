import { Job } from "@clockwork/core"
import { Effect, Schema } from "effect"

class ScrapeFailed extends Schema.TaggedError<ScrapeFailed>()("ScrapeFailed", { n: Schema.Number }) {
  override get message() {
    return `scrape ${this.n} failed`
  }
}

/** A job that fails for good every time. */
export const scrape = Job.make({
  name: "scrape",
  payload: Schema.Struct({ n: Schema.Number }),
  retry: Job.noRetry,
  run: ({ n }) => Effect.fail(new ScrapeFailed({ n }))
})
