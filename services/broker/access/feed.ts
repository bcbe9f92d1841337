// The access feed the broker follows: GET {registry}/v1/access/changes?since=N&limit=M (command service, permission
// access:feed). A function dependency, so that the cache is tested with a plain function and the integration tests
// serve it straight from a registry database. Its HTTP errors are services/lib/http-feed.ts's FeedError: `status`
// 401/403 means the broker's token is wrong, not that the feed is down.
import { type AccessChangesResponse, accessChangesResponse } from "../../contract/access.ts";
import { type Feed, httpFeed } from "../../lib/http-feed.ts";

export type AccessFeed = Feed<AccessChangesResponse>;

export function httpAccessFeed(baseUrl: string, token: string, timeoutMs = 10_000): AccessFeed {
  return httpFeed({ baseUrl, path: "/v1/access/changes", token, schema: accessChangesResponse, timeoutMs });
}
