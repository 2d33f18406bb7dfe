/**
 * A channel that mails alerts over SMTP (nodemailer), as text and HTML.
 *
 * @since 0.1.0
 */
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import type { ConfigError, Scope } from "effect"
import nodemailer from "nodemailer"
import * as Alert from "./Alert.js"
import * as Channel from "./Channel.js"

/**
 * Where and how to send.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly host: string
  /** default 587 (465 with `secure`) */
  readonly port?: number | undefined
  /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it */
  readonly secure?: boolean | undefined
  /** refuse to send unless the connection is upgraded with STARTTLS */
  readonly requireTls?: boolean | undefined
  readonly auth?: { readonly user: string; readonly password: Redacted.Redacted } | undefined
  readonly from: string
  readonly to: string | ReadonlyArray<string>
  /** the channel's name in the delivery records (default "email") */
  readonly name?: string | undefined
  /** how long to wait for the server to connect, greet and answer (default 10 seconds) */
  readonly timeoutMs?: number | undefined
}

/**
 * The email channel's tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Email extends Context.Tag("@clockwork/notify/Email")<Email, Channel.Channel>() {}

/**
 * Builds the channel; its connections close with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Channel.Channel, never, Scope.Scope> =>
  Effect.gen(function*() {
    const name = options.name ?? "email"
    const timeout = options.timeoutMs ?? 10_000
    const transport = yield* Effect.acquireRelease(
      Effect.sync(() =>
        nodemailer.createTransport({
          host: options.host,
          port: options.port ?? (options.secure === true ? 465 : 587),
          secure: options.secure ?? false,
          requireTLS: options.requireTls ?? false,
          ...(options.auth === undefined
            ? {}
            : { auth: { user: options.auth.user, pass: Redacted.value(options.auth.password) } }),
          connectionTimeout: timeout,
          greetingTimeout: timeout,
          socketTimeout: timeout
        })
      ),
      (transport) => Effect.sync(() => transport.close())
    )
    const to = typeof options.to === "string" ? [options.to] : [...options.to]
    return Channel.make(name, (alert) =>
      Effect.tryPromise({
        try: () =>
          transport.sendMail({
            from: options.from,
            to,
            subject: Alert.subject(alert),
            text: Alert.text(alert),
            html: Alert.html(alert),
            headers: { "X-Clockwork-Alert-Id": alert.id }
          }),
        // nodemailer's messages name the server and its reply, never the password
        catch: (error) => new Channel.ChannelError({ channel: name, reason: error instanceof Error ? error.message : String(error) })
      }).pipe(Effect.asVoid))
  })

/**
 * The settings read from configuration: `HOST`, `PORT`, `SECURE`,
 * `REQUIRE_TLS`, `USER`, `PASSWORD` (redacted), `FROM`, `TO` (comma
 * separated) under the given prefix (`layerConfig` uses `NOTIFY_SMTP`, so
 * `NOTIFY_SMTP_HOST`...).
 *
 * @since 0.1.0
 * @category config
 */
export const config = (prefix = "NOTIFY_SMTP"): Config.Config<Options> =>
  Config.nested(
    Config.all({
      host: Config.string("HOST"),
      port: Config.option(Config.integer("PORT")),
      secure: Config.withDefault(Config.boolean("SECURE"), false),
      requireTls: Config.withDefault(Config.boolean("REQUIRE_TLS"), false),
      user: Config.option(Config.string("USER")),
      password: Config.option(Config.redacted("PASSWORD")),
      from: Config.string("FROM"),
      to: Config.array(Config.string(), "TO")
    }),
    prefix
  ).pipe(Config.map(({ password, port, user, ...rest }): Options => ({
    ...rest,
    port: Option.getOrUndefined(port),
    auth: Option.isSome(user) && Option.isSome(password) ? { user: user.value, password: password.value } : undefined
  })))

/**
 * The channel as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Email> => Layer.scoped(Email, make(options))

/**
 * The channel configured from `config(prefix)`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (prefix?: string): Layer.Layer<Email, ConfigError.ConfigError> =>
  Layer.scoped(Email, Effect.flatMap(config(prefix), make))
