/**
 * The bench's own connection to PostgreSQL, for what is not any system's API:
 * dropping schemas, emptying tables, asking whether a queue is drained, and
 * reading the server's version for the report.
 */
import pg from "pg"

export const defaultUrl = "postgres://postgres@127.0.0.1:5432/test"

export type Admin = pg.Pool

export const connect = (url: string): Admin => new pg.Pool({ connectionString: url, max: 2 })

/** Schema names come from code, never from input; quoted anyway. */
export const ident = (name: string) => `"${name.replaceAll("\"", "\"\"")}"`

export const dropSchema = (admin: Admin, schema: string) => admin.query(`drop schema if exists ${ident(schema)} cascade`)

export const exists = async (admin: Admin, query: string, values: ReadonlyArray<unknown> = []) => {
  const result = await admin.query<{ found: boolean }>(`select exists (${query}) as found`, [...values])
  return result.rows[0]?.found === true
}

export const serverVersion = async (admin: Admin) =>
  (await admin.query<{ version: string }>("select version()")).rows[0]?.version ?? "unknown"
