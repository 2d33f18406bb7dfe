/**
 * The history's page cursor: the last row of a page (finishedAt, runId,
 * attempt), as opaque base64url text. Pages are ordered by these three keys,
 * newest first, so a page starts right after the row its cursor names.
 */
import type { Run } from "@clockwork/core"
import { DateTime, Either, ParseResult, Schema } from "effect"

/** A history row's position in the dashboard's order. */
export interface Position {
  readonly finishedAt: number
  readonly runId: string
  readonly attempt: number
}

const PositionJson = Schema.parseJson(Schema.Tuple(Schema.Number, Schema.String, Schema.Int))

/** A cursor as a URL parameter: text that decodes to a position, or a 400 naming `cursor`. */
export const HistoryCursor: Schema.Schema<Position, string> = Schema.transformOrFail(Schema.String, Schema.Any, {
  strict: true,
  decode: (text, _, ast) => {
    const json = Either.try(() => Buffer.from(text, "base64url").toString("utf8"))
    const decoded = Either.flatMap(json, (s) => Schema.decodeUnknownEither(PositionJson)(s))
    return Either.isRight(decoded)
      ? ParseResult.succeed({ finishedAt: decoded.right[0], runId: decoded.right[1], attempt: decoded.right[2] })
      : ParseResult.fail(new ParseResult.Type(ast, text, "is not a page cursor from this API"))
  },
  encode: (position: Position) =>
    ParseResult.succeed(encode(position))
})

/** The cursor text of a position. */
export const encode = (position: Position): string =>
  Buffer.from(JSON.stringify([position.finishedAt, position.runId, position.attempt]), "utf8").toString("base64url")

/** The position of a history row. */
export const positionOf = (record: Run.RunRecord): Position => ({
  finishedAt: DateTime.toEpochMillis(record.finishedAt),
  runId: record.runId,
  attempt: record.attempt
})

/** Newest first: negative when `a` comes before `b`. */
export const order = (a: Position, b: Position): number =>
  b.finishedAt - a.finishedAt || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0) || b.attempt - a.attempt
