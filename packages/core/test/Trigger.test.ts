/**
 * Trigger: validation errors, constructors, fire times (including DST changes
 * in Europe/Berlin), Schema round trips, `toSchedule` under TestClock and
 * `describe`.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import {
  Clock,
  ConfigError,
  ConfigProvider,
  DateTime,
  Duration,
  Effect,
  Either,
  Equal,
  Fiber,
  Option,
  Ref,
  Schema,
  TestClock
} from "effect"
import { Trigger } from "../src/index.js"

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const ms = (isoString: string): number => new Date(isoString).getTime()
const iso = (epochMillis: number): string => new Date(epochMillis).toISOString()

const getLeft = <R, L>(result: Either.Either<R, L>): L => {
  if (Either.isRight(result)) return assert.fail(`expected a Left, got Right(${String(result.right)})`)
  return result.left
}

const getRight = <R, L>(result: Either.Either<R, L>): R => {
  if (Either.isLeft(result)) return assert.fail(`expected a Right, got Left(${String(result.left)})`)
  return result.right
}

const upcomingIso = (trigger: Trigger.Trigger, from: string, count: number): ReadonlyArray<string> =>
  Trigger.upcoming(trigger, ms(from), count).map(DateTime.formatIso)

/** Runs `drive(tick)` on a fiber, advances the TestClock and returns the instants `tick` ran at. */
const fireTimes = (
  drive: (tick: Effect.Effect<void>) => Effect.Effect<unknown>,
  advance: Duration.DurationInput
) =>
  Effect.gen(function*() {
    const fired = yield* Ref.make<ReadonlyArray<number>>([])
    const tick = Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(fired, (xs) => [...xs, now]))
    const fiber = yield* Effect.fork(drive(tick))
    yield* TestClock.adjust(advance)
    const finished = Option.isSome(yield* Fiber.poll(fiber))
    yield* Fiber.interrupt(fiber)
    return { fires: (yield* Ref.get(fired)).map(iso), finished }
  })

// ---------------------------------------------------------------------------
// validation
// ---------------------------------------------------------------------------

describe("validation", () => {
  describe("intervals", () => {
    it.each([
      { label: "zero", input: 0, value: "0", reason: "must be greater than zero" },
      { label: "negative", input: -1, value: "-1", reason: "must be greater than zero" },
      { label: "NaN", input: NaN, value: "NaN", reason: "NaN" },
      { label: "Infinity", input: Infinity, value: "Infinity", reason: "must be finite" },
      { label: "-Infinity", input: -Infinity, value: "-Infinity", reason: "must be finite" },
      // untyped input (JSON, a form) can carry any string
      {
        label: "a malformed string",
        input: "bogus" as string as Duration.DurationInput,
        value: "bogus",
        reason: "not a duration"
      },
      { label: "a zero string", input: "0 seconds", value: "0 seconds", reason: "must be greater than zero" },
      { label: "Duration.infinity", input: Duration.infinity, value: "Duration(Infinity)", reason: "must be finite" },
      { label: "Duration.zero", input: Duration.zero, value: "Duration(0)", reason: "must be greater than zero" },
      { label: "a zero bigint", input: 0n, value: "0", reason: "must be greater than zero" },
      { label: "a zero hrtime", input: [0, 0] as const, value: "0,0", reason: "must be greater than zero" },
      // a fire time must stay a date
      { label: "beyond 10,000 years", input: 1e300, value: "1e+300", reason: "must be at most 10000 years" }
    ] satisfies ReadonlyArray<{ label: string; input: Duration.DurationInput; value: string; reason: string }>)(
      "every($label) is InvalidInterval naming the field and value",
      ({ input, reason, value }) => {
        const error = getLeft(Trigger.every(input))
        expect(error).toBeInstanceOf(Trigger.InvalidInterval)
        assert(error._tag === "InvalidInterval")
        expect({ field: error.field, value: error.value, reason: error.reason }).toEqual({
          field: "interval",
          value,
          reason
        })
        expect(error.message).toContain(value)
        expect(error.message).toContain("interval")
      }
    )

    it("accepts positive finite intervals in every input form", () => {
      expect(Duration.toMillis(getRight(Trigger.every("10 seconds")).interval)).toBe(10_000)
      expect(Duration.toMillis(getRight(Trigger.every(1500)).interval)).toBe(1500)
      expect(Duration.toMillis(getRight(Trigger.every(Duration.minutes(2))).interval)).toBe(120_000)
      expect(Duration.toMillis(getRight(Trigger.every(BigInt(5_000_000))).interval)).toBe(5)
      expect(Duration.toMillis(getRight(Trigger.every([3, 0])).interval)).toBe(3000)
    })

    it("validateInterval names the field it was given", () => {
      const error = getLeft(Trigger.validateInterval(-5, "misfireGrace"))
      expect(error.field).toBe("misfireGrace")
      expect(error.message).toBe("misfireGrace: -5 is not a valid interval (must be greater than zero)")
    })
  })

  describe("cron expressions", () => {
    it.each([
      { label: "too few fields", expression: "* * * *", reason: "Invalid number of segments in cron expression" },
      {
        label: "too many fields",
        expression: "* * * * * * *",
        reason: "Invalid number of segments in cron expression"
      },
      { label: "empty", expression: "", reason: "Invalid number of segments in cron expression" },
      { label: "minute 60", expression: "60 * * * *", reason: "Expected a value between 0 and 59" },
      { label: "hour 24", expression: "0 24 * * *", reason: "Expected a value between 0 and 23" },
      { label: "day 32", expression: "0 0 32 * *", reason: "Expected a value between 1 and 31" },
      { label: "month 13", expression: "0 0 * 13 *", reason: "Expected a value between 1 and 12" },
      { label: "weekday 8", expression: "0 0 * * 8", reason: "Expected a value between 0 and 7" },
      { label: "second 61 (6 fields)", expression: "61 * * * * *", reason: "Expected a value between 0 and 59" },
      { label: "words", expression: "a b c d e", reason: "Expected a positive integer" },
      { label: "30 February", expression: "0 0 30 2 *", reason: "it never fires: February has no day 30" },
      {
        label: "31st of the short months",
        expression: "0 0 31 2,4,6,9,11 *",
        reason: "it never fires: February, April, June, September, November have no day 31"
      },
      { label: "30 or 31 February", expression: "0 0 0 30,31 2 *", reason: "it never fires: February has no day 30 or 31" },
      // a day field written from `*` makes a date match both fields (Vixie cron): no other date offers itself
      {
        label: "30 February on every other weekday",
        expression: "0 0 30 2 */2",
        reason: "it never fires: February has no day 30"
      },
      {
        label: "@reboot",
        expression: "@reboot",
        reason: "@reboot names no time; enqueue the job when the app starts (Scheduler.enqueue) instead"
      },
      {
        label: "an unknown macro",
        expression: "@every 5m",
        reason: "unknown macro @every 5m (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)"
      },
      {
        label: "Quartz's last day of the month",
        expression: "0 0 L * *",
        reason: "\"L\" (the last day of the month) is Quartz syntax, not supported here; name the days instead"
      },
      {
        label: "Quartz's nearest weekday",
        expression: "0 0 0 15W * ?",
        reason: "\"W\" (the weekday nearest a date) is Quartz syntax, not supported here; name the days instead"
      },
      {
        label: "Quartz's last Friday",
        expression: "0 18 * * 5L",
        reason: "\"L\" (the last such weekday of the month) is Quartz syntax, not supported here; name the days instead"
      },
      {
        label: "Quartz's last Friday, by name",
        expression: "0 18 * * FRIL",
        reason: "\"L\" (the last such weekday of the month) is Quartz syntax, not supported here; name the days instead"
      },
      {
        label: "Quartz's L alone in the weekday field",
        expression: "0 18 * * L",
        reason: "\"L\" (in the weekday field, the last day of the week) is Quartz syntax, not supported here; name the days instead"
      },
      {
        label: "Quartz's third Friday",
        expression: "0 18 * * 5#3",
        reason: "\"#\" (the nth such weekday of the month) is Quartz syntax, not supported here; name the days instead"
      }
    ])("$label → InvalidCron with the expression", ({ expression, reason }) => {
      const error = getLeft(Trigger.cron(expression))
      expect(error).toBeInstanceOf(Trigger.InvalidCron)
      assert(error._tag === "InvalidCron")
      expect(error.expression).toBe(expression)
      expect(error.reason).toBe(reason)
      expect(error.message).toBe(`invalid cron expression "${expression}": ${reason}`)
    })

    it("a cron that fires rarely is accepted: 29 February, or the 31st of any month with one", () => {
      const leap = Either.getOrThrow(Trigger.cron("0 0 29 2 *"))
      expect(Trigger.upcoming(leap, Date.parse("2026-03-01T00:00:00Z"), 2).map(DateTime.formatIso))
        .toEqual(["2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"])
      const longMonths = Either.getOrThrow(Trigger.cron("0 0 31 2,3 *"))
      expect(Trigger.upcoming(longMonths, Date.parse("2026-03-01T00:00:00Z"), 2).map(DateTime.formatIso))
        .toEqual(["2026-03-31T00:00:00.000Z", "2027-03-31T00:00:00.000Z"])
      // a weekday named too: a date matches on either, so Mondays of February fire
      const orMonday = Either.getOrThrow(Trigger.cron("0 0 30 2 1"))
      expect(Trigger.upcoming(orMonday, Date.parse("2027-02-01T00:00:00Z"), 2).map(DateTime.formatIso))
        .toEqual(["2027-02-01T00:00:00.000Z", "2027-02-08T00:00:00.000Z"])
    })

    it.each([
      { expression: "@yearly", fires: ["2027-01-01T00:00:00.000Z", "2028-01-01T00:00:00.000Z"] },
      { expression: "@annually", fires: ["2027-01-01T00:00:00.000Z", "2028-01-01T00:00:00.000Z"] },
      { expression: "@monthly", fires: ["2027-01-01T00:00:00.000Z", "2027-02-01T00:00:00.000Z"] },
      // 2026-12-07 is a Monday
      { expression: "@weekly", fires: ["2026-12-13T00:00:00.000Z", "2026-12-20T00:00:00.000Z"] },
      { expression: "@daily", fires: ["2026-12-08T00:00:00.000Z", "2026-12-09T00:00:00.000Z"] },
      { expression: "@midnight", fires: ["2026-12-08T00:00:00.000Z", "2026-12-09T00:00:00.000Z"] },
      { expression: "@HOURLY", fires: ["2026-12-07T11:00:00.000Z", "2026-12-07T12:00:00.000Z"] },
      // Quartz's "no particular value" in a day field means what * means there
      { expression: "0 0 ? * MON", fires: ["2026-12-14T00:00:00.000Z", "2026-12-21T00:00:00.000Z"] },
      { expression: "0 0 0 15 * ?", fires: ["2026-12-15T00:00:00.000Z", "2027-01-15T00:00:00.000Z"] }
    ])("$expression fires as its fields would, and is kept as written", ({ expression, fires }) => {
      const trigger = getRight(Trigger.cron(expression))
      expect(trigger.expression).toBe(expression)
      expect(Trigger.upcoming(trigger, Date.parse("2026-12-07T10:30:00Z"), 2).map(DateTime.formatIso)).toEqual(fires)
      expect(Trigger.describe(trigger)).toBe(`cron ${expression}`)
    })

    it("a macro is evaluated in the trigger's time zone", () => {
      const trigger = getRight(Trigger.cron("@daily", { timeZone: "Europe/Berlin" }))
      expect(Trigger.upcoming(trigger, Date.parse("2026-12-07T10:30:00Z"), 1).map(DateTime.formatIso))
        .toEqual(["2026-12-07T23:00:00.000Z"])
    })

    it("a cron that never fires is refused when decoded from a store as when built", () => {
      const decoded = Trigger.validate(new Trigger.Cron({ expression: "0 0 31 4 *", timeZone: "Europe/Berlin" }))
      assert(Either.isLeft(decoded) && decoded.left._tag === "InvalidCron")
      expect(decoded.left.reason).toBe("it never fires: April has no day 31")
    })

    it("an out-of-range cron is rejected in a valid time zone too", () => {
      const error = getLeft(Trigger.cron("0 25 * * *", { timeZone: "Europe/Berlin" }))
      assert(error._tag === "InvalidCron")
      expect(error.expression).toBe("0 25 * * *")
    })
  })

  describe("time zones", () => {
    it("an unknown zone → UnknownTimeZone with the zone", () => {
      const error = getLeft(Trigger.cron("0 3 * * *", { timeZone: "Mars/Olympus_Mons" }))
      expect(error).toBeInstanceOf(Trigger.UnknownTimeZone)
      assert(error._tag === "UnknownTimeZone")
      expect(error.timeZone).toBe("Mars/Olympus_Mons")
      expect(error.message).toContain("Mars/Olympus_Mons")
    })

    it("daily and weekly reject an unknown zone the same way", () => {
      const daily = getLeft(Trigger.daily("03:00", { timeZone: "Nowhere/Land" }))
      const weekly = getLeft(Trigger.weekly("monday", "03:00", { timeZone: "Nowhere/Land" }))
      expect(daily).toEqual(new Trigger.UnknownTimeZone({ timeZone: "Nowhere/Land" }))
      expect(weekly).toEqual(new Trigger.UnknownTimeZone({ timeZone: "Nowhere/Land" }))
    })

    it("a zone validateTimeZone accepts is taken by cron too, GMT included", () => {
      for (const timeZone of ["GMT", "GMT0", "Etc/GMT", "UTC", "Zulu"]) {
        expect(getRight(Trigger.validateTimeZone(timeZone))).toBe(timeZone)
        const trigger = getRight(Trigger.cron("0 3 * * *", { timeZone }))
        expect(iso(Trigger.firstFireAt(trigger, ms("2026-06-01T12:00:00Z")))).toBe("2026-06-02T03:00:00.000Z")
      }
    })

    it("validateTimeZone accepts IANA names", () => {
      expect(getRight(Trigger.validateTimeZone("Europe/Berlin"))).toBe("Europe/Berlin")
      expect(getRight(Trigger.validateTimeZone("America/New_York"))).toBe("America/New_York")
      expect(getLeft(Trigger.validateTimeZone("Europe/Atlantis")).timeZone).toBe("Europe/Atlantis")
    })

    it("an empty zone is rejected whether or not the same expression was parsed before in UTC", () => {
      // a fresh expression, so the first check runs on a cold parse cache
      const expression = "17 4 * * *"
      expect(getLeft(Trigger.cron(expression, { timeZone: "" }))).toEqual(
        new Trigger.UnknownTimeZone({ timeZone: "" })
      )
      getRight(Trigger.cron(expression))
      expect(getLeft(Trigger.cron(expression, { timeZone: "" }))).toEqual(
        new Trigger.UnknownTimeZone({ timeZone: "" })
      )
      expect(getLeft(Trigger.validate(new Trigger.Cron({ expression, timeZone: "" })))).toEqual(
        new Trigger.UnknownTimeZone({ timeZone: "" })
      )
    })
  })

  describe("dates", () => {
    it("at(new Date(\"nope\")) → InvalidDate for field at", () => {
      const error = getLeft(Trigger.at(new Date("nope")))
      expect(error).toBeInstanceOf(Trigger.InvalidDate)
      expect({ field: error.field, value: error.value, reason: error.reason }).toEqual({
        field: "at",
        value: "Invalid Date",
        reason: "not a valid instant"
      })
      expect(error.message).toContain("Invalid Date")
    })

    it("at(NaN) → InvalidDate with the value", () => {
      const error = getLeft(Trigger.at(NaN))
      expect(error._tag).toBe("InvalidDate")
      expect(error.field).toBe("at")
      expect(error.value).toBe("NaN")
      expect(error.message).toContain("NaN")
    })

    it("at(\"nope\") → InvalidDate with the string", () => {
      const error = getLeft(Trigger.at("nope"))
      expect(error.field).toBe("at")
      expect(error.value).toBe("nope")
      expect(error.message).toBe("at: nope is not a valid date (not a valid instant)")
    })

    it("every with an invalid startAt → InvalidDate for field startAt", () => {
      const error = getLeft(Trigger.every("1 minute", { startAt: new Date("nope") }))
      assert(error._tag === "InvalidDate")
      expect(error.field).toBe("startAt")
      expect(error.value).toBe("Invalid Date")
    })

    it("every checks the interval before the start", () => {
      const error = getLeft(Trigger.every(0, { startAt: new Date("nope") }))
      expect(error._tag).toBe("InvalidInterval")
    })
  })

  describe("times of day", () => {
    it.each(["25:00", "3pm", "12:60", "24:00", "23:59:60", "03:00 ", "3", ""])(
      "daily(%j) → InvalidDate for field time",
      (time) => {
        const error = getLeft(Trigger.daily(time))
        expect(error).toBeInstanceOf(Trigger.InvalidDate)
        assert(error._tag === "InvalidDate")
        expect(error.field).toBe("time")
        expect(error.value).toBe(time)
        expect(error.reason).toBe("expected HH:MM or HH:MM:SS")
        expect(error.message).toContain(`time: ${time} `)
      }
    )

    it.each(["25:00", "3pm", "12:60"])("weekly(\"monday\", %j) → InvalidDate for field time", (time) => {
      const error = getLeft(Trigger.weekly("monday", time))
      assert(error._tag === "InvalidDate")
      expect(error.field).toBe("time")
      expect(error.value).toBe(time)
      expect(error.message).toContain(time)
    })

    it("weekly with a day that is not a weekday → InvalidDate for field day", () => {
      const error = getLeft(Trigger.weekly("funday" as string as Trigger.Weekday, "02:00"))
      assert(error._tag === "InvalidDate")
      expect(error.field).toBe("day")
      expect(error.value).toBe("funday")
      expect(error.message).toBe("day: funday is not a valid date (not a weekday: expected monday … sunday, or mon … sun)")
    })

    it.each(["sunday", "Sunday", "SUNDAY", "sun", "Sun", " sun "])("weekly(%j) is a Sunday", (day) => {
      expect(getRight(Trigger.weekly(day as Trigger.Weekday, "02:00"))).toEqual(new Trigger.Cron({ expression: "0 0 2 * * 0" }))
    })

    it.each(["su", "sund", "sundays", "7"])("weekly(%j) → InvalidDate for field day", (day) => {
      const error = getLeft(Trigger.weekly(day as Trigger.Weekday, "02:00"))
      assert(error._tag === "InvalidDate")
      expect(error.field).toBe("day")
    })

    it("daily builds a 6-field cron, seconds first; single-digit hours and seconds are accepted", () => {
      expect(getRight(Trigger.daily("03:00"))).toEqual(new Trigger.Cron({ expression: "0 0 3 * * *" }))
      expect(getRight(Trigger.daily("7:05:30"))).toEqual(new Trigger.Cron({ expression: "30 5 7 * * *" }))
      expect(getRight(Trigger.daily("23:59", { timeZone: "Europe/Berlin" }))).toEqual(
        new Trigger.Cron({ expression: "0 59 23 * * *", timeZone: "Europe/Berlin" })
      )
    })

    it("weekly numbers the days from sunday = 0", () => {
      expect(getRight(Trigger.weekly("sunday", "00:00")).expression).toBe("0 0 0 * * 0")
      expect(getRight(Trigger.weekly("monday", "02:00")).expression).toBe("0 0 2 * * 1")
      expect(getRight(Trigger.weekly("saturday", "18:30")).expression).toBe("0 30 18 * * 6")
    })
  })

  describe("validate (data from a store or an API)", () => {
    const decode = Schema.decodeUnknownSync(Trigger.Trigger)

    it("a decoded cron with a bad expression → InvalidCron", () => {
      const trigger = decode({ _tag: "Cron", expression: "61 * * * *" })
      const error = getLeft(Trigger.validate(trigger))
      assert(error._tag === "InvalidCron")
      expect(error.expression).toBe("61 * * * *")
      expect(error.reason).toBe("Expected a value between 0 and 59")
    })

    it("a decoded cron with a bad zone → UnknownTimeZone", () => {
      const trigger = decode({ _tag: "Cron", expression: "0 3 * * *", timeZone: "Nowhere/Land" })
      const error = getLeft(Trigger.validate(trigger))
      assert(error._tag === "UnknownTimeZone")
      expect(error.timeZone).toBe("Nowhere/Land")
    })

    it("a decoded zero or infinite interval → InvalidInterval", () => {
      const zero = getLeft(Trigger.validate(decode({ _tag: "Every", interval: 0 })))
      assert(zero._tag === "InvalidInterval")
      expect(zero.reason).toBe("must be greater than zero")
      const infinite = getLeft(Trigger.validate(decode({ _tag: "Every", interval: Infinity })))
      assert(infinite._tag === "InvalidInterval")
      expect(infinite.reason).toBe("must be finite")
    })

    it("valid decoded triggers come back unchanged", () => {
      const inputs = [
        { _tag: "Now" },
        { _tag: "At", at: ms("2026-05-01T12:00:00Z") },
        { _tag: "Every", interval: 60_000, startAt: ms("2026-05-01T12:00:00Z") },
        { _tag: "Cron", expression: "0 3 * * *", timeZone: "Europe/Berlin" }
      ]
      for (const input of inputs) {
        const trigger = decode(input)
        expect(getRight(Trigger.validate(trigger))).toBe(trigger)
      }
    })

    it("a negative interval does not even decode", () => {
      expect(() => decode({ _tag: "Every", interval: -5 })).toThrow()
    })
  })
})

// ---------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------

describe("constructors", () => {
  it("at converts a zoned DateTime to UTC, keeping the instant", () => {
    const zoned = DateTime.unsafeMakeZoned(ms("2026-07-01T10:00:00Z"), { timeZone: "Europe/Berlin" })
    const trigger = getRight(Trigger.at(zoned))
    expect(DateTime.isUtc(trigger.at)).toBe(true)
    expect(DateTime.formatIso(trigger.at)).toBe("2026-07-01T10:00:00.000Z")
  })

  it("at accepts epoch millis, Date and ISO strings", () => {
    const expected = ms("2026-07-01T10:00:00Z")
    expect(DateTime.toEpochMillis(getRight(Trigger.at(expected)).at)).toBe(expected)
    expect(DateTime.toEpochMillis(getRight(Trigger.at(new Date(expected))).at)).toBe(expected)
    expect(DateTime.toEpochMillis(getRight(Trigger.at("2026-07-01T12:00:00+02:00")).at)).toBe(expected)
  })

  it("every keeps startAt in UTC", () => {
    const trigger = getRight(Trigger.every("1 hour", { startAt: "2026-07-01T12:00:00+02:00" }))
    assert(trigger.startAt !== undefined)
    expect(DateTime.formatIso(trigger.startAt)).toBe("2026-07-01T10:00:00.000Z")
  })

  it("cron keeps the expression and zone, and omits an absent zone", () => {
    expect(getRight(Trigger.cron("0 3 * * *", { timeZone: "Europe/Berlin" }))).toEqual(
      new Trigger.Cron({ expression: "0 3 * * *", timeZone: "Europe/Berlin" })
    )
    expect("timeZone" in getRight(Trigger.cron("0 3 * * *"))).toBe(false)
  })

  describe("after", () => {
    it.effect("is an instant measured from the TestClock", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(ms("2026-03-10T08:00:00Z"))
        const trigger = yield* Trigger.after("5 minutes")
        expect(trigger._tag).toBe("At")
        expect(DateTime.formatIso(trigger.at)).toBe("2026-03-10T08:05:00.000Z")
      }))

    it.effect("follows the clock when it moves", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(ms("2026-03-10T08:00:00Z"))
        yield* TestClock.adjust("1 hour")
        const trigger = yield* Trigger.after(90_000)
        expect(DateTime.formatIso(trigger.at)).toBe("2026-03-10T09:01:30.000Z")
      }))

    it.effect("rejects a non-positive delay as InvalidInterval for field delay", () =>
      Effect.gen(function*() {
        const zero = yield* Effect.flip(Trigger.after("0 seconds"))
        expect(zero).toEqual(
          new Trigger.InvalidInterval({ field: "delay", value: "0 seconds", reason: "must be greater than zero" })
        )
        const negative = yield* Effect.flip(Trigger.after(-1000))
        expect(negative.field).toBe("delay")
        expect(negative.message).toContain("-1000")
      }))
  })

  describe("everyFromConfig", () => {
    const withX = (value: string) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["X", value]])))

    it.effect("\"10\" → Some(Every of 10 seconds)", () =>
      Effect.gen(function*() {
        const result = yield* Trigger.everyFromConfig("X").pipe(withX("10"))
        assert(Option.isSome(result))
        expect(result.value).toBeInstanceOf(Trigger.Every)
        expect(Duration.toMillis(result.value.interval)).toBe(10_000)
        expect(result.value.startAt).toBeUndefined()
      }))

    it.effect("a negative value means disabled → None", () =>
      Effect.gen(function*() {
        expect(yield* Trigger.everyFromConfig("X").pipe(withX("-1"))).toEqual(Option.none())
        expect(yield* Trigger.everyFromConfig("X").pipe(withX("-0.5"))).toEqual(Option.none())
      }))

    it.effect("\"0\" → InvalidInterval naming the config key", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Trigger.everyFromConfig("X").pipe(withX("0")))
        assert(error._tag === "InvalidInterval")
        expect(error.field).toBe("X")
        expect(error.value).toBe("0")
        expect(error.message).toContain("X: 0")
      }))

    it.effect("\"Infinity\" → InvalidInterval (must be finite)", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Trigger.everyFromConfig("X").pipe(withX("Infinity")))
        assert(error._tag === "InvalidInterval")
        expect(error.value).toBe("Infinity")
        expect(error.reason).toBe("must be finite")
      }))

    it.effect("\"abc\" → ConfigError (InvalidData at X)", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Trigger.everyFromConfig("X").pipe(withX("abc")))
        assert(ConfigError.isConfigError(error))
        expect(error._op).toBe("InvalidData")
        expect(error).toMatchObject({ path: ["X"] })
        expect(String(error)).toContain("abc")
      }))

    it.effect("a missing key → ConfigError (MissingData)", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          Trigger.everyFromConfig("X").pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
        )
        assert(ConfigError.isConfigError(error))
        expect(error._op).toBe("MissingData")
      }))

    it.effect("unit scales the number: seconds by default, millis, minutes", () =>
      Effect.gen(function*() {
        const interval = (unit?: "millis" | "seconds" | "minutes") =>
          Trigger.everyFromConfig("X", unit === undefined ? undefined : { unit }).pipe(
            withX("10"),
            Effect.map(Option.map((every) => Duration.toMillis(every.interval)))
          )
        expect(yield* interval()).toEqual(Option.some(10_000))
        expect(yield* interval("seconds")).toEqual(Option.some(10_000))
        expect(yield* interval("millis")).toEqual(Option.some(10))
        expect(yield* interval("minutes")).toEqual(Option.some(600_000))
      }))
  })
})

// ---------------------------------------------------------------------------
// fire times
// ---------------------------------------------------------------------------

describe("fire times", () => {
  const t0 = ms("2026-01-01T00:00:00Z")

  describe("Now", () => {
    it("fires once, at registration", () => {
      expect(Trigger.firstFireAt(Trigger.now, t0)).toBe(t0)
      expect(Trigger.nextFireAfter(Trigger.now, t0)).toBeUndefined()
      expect(upcomingIso(Trigger.now, "2026-01-01T00:00:00Z", 5)).toEqual(["2026-01-01T00:00:00.000Z"])
    })
  })

  describe("At", () => {
    it("fires once, at its instant", () => {
      const trigger = getRight(Trigger.at("2026-02-01T09:30:00Z"))
      expect(iso(Trigger.firstFireAt(trigger, t0))).toBe("2026-02-01T09:30:00.000Z")
      expect(Trigger.nextFireAfter(trigger, ms("2026-02-01T09:30:00Z"))).toBeUndefined()
      expect(upcomingIso(trigger, "2026-01-01T00:00:00Z", 3)).toEqual(["2026-02-01T09:30:00.000Z"])
    })
  })

  describe("Every", () => {
    it("without startAt: first one interval after registration, then every interval", () => {
      const trigger = getRight(Trigger.every("10 minutes"))
      expect(iso(Trigger.firstFireAt(trigger, t0))).toBe("2026-01-01T00:10:00.000Z")
      expect(iso(Trigger.nextFireAfter(trigger, ms("2026-01-01T00:10:00Z"))!)).toBe("2026-01-01T00:20:00.000Z")
      expect(upcomingIso(trigger, "2026-01-01T00:00:00Z", 3)).toEqual([
        "2026-01-01T00:10:00.000Z",
        "2026-01-01T00:20:00.000Z",
        "2026-01-01T00:30:00.000Z"
      ])
    })

    it("with startAt: first at startAt, then anchored to it", () => {
      const trigger = getRight(Trigger.every("1 hour", { startAt: "2026-01-01T06:15:00Z" }))
      expect(iso(Trigger.firstFireAt(trigger, t0))).toBe("2026-01-01T06:15:00.000Z")
      expect(iso(Trigger.nextFireAfter(trigger, ms("2026-01-01T06:15:00Z"))!)).toBe("2026-01-01T07:15:00.000Z")
      expect(upcomingIso(trigger, "2026-01-01T00:00:00Z", 3)).toEqual([
        "2026-01-01T06:15:00.000Z",
        "2026-01-01T07:15:00.000Z",
        "2026-01-01T08:15:00.000Z"
      ])
    })

    it("upcoming lists only instants at or after `from` when startAt is already past", () => {
      // documented contract of upcoming: "the first count fire times at or after from";
      // the ticks stay on startAt's grid (06:15 + k hours)
      const trigger = getRight(Trigger.every("1 hour", { startAt: "2026-01-01T06:15:00Z" }))
      expect(upcomingIso(trigger, "2026-01-01T09:00:00Z", 3)).toEqual([
        "2026-01-01T09:15:00.000Z",
        "2026-01-01T10:15:00.000Z",
        "2026-01-01T11:15:00.000Z"
      ])
    })
  })

  describe("Cron (UTC)", () => {
    const nightly = getRight(Trigger.cron("0 3 * * *"))

    it("firstFireAt is the first match at or after now", () => {
      expect(iso(Trigger.firstFireAt(nightly, ms("2026-01-01T02:59:59.999Z")))).toBe("2026-01-01T03:00:00.000Z")
      expect(iso(Trigger.firstFireAt(nightly, ms("2026-01-01T03:00:00.000Z")))).toBe("2026-01-01T03:00:00.000Z")
      expect(iso(Trigger.firstFireAt(nightly, ms("2026-01-01T03:00:00.001Z")))).toBe("2026-01-02T03:00:00.000Z")
    })

    it("nextFireAfter is strictly after the previous fire", () => {
      expect(iso(Trigger.nextFireAfter(nightly, ms("2026-01-01T03:00:00Z"))!)).toBe("2026-01-02T03:00:00.000Z")
      expect(iso(Trigger.nextFireAfter(nightly, ms("2026-01-31T03:00:00Z"))!)).toBe("2026-02-01T03:00:00.000Z")
    })

    it("a 6-field cron fires on seconds", () => {
      const quarterMinute = getRight(Trigger.cron("*/15 * * * * *"))
      expect(upcomingIso(quarterMinute, "2026-01-01T00:00:07Z", 5)).toEqual([
        "2026-01-01T00:00:15.000Z",
        "2026-01-01T00:00:30.000Z",
        "2026-01-01T00:00:45.000Z",
        "2026-01-01T00:01:00.000Z",
        "2026-01-01T00:01:15.000Z"
      ])
      const secondThirty = getRight(Trigger.cron("30 0 12 * * *"))
      expect(iso(Trigger.firstFireAt(secondThirty, t0))).toBe("2026-01-01T12:00:30.000Z")
    })

    it("upcoming lists exactly N instants, weekdays only", () => {
      const weekdays = getRight(Trigger.cron("0 9 * * 1-5"))
      // 2 Jan 2026 is a Friday
      expect(upcomingIso(weekdays, "2026-01-02T10:00:00Z", 4)).toEqual([
        "2026-01-05T09:00:00.000Z",
        "2026-01-06T09:00:00.000Z",
        "2026-01-07T09:00:00.000Z",
        "2026-01-08T09:00:00.000Z"
      ])
      expect(Trigger.upcoming(weekdays, t0, 0)).toEqual([])
      expect(Trigger.upcoming(weekdays, t0, 10)).toHaveLength(10)
    })
  })

  describe("Cron in Europe/Berlin across DST", () => {
    it("0 3 * * * fires at 01:00Z in summer time and 02:00Z after the October change", () => {
      // Berlin leaves summer time (UTC+2 → UTC+1) on 25 Oct 2026 at 03:00 local
      const trigger = getRight(Trigger.cron("0 3 * * *", { timeZone: "Europe/Berlin" }))
      expect(iso(Trigger.firstFireAt(trigger, ms("2026-10-23T12:00:00Z")))).toBe("2026-10-24T01:00:00.000Z")
      expect(iso(Trigger.nextFireAfter(trigger, ms("2026-10-24T01:00:00Z"))!)).toBe("2026-10-25T02:00:00.000Z")
      expect(upcomingIso(trigger, "2026-10-23T12:00:00Z", 4)).toEqual([
        "2026-10-24T01:00:00.000Z",
        "2026-10-25T02:00:00.000Z",
        "2026-10-26T02:00:00.000Z",
        "2026-10-27T02:00:00.000Z"
      ])
    })

    it("a wall-clock time that happens twice on 25 Oct fires once, at its first occurrence", () => {
      // 02:30 local exists at 00:30Z (summer time) and again at 01:30Z (winter time)
      const trigger = getRight(Trigger.cron("30 2 * * *", { timeZone: "Europe/Berlin" }))
      expect(upcomingIso(trigger, "2026-10-24T12:00:00Z", 3)).toEqual([
        "2026-10-25T00:30:00.000Z",
        "2026-10-26T01:30:00.000Z",
        "2026-10-27T01:30:00.000Z"
      ])
    })

    it("spring forward: a time in the skipped hour (29 Mar, 02:30) fires once, shifted to 03:30 local", () => {
      // On 29 Mar 2026 Berlin jumps from 02:00 CET to 03:00 CEST, so 02:30 does not exist.
      // The implementation neither skips the day nor fires twice: it fires at 01:30Z,
      // i.e. 03:30 CEST (the missing wall-clock time moved forward by the one-hour gap).
      const trigger = getRight(Trigger.cron("30 2 * * *", { timeZone: "Europe/Berlin" }))
      expect(upcomingIso(trigger, "2026-03-27T12:00:00Z", 4)).toEqual([
        "2026-03-28T01:30:00.000Z", // 02:30 CET (UTC+1)
        "2026-03-29T01:30:00.000Z", // 03:30 CEST: the skipped 02:30, one hour late
        "2026-03-30T00:30:00.000Z", // 02:30 CEST (UTC+2)
        "2026-03-31T00:30:00.000Z"
      ])
    })

    it("daily(\"03:00\", Europe/Berlin) gives 03:00 local on consecutive days across the change", () => {
      const trigger = getRight(Trigger.daily("03:00", { timeZone: "Europe/Berlin" }))
      expect(upcomingIso(trigger, "2026-10-22T12:00:00Z", 5)).toEqual([
        "2026-10-23T01:00:00.000Z",
        "2026-10-24T01:00:00.000Z",
        "2026-10-25T02:00:00.000Z",
        "2026-10-26T02:00:00.000Z",
        "2026-10-27T02:00:00.000Z"
      ])
    })

    it("weekly(\"monday\", \"02:00\", Europe/Berlin) gives Mondays at 02:00 local across the change", () => {
      const trigger = getRight(Trigger.weekly("monday", "02:00", { timeZone: "Europe/Berlin" }))
      // 12 Oct 2026 is a Monday
      expect(upcomingIso(trigger, "2026-10-12T12:00:00Z", 4)).toEqual([
        "2026-10-19T00:00:00.000Z", // 02:00 CEST
        "2026-10-26T01:00:00.000Z", // 02:00 CET
        "2026-11-02T01:00:00.000Z",
        "2026-11-09T01:00:00.000Z"
      ])
      for (const instant of Trigger.upcoming(trigger, ms("2026-10-12T12:00:00Z"), 4)) {
        const local = DateTime.unsafeMakeZoned(instant, { timeZone: "Europe/Berlin" })
        expect(DateTime.getPart(local, "weekDay")).toBe(1)
        expect(DateTime.getPart(local, "hours")).toBe(2)
      }
    })
  })
})

describe("Cron across clock changes, wherever the search starts", () => {
  const cronIn = (expression: string, timeZone: string) => getRight(Trigger.cron(expression, { timeZone }))
  const local = (instant: number, timeZone: string) =>
    new Date(instant).toLocaleString("sv-SE", { timeZone }).replace(" ", "T")

  it("from inside a repeated hour: the next fire is the next day's, never one already past", () => {
    // Berlin falls back on 26 Oct 2025 at 01:00Z: 02:30 is read at 00:30Z (CEST) and again at 01:30Z (CET)
    const trigger = cronIn("30 2 * * *", "Europe/Berlin")
    const start = ms("2025-10-26T01:10:00Z") // 02:10 CET, the second time the clocks show it
    expect(iso(Trigger.firstFireAt(trigger, start))).toBe("2025-10-27T01:30:00.000Z")
    expect(iso(Trigger.nextFireAfter(trigger, start)!)).toBe("2025-10-27T01:30:00.000Z")
    // "*/30": 01:00 and 01:30 EDT fire, their repeats in EST do not, then 02:00 EST
    const halfHours = cronIn("*/30 * * * *", "America/New_York")
    expect(upcomingIso(halfHours, "2024-11-03T04:45:00Z", 4)).toEqual([
      "2024-11-03T05:00:00.000Z",
      "2024-11-03T05:30:00.000Z",
      "2024-11-03T07:00:00.000Z",
      "2024-11-03T07:30:00.000Z"
    ])
    expect(iso(Trigger.firstFireAt(halfHours, ms("2024-11-03T06:00:00.001Z")))).toBe("2024-11-03T07:00:00.000Z")
  })

  it("from after the clocks sprang forward: the skipped time still fires that day, moved by the gap", () => {
    // Berlin springs forward on 30 Mar 2025 at 01:00Z: 02:30 is never read; it fires at 03:30 CEST (01:30Z)
    const trigger = cronIn("30 2 * * *", "Europe/Berlin")
    for (const start of ["2025-03-30T00:59:59Z", "2025-03-30T01:00:00.001Z", "2025-03-30T01:30:00Z"]) {
      expect(iso(Trigger.firstFireAt(trigger, ms(start)))).toBe("2025-03-30T01:30:00.000Z")
    }
    expect(iso(Trigger.firstFireAt(trigger, ms("2025-03-30T01:30:00.001Z")))).toBe("2025-03-31T00:30:00.000Z")
    const daily = getRight(Trigger.daily("02:30", { timeZone: "Europe/Berlin" }))
    expect(iso(Trigger.firstFireAt(daily, ms("2025-03-30T01:10:00Z")))).toBe("2025-03-30T01:30:00.000Z")
  })

  it("every reading in a gap moves by the gap, and a reading the clocks show fires as read", () => {
    // Lord Howe springs forward by 30 minutes on 6 Oct 2024 at 02:00 local (15:30Z): 02:10 is skipped, 02:30 is read
    const trigger = cronIn("10,30 2 * * *", "Australia/Lord_Howe")
    expect(upcomingIso(trigger, "2024-10-05T12:00:00Z", 3)).toEqual([
      "2024-10-05T15:30:00.000Z", // 02:30, read
      "2024-10-05T15:40:00.000Z", // 02:10 moved to 02:40
      "2024-10-06T15:10:00.000Z"
    ])
    // each of the 180 readings of 02:00:00 to 02:59:40 on 30 Mar 2025 in Berlin fires an hour later
    const seconds = cronIn("*/20 * 2 * * *", "Europe/Berlin")
    const fires = Trigger.upcoming(seconds, ms("2025-03-30T00:00:00Z"), 181).map(DateTime.toEpochMillis)
    expect(fires.slice(0, 180).map((t) => local(t, "Europe/Berlin").slice(11))).toEqual(
      Array.from({ length: 180 }, (_, i) => `03:${String(Math.floor(i / 3)).padStart(2, "0")}:${String((i % 3) * 20).padStart(2, "0")}`)
    )
    expect(iso(fires[180]!)).toBe("2025-03-31T00:00:00.000Z")
  })

  it("a day the clocks skipped whole (Samoa, 30 Dec 2011) fires a day late, once", () => {
    const trigger = cronIn("0 9 * * *", "Pacific/Apia")
    expect(upcomingIso(trigger, "2011-12-29T00:00:00Z", 3).map((t) => local(ms(t), "Pacific/Apia"))).toEqual([
      "2011-12-29T09:00:00",
      "2011-12-31T09:00:00", // the 30th's 09:00, moved by the day, and the 31st's own
      "2012-01-01T09:00:00"
    ])
  })

  // an oracle independent of the search: every minute of a window around each change, read on the zone's clock
  const changes: ReadonlyArray<readonly [zone: string, around: string]> = [
    ["Europe/Berlin", "2025-03-30T01:00:00Z"],
    ["Europe/Berlin", "2025-10-26T01:00:00Z"],
    ["America/New_York", "2024-03-10T07:00:00Z"],
    ["America/New_York", "2024-11-03T06:00:00Z"],
    ["Australia/Lord_Howe", "2024-10-05T15:30:00Z"],
    ["Australia/Lord_Howe", "2025-04-05T15:00:00Z"],
    ["Pacific/Chatham", "2025-09-27T14:00:00Z"],
    ["America/Santiago", "2025-09-07T04:00:00Z"],
    ["Asia/Kathmandu", "2025-06-01T00:00:00Z"]
  ]
  const expressions = ["30 2 * * *", "0 * * * *", "*/15 1-3 * * *", "45 0 * * *", "10,40 * * * *"]

  it.each(changes)("%s around %s: each fire is after its start, and every reading shown once or first fires", (zone, around) => {
    const from = ms(around) - 6 * 3_600_000
    const to = ms(around) + 6 * 3_600_000
    for (const expression of expressions) {
      const trigger = cronIn(expression, zone)
      const [minute, hour] = expression.split(" ")
      const matches = (reading: string) => {
        const [h, m] = [Number(reading.slice(11, 13)), Number(reading.slice(14, 16))]
        const inField = (field: string, value: number) =>
          field === "*" || field.split(",").some((part) => {
            const [range, step] = part.split("/")
            const [lo, hi] = range === "*" ? [0, 59] : range!.includes("-") ? range!.split("-").map(Number) : [Number(range), Number(range)]
            return value >= lo! && value <= (step === undefined ? hi! : 59) && (value - lo!) % Number(step ?? 1) === 0
          })
        return inField(minute!, m) && inField(hour!, h)
      }
      const fires = new Set<number>()
      for (let t = Trigger.firstFireAt(trigger, from); t < to; t = Trigger.nextFireAfter(trigger, t)!) {
        expect(t).toBeGreaterThanOrEqual(from)
        fires.add(t)
      }
      const seen = new Set<string>()
      for (let t = from; t < to; t += 60_000) {
        const reading = local(t, zone)
        if (matches(reading) && !seen.has(reading)) expect(fires.has(t), `${expression} at ${reading}`).toBe(true)
        seen.add(reading)
      }
      // and from every minute of the window, the next fire is the least fire after it
      const sorted = [...fires].sort((a, b) => a - b)
      for (let t = from; t < sorted.at(-1)!; t += 60_000) {
        expect(Trigger.nextFireAfter(trigger, t)).toBe(sorted.find((fire) => fire > t))
      }
    }
  })
})

// ---------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------

describe("Schema", () => {
  const encode = Schema.encodeSync(Trigger.Trigger)
  const decode = Schema.decodeUnknownSync(Trigger.Trigger)

  type Case = { readonly label: string; readonly trigger: Trigger.Trigger; readonly encoded: unknown }
  const cases: ReadonlyArray<Case> = [
    { label: "Now", trigger: Trigger.now, encoded: { _tag: "Now" } },
    {
      label: "At",
      trigger: getRight(Trigger.at("2026-02-01T09:30:00Z")),
      encoded: { _tag: "At", at: ms("2026-02-01T09:30:00Z") }
    },
    {
      label: "Every",
      trigger: getRight(Trigger.every("90 seconds")),
      encoded: { _tag: "Every", interval: 90_000 }
    },
    {
      label: "Every with startAt",
      trigger: getRight(Trigger.every("1 hour", { startAt: "2026-01-01T06:15:00Z" })),
      encoded: { _tag: "Every", interval: 3_600_000, startAt: ms("2026-01-01T06:15:00Z") }
    },
    {
      label: "Cron",
      trigger: getRight(Trigger.cron("*/5 * * * *")),
      encoded: { _tag: "Cron", expression: "*/5 * * * *" }
    },
    {
      label: "Cron with a zone",
      trigger: getRight(Trigger.weekly("monday", "02:00", { timeZone: "Europe/Berlin" })),
      encoded: { _tag: "Cron", expression: "0 0 2 * * 1", timeZone: "Europe/Berlin" }
    }
  ]

  it.each(cases)("$label encodes to plain JSON data and decodes back to an equal trigger", ({ encoded, trigger }) => {
    const data = encode(trigger)
    expect(data).toStrictEqual(encoded)
    // as a store would: through JSON text
    const decoded = decode(JSON.parse(JSON.stringify(data)))
    expect(decoded._tag).toBe(trigger._tag)
    expect(decoded.constructor).toBe(trigger.constructor)
    expect(Equal.equals(decoded, trigger)).toBe(true)
    expect(encode(decoded)).toStrictEqual(encoded)
    expect(Trigger.describe(decoded)).toBe(Trigger.describe(trigger))
  })

  it("equality is structural, so different triggers are not equal", () => {
    expect(Equal.equals(getRight(Trigger.every("1 minute")), getRight(Trigger.every("60 seconds")))).toBe(true)
    expect(Equal.equals(getRight(Trigger.every("1 minute")), getRight(Trigger.every("2 minutes")))).toBe(false)
    expect(Equal.equals(getRight(Trigger.cron("0 3 * * *")), getRight(Trigger.cron("0 3 * * *", { timeZone: "UTC" }))))
      .toBe(false)
  })

  it("rejects data that is not a trigger", () => {
    expect(() => decode({ _tag: "Hourly" })).toThrow()
    expect(() => decode({ _tag: "At", at: "tomorrow" })).toThrow()
    expect(() => decode({ _tag: "Cron" })).toThrow()
  })
})

// ---------------------------------------------------------------------------
// toSchedule
// ---------------------------------------------------------------------------

describe("toSchedule", () => {
  const t0 = ms("2026-01-01T00:00:00Z")
  const repeated = (trigger: Trigger.Trigger) => (tick: Effect.Effect<void>) =>
    Effect.repeat(tick, Trigger.toSchedule(trigger))
  const scheduled = (trigger: Trigger.Trigger) => (tick: Effect.Effect<void>) =>
    Effect.schedule(tick, Trigger.toSchedule(trigger))

  it.effect("Every drives Effect.repeat: once at once, then every interval", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const trigger = getRight(Trigger.every("10 seconds"))
      const { finished, fires } = yield* fireTimes(repeated(trigger), "35 seconds")
      expect(fires).toEqual([
        "2026-01-01T00:00:00.000Z",
        "2026-01-01T00:00:10.000Z",
        "2026-01-01T00:00:20.000Z",
        "2026-01-01T00:00:30.000Z"
      ])
      expect(finished).toBe(false)
    }))

  it.effect("Every with Effect.schedule does not drift when each run takes time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const trigger = getRight(Trigger.every("10 seconds"))
      const { fires } = yield* fireTimes(
        (tick) => Effect.schedule(Effect.zipRight(tick, Effect.sleep("3 seconds")), Trigger.toSchedule(trigger)),
        "45 seconds"
      )
      expect(fires).toEqual([
        "2026-01-01T00:00:10.000Z",
        "2026-01-01T00:00:20.000Z",
        "2026-01-01T00:00:30.000Z",
        "2026-01-01T00:00:40.000Z"
      ])
    }))

  it.effect("Every with Effect.repeat keeps a fixed 10 s grid, anchored where the first run ended", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const trigger = getRight(Trigger.every("10 seconds"))
      const { fires } = yield* fireTimes(
        (tick) => Effect.repeat(Effect.zipRight(tick, Effect.sleep("3 seconds")), Trigger.toSchedule(trigger)),
        "45 seconds"
      )
      // Effect.repeat first consults Schedule.fixed when the first run ends (3 s), so the grid
      // starts there; after that the 3 s runs do not push later ticks back (no 13, 26, 39 …)
      expect(fires).toEqual([
        "2026-01-01T00:00:00.000Z",
        "2026-01-01T00:00:13.000Z",
        "2026-01-01T00:00:23.000Z",
        "2026-01-01T00:00:33.000Z",
        "2026-01-01T00:00:43.000Z"
      ])
    }))

  it.effect("Every with Effect.schedule fires at the instants upcoming lists", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const trigger = getRight(Trigger.every("10 seconds"))
      const { fires } = yield* fireTimes(scheduled(trigger), "35 seconds")
      expect(fires).toEqual(Trigger.upcoming(trigger, t0, 3).map(DateTime.formatIso))
    }))

  it.effect("Every with startAt fires first at startAt, like upcoming", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const trigger = getRight(Trigger.every("10 minutes", { startAt: "2026-01-01T00:01:00Z" }))
      const { fires } = yield* fireTimes(scheduled(trigger), "35 minutes")
      expect(fires).toEqual([
        "2026-01-01T00:01:00.000Z",
        "2026-01-01T00:11:00.000Z",
        "2026-01-01T00:21:00.000Z",
        "2026-01-01T00:31:00.000Z"
      ])
      expect(fires).toEqual(Trigger.upcoming(trigger, t0, 4).map(DateTime.formatIso))
    }))

  it.effect("At fires once at its instant under Effect.schedule, then completes", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const trigger = getRight(Trigger.at("2026-01-01T00:01:30Z"))
      const { finished, fires } = yield* fireTimes(scheduled(trigger), "1 hour")
      expect(fires).toEqual(["2026-01-01T00:01:30.000Z"])
      expect(finished).toBe(true)
    }))

  it.effect("At in the past fires immediately", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const trigger = getRight(Trigger.at("2025-12-31T23:00:00Z"))
      const { finished, fires } = yield* fireTimes(scheduled(trigger), "1 second")
      expect(fires).toEqual(["2026-01-01T00:00:00.000Z"])
      expect(finished).toBe(true)
    }))

  it.effect("Now fires once, immediately, under Effect.schedule", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const { finished, fires } = yield* fireTimes(scheduled(Trigger.now), "1 minute")
      expect(fires).toEqual(["2026-01-01T00:00:00.000Z"])
      expect(finished).toBe(true)
    }))

  it.effect("Cron fires at the cron's instants, in its time zone", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ms("2026-10-23T12:00:00Z"))
      const trigger = getRight(Trigger.cron("0 3 * * *", { timeZone: "Europe/Berlin" }))
      const { fires } = yield* fireTimes(scheduled(trigger), "3 days")
      expect(fires).toEqual([
        "2026-10-24T01:00:00.000Z",
        "2026-10-25T02:00:00.000Z",
        "2026-10-26T02:00:00.000Z"
      ])
      expect(fires).toEqual(upcomingIso(trigger, "2026-10-23T12:00:00Z", 3))
    }))
})

// ---------------------------------------------------------------------------
// describe
// ---------------------------------------------------------------------------

describe("describe", () => {
  it("gives a short human description of each kind", () => {
    expect(Trigger.describe(Trigger.now)).toBe("now")
    expect(Trigger.describe(getRight(Trigger.at("2026-02-01T09:30:00Z")))).toBe("at 2026-02-01T09:30:00.000Z")
    expect(Trigger.describe(getRight(Trigger.every("10 seconds")))).toBe("every 10s")
    expect(Trigger.describe(getRight(Trigger.every("90 minutes")))).toBe("every 1h 30m")
    expect(Trigger.describe(getRight(Trigger.every(1500)))).toBe("every 1s 500ms")
    expect(Trigger.describe(getRight(Trigger.cron("*/5 * * * *")))).toBe("cron */5 * * * *")
    expect(Trigger.describe(getRight(Trigger.cron("0 3 * * *", { timeZone: "Europe/Berlin" })))).toBe(
      "cron 0 3 * * * (Europe/Berlin)"
    )
    expect(Trigger.describe(getRight(Trigger.daily("03:00", { timeZone: "Europe/Berlin" })))).toBe(
      "cron 0 0 3 * * * (Europe/Berlin)"
    )
  })
})
