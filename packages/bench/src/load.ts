/**
 * A system by its command-line name, for the worker processes the bench
 * spawns (idle, drain): each loads only the system it runs.
 */
import type { Connection, System, SystemName } from "./system.js"

/** `cron`: whether pg-boss runs its timekeeper in this process (a worker process does; see systems/pgBoss.ts). */
export const load = async (name: SystemName, connection: Connection, cron: boolean): Promise<System> => {
  switch (name) {
    case "clockwork":
      return (await import("./systems/clockwork.js")).make(connection)
    case "graphile-worker":
      return (await import("./systems/graphileWorker.js")).make(connection)
    case "pg-boss":
      return (await import("./systems/pgBoss.js")).make(connection, cron)
  }
}
