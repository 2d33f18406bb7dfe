/**
 * `clockwork dashboard`: the web dashboard (`@clockwork/dashboard`) over the
 * store the options name, until Ctrl-C. Loaded only when asked for, so the
 * other commands do not need the package.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Layer } from "effect"
import { withStore } from "./command.js"
import { InvalidArgument, MissingPackage } from "./errors.js"
import * as Store from "./store.js"

export const command = Command.make("dashboard", {
  port: Options.integer("port").pipe(Options.withDescription("the port (0: any free one)"), Options.withDefault(8080)),
  host: Options.text("host").pipe(
    Options.withDescription("the address to bind (another than 127.0.0.1 lets other machines in)"),
    Options.withDefault("127.0.0.1")
  ),
  store: Store.options
}, ({ host, port, store }) =>
  Effect.gen(function*() {
    if (port < 0 || port > 65_535) {
      return yield* new InvalidArgument({ option: "--port", value: String(port), reason: "is not a port (0 to 65535)" })
    }
    const { Dashboard } = yield* Effect.tryPromise({
      try: () => import("@clockwork/dashboard"),
      catch: () => new MissingPackage({ packageName: "@clockwork/dashboard", command: "dashboard" })
    })
    // actions need CLOCKWORK_DASHBOARD_TOKEN, as in an app; without it the dashboard is read-only
    const serve = Layer.effectDiscard(
      Effect.flatMap(Dashboard.Dashboard, ({ url }) => Console.log(`dashboard on ${url} (Ctrl-C stops it)`))
    ).pipe(Layer.provideMerge(Dashboard.layer({ port, host })))
    return yield* withStore(store, () => Layer.launch(serve))
  })).pipe(Command.withDescription("serve the web dashboard over the store: --port (8080), --host (127.0.0.1)"))
