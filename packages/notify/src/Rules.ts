/**
 * When a notifier alerts, as data: which outcomes (a final failure by default,
 * every failed attempt, a timeout, N final failures in a row, a recovery), and
 * how often (a throttle: at most one alert per job per window; a digest: one
 * message per window). A global policy, overridden field by field per job.
 * Rules are validated when the notifier starts.
 *
 * @since 0.1.0
 */
import type { Feed } from "@clockwork/core"
import { Clock, Duration, Effect, Either, Option, ParseResult, Schema } from "effect"
import type { Alert } from "./Alert.js"
import * as Engine from "./internal/engine.js"

/**
 * An outcome that raises an alert:
 * - `"final_failure"`: the run failed, timed out or was dead-lettered and no
 *   retry follows (the default);
 * - `"failed_attempt"`: any attempt that failed or timed out, retried or not;
 * - `"timeout"`: an attempt hit its timeout;
 * - `{ consecutiveFailures: n }`: the job's n-th final failure in a row;
 * - `"recovery"`: the job's first success after final failures.
 *
 * @since 0.1.0
 * @category models
 */
export const Condition = Schema.Union(
  Schema.Literal("final_failure", "failed_attempt", "timeout", "recovery"),
  Schema.Struct({ consecutiveFailures: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)) })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Condition = typeof Condition.Type

/**
 * A window: milliseconds, or a duration such as `"10 minutes"`.
 *
 * @since 0.1.0
 * @category models
 */
export const Window = Schema.transformOrFail(Schema.Union(Schema.Number, Schema.String), Schema.DurationFromSelf, {
  strict: true,
  decode: (input, _, ast) => {
    const duration = Option.getOrUndefined(Duration.decodeUnknown(input))
    return duration === undefined || !Duration.greaterThan(duration, Duration.zero)
      ? ParseResult.fail(new ParseResult.Type(ast, input, `expected a positive duration, got ${JSON.stringify(input)}`))
      : ParseResult.succeed(duration)
  },
  encode: (duration) => ParseResult.succeed(Duration.toMillis(duration))
})

/**
 * How alerts are raised for a job. Every field is optional: a job's policy
 * takes `on` from the global one when it has none, and its throttle and
 * digest when it sets neither.
 *
 * @since 0.1.0
 * @category models
 */
export const Policy = Schema.Struct({
  /** the outcomes that alert (default `["final_failure"]`; `[]` silences the job) */
  on: Schema.optional(Schema.Array(Condition)),
  /** at most one alert per job per window, then one line saying how many were held back */
  throttle: Schema.optional(Window),
  /** collect the alerts of a window into one message */
  digest: Schema.optional(Window)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Policy = typeof Policy.Type

/**
 * The rules of a notifier: a global policy and per-job policies.
 *
 * @example
 * ```ts
 * const rules: typeof Rules.Rules.Encoded = {
 *   on: ["final_failure", "recovery"],
 *   throttle: "15 minutes",
 *   jobs: {
 *     "sync-prices": { on: [{ consecutiveFailures: 3 }] },
 *     "send-newsletter": { digest: "1 hour" }
 *   }
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export const Rules = Schema.Struct({
  ...Policy.fields,
  jobs: Schema.optional(Schema.Record({ key: Schema.String, value: Policy }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Rules = typeof Rules.Type

/**
 * Rules that cannot be used: `path` says where (`jobs.sync-prices.throttle`).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRules extends Schema.TaggedError<InvalidRules>()("InvalidRules", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `invalid notification rules at ${this.path === "" ? "the top level" : this.path}: ${this.reason}`
  }
}

const decodeRules = Schema.decodeUnknownEither(Rules, { onExcessProperty: "error" })

/**
 * Decodes and checks rules given as data (from JSON, a config file...).
 *
 * @since 0.1.0
 * @category constructors
 */
export const validate = (input: unknown): Either.Either<Rules, InvalidRules> =>
  Either.flatMap(
    Either.mapLeft(decodeRules(input), (error) => {
      const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
      return new InvalidRules({ path: issue?.path.join(".") ?? "", reason: issue?.message ?? String(error) })
    }),
    (rules) => {
      const clash = (policy: Policy, path: string) =>
        policy.throttle !== undefined && policy.digest !== undefined
          ? Option.some(new InvalidRules({ path, reason: "throttle and digest cannot both apply (a digest already sends one message per window)" }))
          : Option.none()
      const problems = [
        clash(rules, ""),
        ...Object.entries(rules.jobs ?? {}).map(([job, policy]) => clash(policy, `jobs.${job}`))
      ]
      const problem = Option.firstSomeOf(problems)
      return Option.isSome(problem) ? Either.left(problem.value) : Either.right(rules)
    }
  )

/**
 * Settings of the alerts an engine builds.
 *
 * @since 0.1.0
 * @category models
 */
export interface EngineOptions {
  /**
   * the dashboard's base URL: alerts link to `<url>/runs/<run id>` (for
   * @clockwork/dashboard, its address followed by `/#`)
   */
  readonly dashboardUrl?: string | undefined
}

/**
 * Applies rules to the run feed: keeps each job's streak of final failures,
 * the throttle windows and the digests. It only computes; sending is the
 * notifier's. Its state lives in memory (a notifier that takes over starts
 * with empty streaks and windows).
 *
 * @since 0.1.0
 * @category models
 */
export interface RulesEngine {
  /** the alerts these entries raise now (and those whose window has ended) */
  readonly offer: (entries: ReadonlyArray<Feed.FeedEntry>) => Effect.Effect<ReadonlyArray<Alert>>
  /** the digests and throttle summaries whose window has ended */
  readonly due: Effect.Effect<ReadonlyArray<Alert>>
  /** when the next window ends (epoch ms), if one is open */
  readonly nextDue: Effect.Effect<Option.Option<number>>
}

/**
 * Builds an engine on validated rules; time comes from Effect's Clock.
 *
 * @since 0.1.0
 * @category constructors
 */
export const engine = (rules: Rules, options?: EngineOptions): Effect.Effect<RulesEngine> =>
  Effect.sync(() => {
    const state = Engine.make(rules, options?.dashboardUrl)
    return {
      offer: (entries) => Effect.map(Clock.currentTimeMillis, (now) => state.offer(entries, now)),
      due: Effect.map(Clock.currentTimeMillis, (now) => state.due(now)),
      nextDue: Effect.sync(() => Option.fromNullable(state.nextDue()))
    }
  })
