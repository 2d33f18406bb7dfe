/**
 * The CPU-bound scraper of the Python scheduler (`run_in_process=True`,
 * `timeout_minutes=30`, a ScraperResult with lines added / processed): a
 * worker job. Its handler (scrapeMeetings.worker.ts) parses synchronously on a
 * worker thread, which the timeout terminates whatever it is doing.
 */
import { WorkerJob } from "@clockwork/node"
import { Schema } from "effect"

export const scrapeMeetings = WorkerJob.make({
  name: "scrape-meetings",
  worker: new URL("./scrapeMeetings.worker.ts", import.meta.url),
  payload: Schema.Struct({ pages: Schema.Int }),
  success: Schema.Struct({ linesAdded: Schema.Int, linesProcessed: Schema.Int }),
  timeout: "30 minutes"
})
