#!/usr/bin/env node
/**
 * The dashboard on its own, against the PostgreSQL store that apps share:
 * `DATABASE_URL` (required), `CLOCKWORK_SCHEMA` (default clockwork, migrated
 * already), `CLOCKWORK_DASHBOARD_PORT` (default 8080), `CLOCKWORK_DASHBOARD_HOST`
 * (default 127.0.0.1) and `CLOCKWORK_DASHBOARD_TOKEN` (actions; read-only when
 * unset). Cancelling a running run reaches the worker that holds it through the
 * store.
 */
import { Events, Scheduler } from "@clockwork/core"
import { PgStore } from "@clockwork/pg"
import { NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer } from "effect"
import * as Dashboard from "./Dashboard.js"

const Store = Layer.unwrapEffect(
  Effect.map(
    Config.string("CLOCKWORK_SCHEMA").pipe(Config.withDefault("clockwork")),
    (schema) => PgStore.layer({ schema, migrate: false })
  )
).pipe(
  Layer.provide(PgClient.layerConfig({
    url: Config.redacted("DATABASE_URL"),
    applicationName: Config.succeed("clockwork-dashboard"),
    ...PgStore.clientConfig
  }))
)

const Server = Layer.unwrapEffect(
  Effect.map(
    Config.all({
      port: Config.port("CLOCKWORK_DASHBOARD_PORT").pipe(Config.withDefault(8080)),
      host: Config.string("CLOCKWORK_DASHBOARD_HOST").pipe(Config.withDefault("127.0.0.1"))
    }),
    Dashboard.layer
  )
)

Server.pipe(
  Layer.provide(Scheduler.layer),
  Layer.provide(Events.layer),
  Layer.provideMerge(Store),
  Layer.launch,
  NodeRuntime.runMain
)
