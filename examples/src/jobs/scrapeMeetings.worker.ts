/**
 * Runs in a worker thread: "scrapes" meeting pages with a synchronous,
 * CPU-bound parse that never yields, and reports lines added / processed.
 */
import { WorkerJob } from "@clockwork/node"
import { Effect } from "effect"
import { scrapeMeetings } from "./scrapeMeetings.js"

/** A stand-in page of meeting minutes: one line per agenda item. */
const page = (n: number) =>
  Array.from({ length: 2_000 }, (_, i) => `${n}-${i};MEP ${(n * 31 + i) % 705};${i % 7 === 0 ? "new" : "known"}`)

WorkerJob.serve(scrapeMeetings, ({ pages }, ctx) =>
  Effect.gen(function*() {
    let linesProcessed = 0
    let linesAdded = 0
    for (let n = 1; n <= pages; n++) {
      for (const line of page(n)) {
        const [, member, status] = line.split(";")
        linesProcessed++
        if (status === "new" && member !== undefined) linesAdded++
      }
      if (n % 5 === 0 || n === pages) yield* ctx.progress(n / pages)
    }
    yield* ctx.metrics({ linesAdded, linesProcessed })
    yield* Effect.log(`scraped ${pages} pages: ${linesAdded} new lines of ${linesProcessed}`)
    return { linesAdded, linesProcessed }
  }))
