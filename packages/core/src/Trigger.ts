/**
 * When a job runs: now, once at an instant, every interval, or on a cron
 * expression in a time zone. Triggers are data (Schema classes), so they can be
 * stored, compared and shown; each one answers "when is the next fire after t".
 *
 * @since 0.1.0
 */
import {
  Config,
  Cron as EffectCron,
  DateTime,
  Duration,
  Effect,
  Either,
  Option,
  Schedule,
  ScheduleDecision,
  ScheduleInterval,
  Schema
} from "effect"
import type { ConfigError } from "effect/ConfigError"
import * as CronTimes from "./internal/cronTimes.js"

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

// escaped: an id may hold what a terminal shows badly
const inSchedule = (scheduleId: string | undefined) =>
  scheduleId === undefined ? "" : `schedule ${JSON.stringify(scheduleId)}: `

/**
 * An interval that is not a positive, finite duration.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidInterval extends Schema.TaggedError<InvalidInterval>()("InvalidInterval", {
  field: Schema.String,
  value: Schema.String,
  reason: Schema.String,
  /** the schedule it was given for, when a schedule was registered */
  scheduleId: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${inSchedule(this.scheduleId)}${this.field}: ${this.value} is not a valid interval (${this.reason})`
  }
}

/**
 * A cron expression that does not parse.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCron extends Schema.TaggedError<InvalidCron>()("InvalidCron", {
  expression: Schema.String,
  reason: Schema.String,
  /** the schedule it was given for, when a schedule was registered */
  scheduleId: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${inSchedule(this.scheduleId)}invalid cron expression "${this.expression}": ${this.reason}`
  }
}

/**
 * A time zone that is not a known IANA zone name.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownTimeZone extends Schema.TaggedError<UnknownTimeZone>()("UnknownTimeZone", {
  timeZone: Schema.String,
  /** the schedule it was given for, when a schedule was registered */
  scheduleId: Schema.optional(Schema.String)
}) {
  override get message() {
    const zone = `unknown time zone "${this.timeZone}" (expected an IANA name such as "Europe/Berlin")`
    return `${inSchedule(this.scheduleId)}${zone}`
  }
}

/**
 * A date that is not a valid instant, or a time of day that is not "HH:MM".
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidDate extends Schema.TaggedError<InvalidDate>()("InvalidDate", {
  field: Schema.String,
  value: Schema.String,
  reason: Schema.String,
  /** the schedule it was given for, when a schedule was registered */
  scheduleId: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${inSchedule(this.scheduleId)}${this.field}: ${this.value} is not a valid date (${this.reason})`
  }
}

/**
 * Any reason a trigger can be rejected.
 *
 * @since 0.1.0
 * @category errors
 */
export type TriggerError = InvalidInterval | InvalidCron | UnknownTimeZone | InvalidDate

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

/**
 * Fire once, as soon as possible.
 *
 * @since 0.1.0
 * @category models
 */
export class Now extends Schema.TaggedClass<Now>()("Now", {}) {}

/**
 * Fire once at an instant (UTC, stored as epoch milliseconds).
 *
 * @since 0.1.0
 * @category models
 */
export class At extends Schema.TaggedClass<At>()("At", {
  at: Schema.DateTimeUtcFromNumber
}) {}

/**
 * Fire every `interval`, first at `startAt` (or one interval after the
 * schedule is created). Ticks are anchored to the schedule, not to when runs
 * finish, so they never drift.
 *
 * @since 0.1.0
 * @category models
 */
export class Every extends Schema.TaggedClass<Every>()("Every", {
  interval: Schema.DurationFromMillis,
  startAt: Schema.optional(Schema.DateTimeUtcFromNumber)
}) {}

/**
 * Fire on a cron expression (5 fields, or 6 with seconds first, or a macro:
 * `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`), evaluated in an IANA
 * time zone (UTC when absent), DST-correct. The expression is kept as given.
 *
 * @since 0.1.0
 * @category models
 */
export class Cron extends Schema.TaggedClass<Cron>()("Cron", {
  expression: Schema.String,
  timeZone: Schema.optional(Schema.String)
}) {}

/**
 * Any stored trigger.
 *
 * @since 0.1.0
 * @category models
 */
export type Trigger = Now | At | Every | Cron

/**
 * Schema of a stored trigger (a tagged union).
 *
 * @since 0.1.0
 * @category models
 */
export const Trigger: Schema.Union<[typeof Now, typeof At, typeof Every, typeof Cron]> = Schema.Union(
  Now,
  At,
  Every,
  Cron
)

// ---------------------------------------------------------------------------
// validation
// ---------------------------------------------------------------------------

const longestInterval = Duration.toMillis(Duration.days(10_000 * 365.25))

/**
 * Checks an interval: a positive, finite Duration of at most 10,000 years
 * (numbers are milliseconds; strings such as "10 seconds" are accepted).
 *
 * @since 0.1.0
 * @category validation
 */
export const validateInterval = (
  input: Duration.DurationInput,
  field = "interval"
): Either.Either<Duration.Duration, InvalidInterval> => {
  const fail = (reason: string) => Either.left(new InvalidInterval({ field, value: String(input), reason }))
  if (typeof input === "number") {
    if (Number.isNaN(input)) return fail("NaN")
    if (!Number.isFinite(input)) return fail("must be finite")
    if (input <= 0) return fail("must be greater than zero")
  }
  if (typeof input === "bigint" && input <= 0n) return fail("must be greater than zero")
  if (Array.isArray(input)) {
    const [s, ns] = input as unknown as [number, number]
    if (!Number.isFinite(s) || !Number.isFinite(ns)) return fail("must be finite")
    if (s < 0 || ns < 0 || s + ns === 0) return fail("must be greater than zero")
  }
  const decoded = Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) return fail("not a duration")
  const duration = decoded.value
  if (!Duration.isFinite(duration)) return fail("must be finite")
  if (Duration.toMillis(duration) <= 0) return fail("must be greater than zero")
  // each fire time must be a date: JavaScript's and PostgreSQL's end some 270,000 years on
  if (Duration.toMillis(duration) > longestInterval) return fail("must be at most 10000 years")
  return Either.right(duration)
}

const namedZone = (timeZone: string): Either.Either<DateTime.TimeZone.Named, UnknownTimeZone> =>
  // Intl reads "" as the machine's zone; a schedule must name its zone
  Either.fromOption(
    timeZone.trim() === "" ? Option.none() : DateTime.zoneMakeNamed(timeZone),
    () => new UnknownTimeZone({ timeZone })
  )

/**
 * Checks an IANA time zone name.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateTimeZone = (timeZone: string): Either.Either<string, UnknownTimeZone> =>
  Either.map(namedZone(timeZone), () => timeZone)

/** A cron expression parsed once: Effect's `Cron` (what `parseCron` gives), and what answers its fire times. */
interface ParsedCron {
  readonly cron: EffectCron.Cron
  readonly times: CronTimes.CronTimes
}

const cronCache = new Map<string, ParsedCron>()

const parse = (expression: string, timeZone: string | undefined): Either.Either<ParsedCron, InvalidCron | UnknownTimeZone> => {
  // "no zone" and the zone "" must not share a cache entry
  const key = timeZone === undefined ? `utc|${expression}` : `zone:${timeZone}|${expression}`
  const cached = cronCache.get(key)
  if (cached !== undefined) return Either.right(cached)
  let zone: DateTime.TimeZone | undefined = undefined
  if (timeZone !== undefined) {
    // given as a zone, not a name: Effect's Cron reads some valid names ("GMT") as offsets and fails
    const named = namedZone(timeZone)
    if (Either.isLeft(named)) return Either.left(named.left)
    zone = named.right
  }
  const fields = cronFields(expression)
  if (Either.isLeft(fields)) return Either.left(new InvalidCron({ expression, reason: fields.left }))
  return EffectCron.parse(fields.right, zone).pipe(
    Either.mapLeft((error) => new InvalidCron({ expression, reason: error.message })),
    Either.flatMap((cron) => {
      const times = CronTimes.make({
        seconds: cron.seconds,
        minutes: cron.minutes,
        hours: cron.hours,
        days: cron.days,
        months: cron.months,
        weekdays: cron.weekdays,
        daysAnd: cron.days.size > 0 && cron.weekdays.size > 0 && dayFieldsStarred(fields.right),
        timeZone
      })
      const never = neverFires(times)
      if (never !== undefined) return Either.left(new InvalidCron({ expression, reason: never }))
      const parsed: ParsedCron = { cron, times }
      cronCache.set(key, parsed)
      return Either.right(parsed)
    })
  )
}

/**
 * Parses a cron expression (with an optional time zone) into Effect's `Cron`.
 *
 * @since 0.1.0
 * @category validation
 */
export const parseCron = (
  expression: string,
  timeZone?: string
): Either.Either<EffectCron.Cron, InvalidCron | UnknownTimeZone> =>
  Either.map(parse(expression, timeZone), (parsed) => parsed.cron)

/**
 * Whether a day field of these fields (as `cronFields` gives them) is written
 * from `*` (`*`, `*` with a step): then, with both day fields restricted, a date
 * must match both, as in Vixie cron.
 */
const dayFieldsStarred = (fields: string): boolean => {
  const parts = fields.split(/\s+/)
  return dayFieldPositions(parts.length).some((i) => parts[i]?.split(",")[0]?.split("/")[0] === "*")
}

/** Where the day of the month and the day of the week are among `count` fields (with or without seconds first). */
const dayFieldPositions = (count: number): ReadonlyArray<number> => count === 6 ? [3, 5] : count === 5 ? [2, 4] : []

/** The macros of Vixie cron and its descendants, as the fields they stand for. */
const cronMacros: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *"
}

/**
 * The fields Effect's `Cron` parses, from what users of other cron tools
 * write: a macro (`@daily`) becomes its fields, and `?` ("no particular
 * value", only in the day fields, as Spring and cron-parser take it) becomes
 * `*`, which means the same there. Weekdays keep Vixie cron's numbers (0 and 7
 * are Sunday), not Quartz's. What those tools have and this cron cannot do
 * is refused by name, not as a number that does not parse: `@reboot`, and
 * Quartz's `L`, `W` and `#`.
 */
const cronFields = (expression: string): Either.Either<string, string> => {
  const trimmed = expression.trim()
  if (trimmed.startsWith("@")) {
    const macro = trimmed.toLowerCase()
    if (macro === "@reboot") {
      return Either.left("@reboot names no time; enqueue the job when the app starts (Scheduler.enqueue) instead")
    }
    const fields = cronMacros[macro]
    return fields === undefined
      ? Either.left(`unknown macro ${trimmed} (known: ${Object.keys(cronMacros).join(", ")})`)
      : Either.right(fields)
  }
  const parts = trimmed.split(/\s+/)
  const dayFields = dayFieldPositions(parts.length)
  if (dayFields.length === 0) return Either.right(trimmed)
  const [dayOfMonth, dayOfWeek] = dayFields.map((i) => parts[i]!)
  const quartz = /L/i.test(dayOfMonth!)
    ? "\"L\" (the last day of the month)"
    : /W/i.test(dayOfMonth!)
    ? "\"W\" (the weekday nearest a date)"
    : /L$/i.test(dayOfWeek!) && dayOfWeek!.length > 1
    ? "\"L\" (the last such weekday of the month)"
    // no weekday's name holds an L: alone, it is Quartz's Saturday-as-last-day
    : /L/i.test(dayOfWeek!)
    ? "\"L\" (in the weekday field, the last day of the week)"
    : dayOfWeek!.includes("#")
    ? "\"#\" (the nth such weekday of the month)"
    : undefined
  if (quartz !== undefined) return Either.left(`${quartz} is Quartz syntax, not supported here; name the days instead`)
  return Either.right(parts.map((part, i) => dayFields.includes(i) && part === "?" ? "*" : part).join(" "))
}

const monthNames = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December"
]
/** the most days each month has (February 29 in leap years) */
const longestMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * Why a cron can never fire, if it cannot: days of the month that none of its
 * months has ("0 0 30 2 *"), where weekdays do not offer other dates. Such a
 * cron would be searched for a date in vain. With weekdays named too a date
 * matches on either, so some always do; unless a day field is written from
 * `*` (the weekdays as `*` with a step, say), when a date must match both.
 */
const neverFires = (cron: CronTimes.CronFields): string | undefined => {
  if (cron.days.size === 0 || (cron.weekdays.size > 0 && !cron.daysAnd)) return undefined
  const months = cron.months.size === 0 ? monthNames.map((_, i) => i + 1) : [...cron.months].sort((a, b) => a - b)
  for (const month of months) {
    for (const day of cron.days) if (day <= longestMonth[month - 1]!) return undefined
  }
  const days = [...cron.days].sort((a, b) => a - b)
  return `it never fires: ${months.map((month) => monthNames[month - 1]).join(", ")} ` +
    `${months.length === 1 ? "has" : "have"} no day ${days.join(" or ")}`
}

const toUtc = (field: string, input: DateTime.DateTime.Input): Either.Either<DateTime.Utc, InvalidDate> => {
  const made = DateTime.make(input)
  if (Option.isNone(made)) {
    return Either.left(new InvalidDate({ field, value: String(input), reason: "not a valid instant" }))
  }
  return Either.right(DateTime.toUtc(made.value))
}

/**
 * Checks a trigger that came from outside (a store, an API call).
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (trigger: Trigger): Either.Either<Trigger, TriggerError> => {
  switch (trigger._tag) {
    case "Now":
      return Either.right(trigger)
    case "At":
      return Either.map(toUtc("at", trigger.at), () => trigger)
    case "Every":
      return Either.map(validateInterval(trigger.interval), () => trigger)
    case "Cron":
      return Either.map(parseCron(trigger.expression, trigger.timeZone), () => trigger)
  }
}

// ---------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------

/**
 * Run once, now.
 *
 * @since 0.1.0
 * @category constructors
 */
export const now: Now = new Now()

/**
 * Run once at an instant. A zoned DateTime is converted to UTC.
 *
 * @example
 * ```ts
 * const trigger = yield* Trigger.at(new Date("2026-10-01T12:00:00Z"))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const at = (instant: DateTime.DateTime.Input): Either.Either<At, InvalidDate> =>
  Either.map(toUtc("at", instant), (at) => new At({ at }))

/**
 * Run once after a delay from the current Clock time.
 *
 * @since 0.1.0
 * @category constructors
 */
export const after = (delay: Duration.DurationInput): Effect.Effect<At, InvalidInterval> =>
  Effect.flatMap(validateInterval(delay, "delay"), (duration) =>
    Effect.map(DateTime.now, (now) => new At({ at: DateTime.addDuration(now, duration) })))

/**
 * Run every interval (a positive, finite Duration).
 *
 * @example
 * ```ts
 * const trigger = yield* Trigger.every("10 seconds")
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const every = (
  interval: Duration.DurationInput,
  options?: { readonly startAt?: DateTime.DateTime.Input }
): Either.Either<Every, InvalidInterval | InvalidDate> =>
  Either.gen(function*() {
    const duration = yield* validateInterval(interval)
    if (options?.startAt === undefined) return new Every({ interval: duration })
    const startAt = yield* toUtc("startAt", options.startAt)
    return new Every({ interval: duration, startAt })
  })

/**
 * Run on a cron expression, in an IANA time zone (UTC by default).
 *
 * @example
 * ```ts
 * const trigger = yield* Trigger.cron("0 3 * * *", { timeZone: "Europe/Berlin" })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const cron = (
  expression: string,
  options?: { readonly timeZone?: string }
): Either.Either<Cron, InvalidCron | UnknownTimeZone> => {
  const timeZone = options?.timeZone
  return Either.map(
    parseCron(expression, timeZone),
    () => timeZone === undefined ? new Cron({ expression }) : new Cron({ expression, timeZone })
  )
}

const parseTimeOfDay = (time: string): Either.Either<readonly [number, number, number], InvalidDate> => {
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(time)
  const fail = Either.left(new InvalidDate({ field: "time", value: time, reason: "expected HH:MM or HH:MM:SS" }))
  if (match === null) return fail
  const [h, m, s] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)]
  if (h > 23 || m > 59 || s > 59) return fail
  return Either.right([h, m, s] as const)
}

/**
 * Run every day at a wall-clock time ("03:00") in a time zone.
 *
 * @example
 * ```ts
 * const trigger = yield* Trigger.daily("03:00", { timeZone: "Europe/Berlin" })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const daily = (
  time: string,
  options?: { readonly timeZone?: string }
): Either.Either<Cron, InvalidCron | UnknownTimeZone | InvalidDate> =>
  Either.flatMap(parseTimeOfDay(time), ([h, m, s]) => cron(`${s} ${m} ${h} * * *`, options))

/**
 * Days of the week, as the calendar helpers take them.
 *
 * @since 0.1.0
 * @category models
 */
export type Weekday = "sunday" | "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday"

const weekdays: ReadonlyArray<Weekday> = [
  "sunday",
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday"
]

/**
 * Run every week on a weekday at a wall-clock time, in a time zone. The day
 * is read in any case, and its first three letters do ("Mon", "SUNDAY").
 *
 * @example
 * ```ts
 * const trigger = yield* Trigger.weekly("monday", "02:00", { timeZone: "Europe/Berlin" })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const weekly = (
  day: Weekday,
  time: string,
  options?: { readonly timeZone?: string }
): Either.Either<Cron, InvalidCron | UnknownTimeZone | InvalidDate> => {
  // as a config file or a form may give it too: any case, or the first three letters
  const name = String(day).trim().toLowerCase()
  const index = weekdays.findIndex((weekday) => weekday === name || weekday.slice(0, 3) === name)
  if (index < 0) {
    return Either.left(
      new InvalidDate({ field: "day", value: String(day), reason: "not a weekday: expected monday … sunday, or mon … sun" })
    )
  }
  return Either.flatMap(parseTimeOfDay(time), ([h, m, s]) => cron(`${s} ${m} ${h} * * ${index}`, options))
}

/**
 * Reads an interval from Config (a variable name, or any `Config<number>`,
 * e.g. with `Config.withDefault`), following a common convention: a negative
 * number means "disabled" (returns `None`, and the caller should log it); zero,
 * NaN or a malformed value is an error.
 *
 * @example
 * ```ts
 * // BREAKING_NEWS_INTERVAL_SECONDS=10
 * const trigger = yield* Trigger.everyFromConfig("BREAKING_NEWS_INTERVAL_SECONDS")
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const everyFromConfig = (
  config: string | Config.Config<number>,
  options?: { readonly unit?: "millis" | "seconds" | "minutes" }
): Effect.Effect<Option.Option<Every>, ConfigError | InvalidInterval> => {
  const field = typeof config === "string" ? config : "interval"
  return Effect.flatMap(typeof config === "string" ? Config.number(config) : config, (value) => {
    if (value < 0) return Effect.succeedNone
    const factor = options?.unit === "millis" ? 1 : options?.unit === "minutes" ? 60_000 : 1000
    return Effect.map(
      validateInterval(Number.isFinite(value) ? value * factor : value, field),
      (interval) => Option.some(new Every({ interval }))
    )
  })
}

// ---------------------------------------------------------------------------
// fire times
// ---------------------------------------------------------------------------

// a stored trigger was validated when it was made or decoded
const cronTimesOf = (trigger: Cron): CronTimes.CronTimes =>
  Either.getOrThrowWith(parse(trigger.expression, trigger.timeZone), (error) => error).times

/**
 * The first fire time (epoch ms) of a trigger registered at `now`.
 *
 * @since 0.1.0
 * @category fire times
 */
export const firstFireAt = (trigger: Trigger, now: number): number => {
  switch (trigger._tag) {
    case "Now":
      return now
    case "At":
      return DateTime.toEpochMillis(trigger.at)
    case "Every":
      return trigger.startAt === undefined
        ? now + intervalMillis(trigger)
        : DateTime.toEpochMillis(trigger.startAt)
    case "Cron": {
      const first = CronTimes.nextAfter(cronTimesOf(trigger), now - 1)
      // a valid cron matches a date in every 400 years of the Gregorian calendar
      if (first === undefined) throw new Error(`${describe(trigger)} has no fire time after ${now}`)
      return first
    }
  }
}

/**
 * The fire time (epoch ms) that follows the fire at `previous`, if any.
 *
 * @since 0.1.0
 * @category fire times
 */
export const nextFireAfter = (trigger: Trigger, previous: number): number | undefined => {
  switch (trigger._tag) {
    case "Now":
    case "At":
      return undefined
    case "Every":
      return previous + intervalMillis(trigger)
    case "Cron":
      return CronTimes.nextAfter(cronTimesOf(trigger), previous)
  }
}

/**
 * An interval in whole milliseconds (at least 1): the store's resolution.
 *
 * @since 0.1.0
 * @category fire times
 */
export const intervalMillis = (trigger: Every): number => Math.max(1, Math.ceil(Duration.toMillis(trigger.interval)))

/**
 * The first `count` fire times at or after `from`, for display.
 *
 * @since 0.1.0
 * @category fire times
 */
export const upcoming = (trigger: Trigger, from: number, count: number): ReadonlyArray<DateTime.Utc> => {
  const out: Array<DateTime.Utc> = []
  let next: number | undefined = firstFireAt(trigger, from)
  // a start in the past: walk forward to `from` (intervals by arithmetic)
  if (next !== undefined && next < from && trigger._tag === "Every") {
    const step = intervalMillis(trigger)
    next += Math.ceil((from - next) / step) * step
  }
  while (next !== undefined && next < from) next = nextFireAfter(trigger, next)
  while (next !== undefined && out.length < count) {
    out.push(DateTime.unsafeMake(next))
    next = nextFireAfter(trigger, next)
  }
  return out
}

/**
 * The same trigger as an Effect `Schedule` (its output is each fire time, in
 * epoch ms), for driving in-process loops with `Effect.repeat` /
 * `Effect.schedule`. It fires at the same instants as the stored trigger.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toSchedule = (trigger: Trigger): Schedule.Schedule<number> =>
  Schedule.makeWithState<number | undefined, unknown, number>(undefined, (now, _, previous) => {
    const next = previous === undefined ? firstFireAt(trigger, now) : nextFireAfter(trigger, previous)
    return Effect.succeed(
      next === undefined
        ? [previous, previous ?? now, ScheduleDecision.done] as const
        : [next, next, ScheduleDecision.continueWith(ScheduleInterval.after(next))] as const
    )
  })

/**
 * A short human description: "every 10s", "cron 0 3 * * * (Europe/Berlin)".
 *
 * @since 0.1.0
 * @category conversions
 */
export const describe = (trigger: Trigger): string => {
  switch (trigger._tag) {
    case "Now":
      return "now"
    case "At":
      return `at ${DateTime.formatIso(trigger.at)}`
    case "Every":
      return `every ${Duration.format(trigger.interval)}`
    case "Cron":
      return `cron ${trigger.expression}${trigger.timeZone === undefined ? "" : ` (${trigger.timeZone})`}`
  }
}
