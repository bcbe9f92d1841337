// The CLI's watchers driven without a command service: an API client that answers from a script, and a context
// whose sleep only moves a fake clock (STYLE.md habit 8), its output collected.
import type { Context } from "../../services/cli/context.ts";
import type { ApiClient, Outcome } from "../../services/cli/http.ts";

/** Answers each request with the next outcome; then "unreachable" (calling `onEmpty` first). Records the requests. */
export function scripted(outcomes: Outcome<unknown>[], onEmpty?: () => void) {
  const requests: string[] = [];
  const api: ApiClient = {
    url: "http://api",
    async request<T>(method: string, path: string) {
      requests.push(`${method} ${path}`);
      const next = outcomes.shift();
      if (!next) {
        onEmpty?.();
        return { kind: "unreachable", message: "script ended" } as Outcome<T>;
      }
      return next as Outcome<T>;
    },
  };
  return { api, requests };
}

/** A context at `startMs` whose sleep advances its clock at once; what it prints is in `out` and `err`. */
export function fakeContext(api: ApiClient, startMs: number, signal = new AbortController().signal) {
  const out: string[] = [];
  const err: string[] = [];
  let clock = startMs;
  const ctx: Context = {
    api,
    config: { url: "http://api", urlSource: "--url", token: "t", tokenSource: "--token" },
    io: { out: (t) => out.push(t), err: (t) => err.push(t) },
    now: () => new Date(clock),
    cwd: "/",
    signal,
    sleep: async (ms) => {
      clock += ms;
    },
    invocation: "devices",
  };
  return { ctx, out, err };
}

export const ok = (body: unknown): Outcome<unknown> => ({ kind: "ok", status: 200, body });
