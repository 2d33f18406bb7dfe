import { Effect } from "effect"
import type { Delivery, DeliveryStore } from "../DeliveryStore.js"

type Row = { -readonly [K in keyof Delivery]: Delivery[K] }

/** Deliveries in a Map keyed by notifier, alert and channel; each operation is synchronous, hence atomic. */
export const make = (): DeliveryStore => {
  const rows = new Map<string, Row>()
  const key = (notifier: string, alertId: string, channel: string) => JSON.stringify([notifier, alertId, channel])
  return {
    add: (notifier, deliveries, now) =>
      Effect.sync(() => {
        for (const d of deliveries) {
          const k = key(notifier, d.alertId, d.channel)
          if (!rows.has(k)) rows.set(k, { notifier, ...d, status: "pending", attempts: 0, nextAt: now, createdAt: now })
        }
      }),
    claim: (notifier, channels, now, until, limit) =>
      Effect.sync(() => {
        const claimed: Array<Delivery> = []
        for (const row of rows.values()) {
          if (claimed.length >= limit) break
          if (row.notifier !== notifier || row.status !== "pending" || row.nextAt > now || !channels.includes(row.channel)) continue
          row.nextAt = until
          claimed.push({ ...row })
        }
        return claimed
      }),
    delivered: (notifier, alertId, channel) =>
      Effect.sync(() => {
        const row = rows.get(key(notifier, alertId, channel))
        if (row === undefined) return
        row.status = "delivered"
        row.attempts++
      }),
    failed: (notifier, alertId, channel, error, retryAt) =>
      Effect.sync(() => {
        const row = rows.get(key(notifier, alertId, channel))
        if (row === undefined) return
        row.attempts++
        row.lastError = error
        if (retryAt === undefined) row.status = "undelivered"
        else row.nextAt = retryAt
      }),
    prune: (notifier, before) =>
      Effect.sync(() => {
        let deleted = 0
        for (const [k, row] of rows) {
          if (row.notifier === notifier && row.status !== "pending" && row.createdAt < before) {
            rows.delete(k)
            deleted++
          }
        }
        return deleted
      }),
    list: (notifier) => Effect.sync(() => [...rows.values()].filter((row) => row.notifier === notifier).map((row) => ({ ...row })))
  }
}
