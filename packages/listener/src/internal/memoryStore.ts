import { Effect } from "effect"
import type { Encoded, ListenerState, Lease } from "../ListenerStore.js"

type Row = { -readonly [K in keyof typeof ListenerState.Encoded]: (typeof ListenerState.Encoded)[K] }

const copy = (row: Row): typeof ListenerState.Encoded => ({ ...row })

/**
 * The listener store's rows in a Map. Each operation is synchronous, hence
 * atomic; the lease rules are the SQL store's.
 */
export const make = (): Encoded => {
  const rows = new Map<string, Row>()

  const holds = (row: Row, lease: Lease) => row.owner === lease.owner


  const ensure = (name: string, params: unknown, now: number): Row => {
    let row = rows.get(name)
    if (row === undefined) {
      row = {
        name,
        params,
        version: 0,
        stopped: false,
        ticks: 0,
        skipped: 0,
        succeeded: 0,
        failed: 0,
        consecutiveFailures: 0,
        createdAt: now,
        updatedAt: now
      }
      rows.set(name, row)
    }
    return row
  }

  return {
    acquire: (lease, params) =>
      Effect.sync(() => {
        const row = ensure(lease.name, params, lease.now)
        const free = row.owner === undefined || row.owner === lease.owner ||
          (row.leaseUntil !== undefined && row.leaseUntil <= lease.now)
        if (row.stopped || !free) return undefined
        row.owner = lease.owner
        row.leaseUntil = lease.until
        row.updatedAt = lease.now
        return copy(row)
      }),
    renew: (lease) =>
      Effect.sync(() => {
        const row = rows.get(lease.name)
        if (row === undefined || row.stopped || !holds(row, lease)) return false
        row.leaseUntil = lease.until
        return true
      }),
    release: (name, owner) =>
      Effect.sync(() => {
        const row = rows.get(name)
        if (row === undefined || row.owner !== owner) return
        delete row.owner
        delete row.leaseUntil
      }),
    recordTick: (tick) =>
      Effect.sync(() => {
        const row = rows.get(tick.name)
        if (row === undefined || !holds(row, tick)) return undefined
        row.ticks++
        row.lastTickAt = tick.now
        row.updatedAt = tick.now
        row.leaseUntil = tick.until
        switch (tick.outcome) {
          case "skipped":
            row.skipped++
            break
          case "succeeded":
            row.succeeded++
            row.params = tick.params
            row.version++
            row.consecutiveFailures = 0
            row.lastRunId = tick.runId
            delete row.lastError
            break
          case "failed":
            row.failed++
            row.consecutiveFailures++
            if (tick.runId !== undefined) row.lastRunId = tick.runId
            row.lastError = tick.error
            break
        }
        return copy(row)
      }),
    setStopped: (name, stopped, now, params) =>
      Effect.sync(() => {
        const row = ensure(name, params, now)
        row.stopped = stopped
        if (!stopped) row.consecutiveFailures = 0
        row.updatedAt = now
        return copy(row)
      }),
    get: (name) => Effect.sync(() => rows.has(name) ? copy(rows.get(name)!) : undefined)
  }
}
