import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { Encoded } from "../ListenerStore.js"
import * as Control from "./sql/control.js"
import * as Lease from "./sql/lease.js"
import * as Table from "./sql/table.js"
import { recordTick } from "./sql/tick.js"

const state = <E>(effect: Effect.Effect<Table.Row | undefined, E>) =>
  Effect.map(effect, (row) => row === undefined ? undefined : Table.toEncoded(row))

/**
 * The listener store on an @effect/sql client (PostgreSQL, PGlite), creating
 * its table first. The statements are written for the columns as they are,
 * whatever name transforms the app configured on its client.
 */
export const make = (sql: SqlClient, schema: string): Effect.Effect<Encoded, SqlError | Error> =>
  Effect.gen(function*() {
    const invalid = Table.invalidSchema(schema)
    if (invalid !== undefined) return yield* Effect.fail(new Error(invalid))
    const t = Table.make(sql.withoutTransforms(), schema)
    yield* Table.create(t)
    return {
      acquire: (lease, params) => state(Lease.acquire(t, lease, params)),
      renew: (lease) => Lease.renew(t, lease),
      release: (name, owner) => Lease.release(t, name, owner),
      recordTick: (tick) => state(recordTick(t, tick)),
      setStopped: (name, stopped, now, params) => Effect.map(Control.setStopped(t, name, stopped, now, params), Table.toEncoded),
      get: (name) => state(Control.get(t, name))
    }
  })
