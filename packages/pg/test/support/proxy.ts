/**
 * A TCP proxy on 127.0.0.1 in front of a server, for tests of a network path
 * that goes silent: `freeze` keeps every socket open and forwards nothing in
 * either direction (the peers' TCP stacks still acknowledge, as a middlebox
 * that stalls does; no error, no reset), and connections made meanwhile are
 * accepted and held; `freezeWhere` does that to the connections whose startup
 * message holds a text (PostgreSQL's carries the application name) and
 * leaves the others flowing; `thaw` forwards what waited and carries on.
 */
import { Effect, type Scope } from "effect"
import { createConnection, createServer, type Socket } from "node:net"

export interface Proxy {
  /** the port it listens on, on 127.0.0.1 */
  readonly port: number
  /** `url` with its host and port replaced by the proxy's */
  readonly via: (url: string) => string
  readonly freeze: Effect.Effect<void>
  /** freezes only the connections whose startup message holds `text`, new ones included */
  readonly freezeWhere: (text: string) => Effect.Effect<void>
  readonly thaw: Effect.Effect<void>
  /** connections opened through it so far */
  readonly connections: () => number
}

/** A client's connection and, once joined, the proxy's connection to the server for it. */
interface Pair {
  readonly client: Socket
  server?: Socket
  /** the client's first message, as latin1 text */
  startup: string
}

/** Starts a proxy to `target`; it and every connection through it close with the scope. */
export const make = (target: { readonly host: string; readonly port: number }): Effect.Effect<Proxy, Error, Scope.Scope> =>
  Effect.gen(function*() {
    // the freeze in force: which connections, by their startup message, it stops
    let freezing: ((startup: string) => boolean) | undefined = undefined
    let opened = 0
    const pairs = new Set<Pair>()
    const sockets = new Set<Socket>()
    // while frozen: connections accepted but not yet joined to the server, and ends not yet passed on
    const held: Array<() => void> = []
    const isFrozen = (pair: Pair) => freezing !== undefined && freezing(pair.startup)
    const socketsOf = (pair: Pair) => pair.server === undefined ? [pair.client] : [pair.client, pair.server]

    const track = (socket: Socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => socket.destroy())
    }
    const forward = (pair: Pair, from: Socket, to: Socket) => {
      from.on("data", (chunk) => {
        if (!to.write(chunk)) {
          from.pause()
          to.once("drain", () => {
            if (!isFrozen(pair)) from.resume()
          })
        }
      })
      from.on("close", () => {
        if (isFrozen(pair)) held.push(() => to.destroy())
        else to.destroy()
      })
    }
    const join = (pair: Pair, first: Buffer) => {
      const server = createConnection(target)
      track(server)
      pair.server = server
      server.write(first)
      forward(pair, pair.client, server)
      forward(pair, server, pair.client)
      pair.client.resume()
    }

    const listener = createServer({ pauseOnConnect: true }, (client) => {
      opened++
      track(client)
      const pair: Pair = { client, startup: "" }
      pairs.add(pair)
      client.on("close", () => pairs.delete(pair))
      // a client speaks first: its startup message says which connection it is
      client.once("data", (first) => {
        client.pause()
        pair.startup = first.toString("latin1")
        if (isFrozen(pair)) held.push(() => join(pair, first))
        else join(pair, first)
      })
      client.resume()
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number, Error>((resume) => {
        listener.once("error", (error) => resume(Effect.fail(error)))
        listener.listen(0, "127.0.0.1", () => {
          const address = listener.address()
          resume(
            typeof address === "object" && address !== null
              ? Effect.succeed(address.port)
              : Effect.fail(new Error("the proxy has no port"))
          )
        })
      }),
      () =>
        Effect.sync(() => {
          listener.close()
          for (const socket of sockets) socket.destroy()
        })
    )

    return {
      port,
      via: (url) => {
        const parsed = new URL(url)
        parsed.hostname = "127.0.0.1"
        parsed.port = String(port)
        return parsed.toString()
      },
      freeze: Effect.sync(() => {
        freezing = () => true
        for (const pair of pairs) for (const socket of socketsOf(pair)) socket.pause()
      }),
      freezeWhere: (text) =>
        Effect.sync(() => {
          freezing = (startup) => startup.includes(text)
          for (const pair of pairs) if (isFrozen(pair)) for (const socket of socketsOf(pair)) socket.pause()
        }),
      thaw: Effect.sync(() => {
        freezing = undefined
        for (const pair of pairs) if (pair.server !== undefined) for (const socket of socketsOf(pair)) socket.resume()
        for (const release of held.splice(0)) release()
      }),
      connections: () => opened
    }
  })
