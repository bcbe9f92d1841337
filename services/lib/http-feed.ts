// A change feed read over HTTP: GET {baseUrl}{path}?since=N&limit=M with the service's bearer token, the answer
// validated with the contract's schema. The broker's access feed (services/broker/access/feed.ts) and the ingest's
// registry feed (services/registry/cache.ts) are both this.
import type { z } from "zod";

/** A feed as a function, so that a cache is tested with a plain function and no HTTP. */
export type Feed<Page> = (since: number, limit: number) => Promise<Page>;

/** An HTTP error of a feed; `status` 401/403 means the token is wrong (configuration), not that the feed is down. */
export class FeedError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = "FeedError";
    this.status = status;
  }
}

export type HttpFeedOptions<Page> = {
  baseUrl: string;
  /** The feed's path, e.g. /v1/access/changes. */
  path: string;
  /** Empty: no authorization header (a command service with authentication off). */
  token: string;
  schema: z.ZodType<Page>;
  timeoutMs: number;
};

export function httpFeed<Page>(opts: HttpFeedOptions<Page>): Feed<Page> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return async (since, limit) => {
    const url = new URL(opts.path, opts.baseUrl);
    url.searchParams.set("since", String(since));
    url.searchParams.set("limit", String(limit));
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(opts.timeoutMs) });
    if (!res.ok) {
      const body = (await res.text()).slice(0, 300);
      throw new FeedError(`feed ${url.origin}${url.pathname}: HTTP ${res.status} ${body}`, res.status);
    }
    // Validated: what a feed says decides who may connect and which readings are kept, so a malformed answer
    // must fail loudly, not half-apply.
    return opts.schema.parse(await res.json());
  };
}
