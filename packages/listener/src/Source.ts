/**
 * Where a listener looks. A source answers one question, "which records match
 * this query, and how many are there", with a search that loads them and a
 * count that does not (for listeners with `loadRecords: false`). Records are
 * described by a Schema: a run of the listener's handler carries them through
 * the store, and the handler receives them typed.
 *
 * Built in: `SqlSource` (a table over @effect/sql), `HttpSource` (a JSON API
 * over @effect/platform's HttpClient) and `MemorySource` (tests). Any other
 * is a `Source.make` away.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"

/**
 * What a search found: the number of matching records, and the records it
 * loaded (all of them, or as many as the source's limit allows; none from a
 * count).
 *
 * @since 0.1.0
 * @category models
 */
export interface SearchResult<Rec> {
  readonly total: number
  readonly records: ReadonlyArray<Rec>
}

/**
 * A source of records, queried with `Q`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Source<in Q, Rec, out E = never, out R = never> {
  /** how the source shows in logs and errors: "sql reviews", "http https://api.example.com/items" */
  readonly name: string
  /** the records' Schema; its encoded side must be JSON, as runs carry records through the store */
  readonly records: Schema.Schema<Rec, any>
  /** the matching records and their total */
  readonly search: (query: Q) => Effect.Effect<SearchResult<Rec>, E, R>
  /** the number of matching records, without loading any */
  readonly count: (query: Q) => Effect.Effect<number, E, R>
}

/**
 * The query type a source takes.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Query<S> = S extends Source<infer Q, any, any, any> ? Q : never

/**
 * The record type of a source.
 *
 * @since 0.1.0
 * @category type-level
 */
export type RecordOf<S> = S extends Source<any, infer Rec, any, any> ? Rec : never

/**
 * A built-in source could not answer: the database or the API failed, or
 * what came back does not match the records' Schema.
 *
 * @since 0.1.0
 * @category errors
 */
export class SourceError extends Schema.TaggedError<SourceError>()("SourceError", {
  source: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `source "${this.source}" failed: ${this.reason}`
  }
}

/**
 * Defines a source of your own. Without `count`, a count is a search whose
 * records are dropped: give a real one when loading records costs.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Source } from "@clockwork/listener"
 *
 * const Ticket = Schema.Struct({ id: Schema.Number, title: Schema.String })
 *
 * const openTickets = Source.make({
 *   name: "tickets",
 *   records: Ticket,
 *   search: (query: { readonly label: string }) =>
 *     Effect.map(fetchTickets(query.label), (tickets) => ({ total: tickets.length, records: tickets }))
 * })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = <Q, Rec, I, E, R>(options: {
  readonly name: string
  readonly records: Schema.Schema<Rec, I>
  readonly search: (query: Q) => Effect.Effect<SearchResult<Rec>, E, R>
  readonly count?: (query: Q) => Effect.Effect<number, E, R>
}): Source<Q, Rec, E, R> => ({
  name: options.name,
  records: options.records,
  search: options.search,
  count: options.count ?? ((query) => Effect.map(options.search(query), (result) => result.total))
})
