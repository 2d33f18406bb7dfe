import { Duration } from "effect"
import { Socket } from "node:net"

/**
 * A socket for node-postgres with TCP keep-alive from its first byte
 * (`PgClientConfig` has no keep-alive setting, but takes the socket to use).
 * Probes start after 10 s of silence; the OS paces them (Linux: every 75 s, 9
 * of them): they keep NAT and load-balancer mappings open, and close a
 * connection whose peer vanished. Connections through TLS wrap this socket.
 */
export const keepAliveSocket = (): Socket => new Socket().setKeepAlive(true, Duration.toMillis("10 seconds"))

/** The most a new connection may take, or a statement wait for a free one in the pool. */
export const connectTimeout = Duration.seconds(10)
