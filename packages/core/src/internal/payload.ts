import { Effect, Either, ParseResult, Schema } from "effect"
import type { ParseError } from "effect/ParseResult"
import { InvalidPayload, type Job } from "../Job.js"
import * as Storable from "./storable.js"

const encoders = new WeakMap<Schema.Schema<any, any>, (a: unknown) => Effect.Effect<unknown, ParseError>>()

/** A value no store can hold, as the error of the job it was given for. */
export const storable = <A>(jobName: string, checked: Either.Either<A, Storable.Unstorable>) =>
  Either.mapLeft(checked, ({ path, reason }) => new InvalidPayload({ jobName, field: path, reason }))

/**
 * A run's payload encoded with its job's Schema (one encoder per Schema, made
 * on first use), as every store will hold it: what does not encode, or no
 * store can hold, fails with InvalidPayload naming the job.
 */
export const encode = <P>(job: Job<P, any, any, any>, payload: P): Effect.Effect<unknown, InvalidPayload> => {
  let encoder = encoders.get(job.payload)
  if (encoder === undefined) {
    encoder = Schema.encodeUnknown(job.payload)
    encoders.set(job.payload, encoder)
  }
  return encoder(payload).pipe(
    Effect.mapError((error) =>
      new InvalidPayload({ jobName: job.name, reason: ParseResult.TreeFormatter.formatErrorSync(error) })
    ),
    Effect.flatMap((encoded) => storable(job.name, Storable.json(encoded, "payload")))
  )
}
