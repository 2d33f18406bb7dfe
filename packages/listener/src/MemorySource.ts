/**
 * A source over records kept in this process, queried with a predicate: for
 * tests and demos. It counts what it was asked, so a test can check that a
 * listener with `loadRecords: false` never loaded a record.
 *
 * @since 0.1.0
 */
import { Effect, type Schema } from "effect"
import type * as Source from "./Source.js"

/**
 * A memory source's query: which records match.
 *
 * @since 0.1.0
 * @category models
 */
export type Query<Rec> = (record: Rec) => boolean

/**
 * What a memory source was asked so far.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** searches that loaded records */
  readonly searches: number
  /** count-only queries */
  readonly counts: number
  /** records handed out by searches, in all */
  readonly loaded: number
}

/**
 * A source over an in-memory list of records.
 *
 * @since 0.1.0
 * @category models
 */
export interface MemorySource<Rec> extends Source.Source<Query<Rec>, Rec> {
  /** appends records */
  readonly insert: (...records: ReadonlyArray<Rec>) => Effect.Effect<void>
  /** replaces every record matching `where` */
  readonly update: (where: Query<Rec>, f: (record: Rec) => Rec) => Effect.Effect<number>
  /** the records, in insertion order */
  readonly all: Effect.Effect<ReadonlyArray<Rec>>
  readonly stats: Effect.Effect<Stats>
}

/**
 * A memory source holding `initial`.
 *
 * @example
 * ```ts
 * const reviews = MemorySource.make(Review, [{ id: 1, batchId: 0, text: "great" }])
 * const query = ({ batchId }: { batchId: number }) => (review: Review) => review.batchId === batchId
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = <Rec, I>(
  records: Schema.Schema<Rec, I>,
  initial: Iterable<Rec> = [],
  options?: { readonly name?: string }
): MemorySource<Rec> => {
  const items: Array<Rec> = Array.from(initial)
  let searches = 0
  let counts = 0
  let loaded = 0
  return {
    name: options?.name ?? "memory",
    records,
    search: (query) =>
      Effect.sync(() => {
        searches++
        const found = items.filter(query)
        loaded += found.length
        return { total: found.length, records: found }
      }),
    count: (query) =>
      Effect.sync(() => {
        counts++
        return items.filter(query).length
      }),
    insert: (...more) =>
      Effect.sync(() => {
        items.push(...more)
      }),
    update: (where, f) =>
      Effect.sync(() => {
        let n = 0
        items.forEach((item, i) => {
          if (where(item)) {
            items[i] = f(item)
            n++
          }
        })
        return n
      }),
    all: Effect.sync(() => items.slice()),
    stats: Effect.sync(() => ({ searches, counts, loaded }))
  }
}
