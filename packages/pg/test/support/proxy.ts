/**
 * A TCP proxy on 127.0.0.1 in front of a server, for tests of a network path
 * that goes silent: `freeze` keeps every socket open and forwards nothing in
 * either direction (the peers' TCP stacks still acknowledge, as a middlebox
 * that stalls does; no error, no reset), and connections made meanwhile are
 * accepted and held; `thaw` forwards what waited and carries on.
 */
import { Effect, type Scope } from "effect"
import { createConnection, createServer, type Socket } from "node:net"

export interface Proxy {
  /** the port it listens on, on 127.0.0.1 */
  readonly port: number
  /** `url` with its host and port replaced by the proxy's */
  readonly via: (url: string) => string
  readonly freeze: Effect.Effect<void>
  readonly thaw: Effect.Effect<void>
  /** connections opened through it so far */
  readonly connections: () => number
}

/** Starts a proxy to `target`; it and every connection through it close with the scope. */
export const make = (target: { readonly host: string; readonly port: number }): Effect.Effect<Proxy, Error, Scope.Scope> =>
  Effect.gen(function*() {
    let frozen = false
    let opened = 0
    const sockets = new Set<Socket>()
    // the sockets joined to their peer (the others are held, paused, until the thaw)
    const flowing = new Set<Socket>()
    // while frozen: connections accepted but not yet joined to the server, and ends not yet passed on
    const held: Array<() => void> = []

    const track = (socket: Socket) => {
      sockets.add(socket)
      socket.on("close", () => {
        sockets.delete(socket)
        flowing.delete(socket)
      })
      socket.on("error", () => socket.destroy())
    }
    const forward = (from: Socket, to: Socket) => {
      from.on("data", (chunk) => {
        if (!to.write(chunk)) {
          from.pause()
          to.once("drain", () => {
            if (!frozen) from.resume()
          })
        }
      })
      from.on("close", () => {
        if (frozen) held.push(() => to.destroy())
        else to.destroy()
      })
    }
    const join = (client: Socket) => {
      const server = createConnection(target)
      track(server)
      forward(client, server)
      forward(server, client)
      flowing.add(client)
      flowing.add(server)
      client.resume()
    }

    const listener = createServer({ pauseOnConnect: true }, (client) => {
      opened++
      track(client)
      if (frozen) held.push(() => join(client))
      else join(client)
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
        frozen = true
        for (const socket of sockets) socket.pause()
      }),
      thaw: Effect.sync(() => {
        frozen = false
        for (const socket of flowing) socket.resume()
        for (const release of held.splice(0)) release()
      }),
      connections: () => opened
    }
  })
