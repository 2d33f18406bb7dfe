/**
 * The fire times of a cron expression in a time zone. A cron names readings
 * of a clock on the wall in its zone; each reading it matches fires at the
 * instant the reading names (`wallClock.instantOf`): a reading the clocks show
 * twice fires once, at the first; one they skip fires moved forward by the
 * gap, wherever the search for the next fire starts (inside the gap, or after
 * it, when the moved reading is still ahead).
 */
import * as WallClock from "./wallClock.js"

/** A parsed cron: the values each field allows (an empty set allows any), and its zone. */
export interface CronFields {
  readonly seconds: ReadonlySet<number>
  readonly minutes: ReadonlySet<number>
  readonly hours: ReadonlySet<number>
  /** days of the month, 1 to 31 */
  readonly days: ReadonlySet<number>
  /** 1 to 12 */
  readonly months: ReadonlySet<number>
  /** 0 (Sunday) to 6 */
  readonly weekdays: ReadonlySet<number>
  /**
   * both day fields restricted and one of them written as `*` with a step:
   * a date must match both, as in Vixie cron; otherwise either is enough
   */
  readonly daysAnd: boolean
  /** an IANA zone; absent: UTC */
  readonly timeZone: string | undefined
}

/** A cron ready to answer fire times. */
export interface CronTimes extends CronFields {
  /** the allowed seconds, minutes and hours in ascending order (empty: any) */
  readonly ascending: {
    readonly seconds: ReadonlyArray<number>
    readonly minutes: ReadonlyArray<number>
    readonly hours: ReadonlyArray<number>
  }
}

const ascending = (values: ReadonlySet<number>) => Array.from(values).sort((a, b) => a - b)

/** The fields, with what the search reads of them in order. */
export const make = (fields: CronFields): CronTimes => ({
  ...fields,
  ascending: { seconds: ascending(fields.seconds), minutes: ascending(fields.minutes), hours: ascending(fields.hours) }
})

const day = 86_400_000
// the longest jump of the clocks on record is a day (Samoa, 30 December 2011): look back past it
const lookback = day + 2 * 3_600_000
// a cron that matches no date within this span is taken as never firing
const horizon = 400 * 366 * day

/** The least allowed value at or after `value`, if any (any value when the field allows all). */
const atOrAfter = (allowed: ReadonlyArray<number>, value: number): number | undefined => {
  if (allowed.length === 0) return value
  for (const candidate of allowed) if (candidate >= value) return candidate
  return undefined
}

const dayMatches = (cron: CronTimes, date: Date): boolean => {
  const dayOk = cron.days.size === 0 || cron.days.has(date.getUTCDate())
  const weekdayOk = cron.weekdays.size === 0 || cron.weekdays.has(date.getUTCDay())
  return cron.days.size > 0 && cron.weekdays.size > 0 && !cron.daysAnd ? dayOk || weekdayOk : dayOk && weekdayOk
}

/**
 * A cron's calendar, without zones: the first reading at or after `from`
 * (rounded up to a whole second) that the cron matches, if one comes by
 * `until`.
 */
const nextReading = (cron: CronTimes, from: number, until: number): number | undefined => {
  const { hours, minutes, seconds } = cron.ascending
  const date = new Date(Math.ceil(from / 1000) * 1000)
  while (date.getTime() <= until) {
    if (cron.months.size > 0 && !cron.months.has(date.getUTCMonth() + 1)) {
      date.setUTCMonth(date.getUTCMonth() + 1, 1)
      date.setUTCHours(0, 0, 0, 0)
      continue
    }
    // a day that does not match, or whose allowed hours have all passed: the next day
    const hour = dayMatches(cron, date) ? atOrAfter(hours, date.getUTCHours()) : undefined
    if (hour === undefined) {
      date.setUTCDate(date.getUTCDate() + 1)
      date.setUTCHours(0, 0, 0, 0)
      continue
    }
    if (hour !== date.getUTCHours()) {
      date.setUTCHours(hour, 0, 0, 0)
      continue
    }
    const minute = atOrAfter(minutes, date.getUTCMinutes())
    if (minute === undefined) {
      date.setUTCHours(date.getUTCHours() + 1, 0, 0, 0)
      continue
    }
    if (minute !== date.getUTCMinutes()) {
      date.setUTCMinutes(minute, 0, 0)
      continue
    }
    const second = atOrAfter(seconds, date.getUTCSeconds())
    if (second === undefined) {
      date.setUTCMinutes(date.getUTCMinutes() + 1, 0, 0)
      continue
    }
    date.setUTCSeconds(second, 0)
    return date.getTime()
  }
  return undefined
}

/** The first fire time strictly after `after` (epoch ms); undefined when the cron never fires again. */
export const nextAfter = (cron: CronTimes, after: number): number | undefined => {
  const zone = cron.timeZone
  const offset = (instant: number) => zone === undefined ? 0 : WallClock.offsetAt(zone, instant)
  const offsetNow = offset(after)
  // a reading in a gap the clocks skipped lately fires later than it reads: start that far back
  const skipped = Math.max(0, offsetNow - offset(after - lookback))
  let from = after + offsetNow - skipped
  let until = after + offsetNow + horizon
  let best: number | undefined = undefined
  for (;;) {
    const reading = nextReading(cron, from, until)
    if (reading === undefined) return best
    const { gap, instant } = zone === undefined ? { instant: reading, gap: 0 } : WallClock.instantOf(zone, reading)
    if (instant > after) {
      if (best === undefined || instant < best) best = instant
      // a later reading fires later, unless this one was moved forward by a gap: a reading past the gap
      // (within the gap's length of this one) may fire before it
      if (gap === 0) return best
      until = Math.min(until, reading + gap - 1)
      from = reading + 1
    } else {
      // every reading up to `after`'s, read with the smaller of the two offsets, fires at or before it
      from = Math.max(reading + 1, after + Math.min(reading - instant, offsetNow) + 1)
    }
  }
}
