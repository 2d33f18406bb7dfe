import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect } from "effect"
import { ChannelError } from "../Channel.js"

/**
 * POSTs a JSON body; any status but 2xx is a failure. The reason names the
 * status, never the URL (a chat webhook's URL is its secret).
 */
export const postJson = (
  client: HttpClient.HttpClient,
  channel: string,
  url: string,
  body: string,
  headers: Record<string, string>
): Effect.Effect<void, ChannelError> =>
  HttpClient.filterStatusOk(client).execute(
    HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeaders(headers),
      HttpClientRequest.bodyText(body, "application/json")
    )
  ).pipe(
    Effect.scoped,
    Effect.asVoid,
    Effect.catchAll((error) =>
      Effect.fail(
        new ChannelError({
          channel,
          reason: error._tag === "ResponseError" ? `the receiver answered ${error.response.status}` : error.reason
        })
      )
    )
  )
