#!/usr/bin/env node
/**
 * The `clockwork` executable.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect } from "effect"
import * as Cli from "./Cli.js"

NodeRuntime.runMain(Cli.run(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    // Ctrl-C (or SIGTERM) is how `tail` and `dashboard` are meant to stop: that is a success
    const code = exit._tag === "Success"
      ? Number(exit.value)
      : Cause.isInterruptedOnly(exit.cause)
      ? Cli.ExitCode.ok
      : Cli.ExitCode.failed
    onExit(code)
    // the process would end on its own once the store's connections are closed; an exit code of 0 too
    process.exit(code)
  }
})
