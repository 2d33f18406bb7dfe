/**
 * Wall-clock time in an IANA time zone: what a clock on a wall there reads at
 * an instant, and which instant a reading names. A reading is held as epoch
 * milliseconds as if the zone were UTC, so `Date`'s UTC fields read its year,
 * month, day, hour, minute and second.
 */

const day = 86_400_000

// one formatter per zone: building one costs far more than using it
const formatters = new Map<string, Intl.DateTimeFormat>()

const formatterOf = (zone: string): Intl.DateTimeFormat => {
  let formatter = formatters.get(zone)
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric"
    })
    formatters.set(zone, formatter)
  }
  return formatter
}

/** The zone's offset at `instant` as Intl reads it. */
const readOffset = (zone: string, instant: number): number => {
  // offsets are whole seconds (some historical ones are not whole minutes)
  const whole = Math.floor(instant / 1000) * 1000
  const shown: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {}
  for (const part of formatterOf(zone).formatToParts(whole)) shown[part.type] = Number(part.value)
  // not Date.UTC, which reads the years 0 to 99 as 1900 to 1999
  const reading = new Date(0)
  reading.setUTCFullYear(shown.year!, shown.month! - 1, shown.day!)
  reading.setUTCHours(shown.hour!, shown.minute!, shown.second!, 0)
  return reading.getTime() - whole
}

const hour = 3_600_000
// per zone, the offset of each hour (of UTC) in which it does not change; bounded
const steadyHours = new Map<string, Map<number, number>>()
const steadyHoursKept = 50_000

/** The zone's offset from UTC at `instant`, in milliseconds: the reading there minus the instant. */
export const offsetAt = (zone: string, instant: number): number => {
  // a cron's search asks the same hours again and again; Intl takes microseconds a question
  let hours = steadyHours.get(zone)
  if (hours === undefined) {
    hours = new Map()
    steadyHours.set(zone, hours)
  }
  const start = Math.floor(instant / hour) * hour
  const known = hours.get(start)
  if (known !== undefined) return known
  const first = readOffset(zone, start)
  // the clocks change at most once within an hour
  if (readOffset(zone, start + hour - 1000) !== first) return readOffset(zone, instant)
  if (hours.size >= steadyHoursKept) hours.clear()
  hours.set(start, first)
  return first
}

/**
 * The instant a reading names in `zone`, as Temporal's "compatible"
 * disambiguation reads it: a reading the clocks show twice (they fall back)
 * names the first of its two instants; one they skip (they spring forward)
 * names the instant it would have named with the offset before the change,
 * which is the reading moved forward by the gap. `gap` is the length of that
 * gap, 0 for a reading the clocks show.
 */
export const instantOf = (zone: string, reading: number): { readonly instant: number; readonly gap: number } => {
  // the offsets well before and well after: a change of offset near the reading lies between them
  const before = offsetAt(zone, reading - day)
  const after = offsetAt(zone, reading + day)
  const early = reading - before
  // shown with the earlier offset: the first of two instants, or the only one
  if (offsetAt(zone, early) === before) return { instant: early, gap: 0 }
  const late = reading - after
  if (offsetAt(zone, late) === after) return { instant: late, gap: 0 }
  return { instant: early, gap: Math.max(0, after - before) }
}
