// The CLI's HTTP client: what it sends (token, JSON or CSV body, query), and how answers become values: ok,
// refused (the API's {error, message, issues}, or a stranger's page), unreachable. A stub fetch, no network.
import { describe, expect, it } from "vitest";
import { createClient } from "../../services/cli/http.ts";

type Sent = { url: string; method: string; headers: Record<string, string>; body: string | undefined };

function stub(answer: () => Response | Promise<Response>) {
  const sent: Sent[] = [];
  const fetch = (async (input: URL | string, init: RequestInit = {}) => {
    sent.push({
      url: String(input),
      method: init.method ?? "GET",
      headers: init.headers as Record<string, string>,
      body: init.body as string | undefined,
    });
    return answer();
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

describe("createClient", () => {
  it("sends the bearer token, a JSON body and the query, and answers the parsed body", async () => {
    const { fetch, sent } = stub(() => json(201, { device: { id: "sl-1" } }));
    const api = createClient({ url: "http://api:8080/base", token: "cst_x", fetch });
    const res = await api.request("POST", "/v1/devices", {
      body: { id: "sl-1" },
      query: { a: 1, b: undefined },
    });
    expect(res).toEqual({ kind: "ok", status: 201, body: { device: { id: "sl-1" } } });
    expect(sent[0]).toMatchObject({
      url: "http://api:8080/base/v1/devices?a=1",
      method: "POST",
      headers: { authorization: "Bearer cst_x", "content-type": "application/json" },
      body: '{"id":"sl-1"}',
    });
  });

  it("sends CSV as it is, and no authorization header without a token", async () => {
    const { fetch, sent } = stub(() => json(200, { created: 1 }));
    await createClient({ url: "http://api", token: null, fetch }).request("POST", "/v1/devices/import", {
      body: "id,kind\nx,y\n",
      contentType: "text/csv",
    });
    expect(sent[0]?.headers).toEqual({ accept: "application/json", "content-type": "text/csv" });
    expect(sent[0]?.body).toBe("id,kind\nx,y\n");
  });

  it("turns the API's refusals into values with their issues and retry-after", async () => {
    const body = {
      error: "validation_failed",
      message: "bad",
      issues: [{ field: "lat", message: "too big", line: 3 }],
    };
    const api = createClient({ url: "http://api", token: "t", fetch: stub(() => json(400, body)).fetch });
    expect(await api.request("GET", "/x")).toEqual({
      kind: "refused",
      status: 400,
      error: body,
      retryAfter: null,
    });
    const limited = createClient({
      url: "http://api",
      token: "t",
      fetch: stub(() => json(429, { error: "rate_limited", message: "slow down" }, { "retry-after": "7" }))
        .fetch,
    });
    expect(await limited.request("GET", "/x")).toEqual({
      kind: "refused",
      status: 429,
      error: { error: "rate_limited", message: "slow down", issues: [] },
      retryAfter: "7",
    });
  });

  it("reads a proxy's HTML error page as a refusal too", async () => {
    const api = createClient({
      url: "http://api",
      token: "t",
      fetch: stub(() => new Response("<html>Bad Gateway</html>", { status: 502 })).fetch,
    });
    expect(await api.request("GET", "/x")).toMatchObject({
      kind: "refused",
      status: 502,
      error: { error: "http_502", message: "<html>Bad Gateway</html>", issues: [] },
    });
  });

  it("says the service is unreachable, with the cause", async () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    const api = createClient({
      url: "http://127.0.0.1:9",
      token: "t",
      fetch: stub(() => Promise.reject(refused)).fetch,
    });
    expect(await api.request("GET", "/x")).toEqual({
      kind: "unreachable",
      message: "cannot reach the command service at http://127.0.0.1:9 (ECONNREFUSED)",
    });
  });
});
