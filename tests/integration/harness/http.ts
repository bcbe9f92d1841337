// HTTP calls to the command service the way its clients make them (the CLI, the simulators): a Bearer token, a
// JSON body when there is one, a JSON answer. One helper for every integration harness.

export type JsonCall<B = unknown> = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: B }>;

/**
 * Calls to `base` with `token`. The answer must be JSON (a parse error fails the test) unless `lenient`, when an
 * answer that is not JSON comes back as its text.
 */
export function bearerJson<B = unknown>(
  base: string,
  token: string,
  opts: { lenient?: boolean } = {},
): JsonCall<B> {
  return async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!opts.lenient) return { status: res.status, body: (await res.json()) as B };
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed as B };
  };
}
