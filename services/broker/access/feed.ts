// The access feed the broker follows: GET {registry}/v1/access/changes?since=N&limit=M (command service, permission
// access:feed). A function dependency, so that the cache is tested with a plain function and the integration tests
// serve it straight from a registry database.
import { type AccessChangesResponse, accessChangesResponse } from "../../contract/access.ts";

export type AccessFeed = (since: number, limit: number) => Promise<AccessChangesResponse>;

/** An HTTP error of the feed; `status` 401/403 means the broker's token is wrong, not that the feed is down. */
export class AccessFeedError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = "AccessFeedError";
    this.status = status;
  }
}

export function httpAccessFeed(baseUrl: string, token: string, timeoutMs = 10_000): AccessFeed {
  return async (since, limit) => {
    const url = new URL("/v1/access/changes", baseUrl);
    url.searchParams.set("since", String(since));
    url.searchParams.set("limit", String(limit));
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      const body = (await res.text()).slice(0, 300);
      throw new AccessFeedError(
        `access feed ${url.origin}${url.pathname}: HTTP ${res.status} ${body}`,
        res.status,
      );
    }
    // Validated: the feed decides who may connect, so a malformed answer must fail loudly, not half-apply.
    return accessChangesResponse.parse(await res.json());
  };
}
