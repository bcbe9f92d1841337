import type { SendOptions, Transport } from "@influxdata/influxdb-client";
import { describe, expect, it } from "vitest";
import { authHeader } from "../../services/lib/influx/http.ts";
import { rewriteWritePath, splitBucket, v1WriteTransport } from "../../services/lib/influx/v1-transport.ts";

describe("rewriteWritePath", () => {
  it("maps the client's 2.x write path to 1.x /write with db and precision", () => {
    expect(rewriteWritePath("/api/v2/write?org=city&bucket=telemetry&precision=ns")).toBe(
      "/write?db=telemetry&precision=n",
    );
    expect(rewriteWritePath("/api/v2/write?org=city&bucket=telemetry&precision=ms")).toBe(
      "/write?db=telemetry&precision=ms",
    );
    expect(rewriteWritePath("/api/v2/write?org=&bucket=t&precision=us")).toBe("/write?db=t&precision=u");
  });

  it("splits an encoded db/rp bucket into db and rp", () => {
    expect(rewriteWritePath("/api/v2/write?org=city&bucket=telemetry%2Fone_week&precision=s")).toBe(
      "/write?db=telemetry&rp=one_week&precision=s",
    );
  });

  it("re-encodes names that need it and keeps consistency", () => {
    expect(rewriteWritePath("/api/v2/write?org=o&bucket=my%20db&precision=ms&consistency=all")).toBe(
      "/write?db=my+db&precision=ms&consistency=all",
    );
  });

  it("leaves every other path alone", () => {
    for (const p of ["/query?db=x&q=SHOW", "/ping", "/api/v2/writes?bucket=x", "/api/v2/buckets"]) {
      expect(rewriteWritePath(p)).toBe(p);
    }
  });
});

describe("splitBucket", () => {
  it("treats the part after the first slash as the retention policy", () => {
    expect(splitBucket("telemetry")).toEqual({ db: "telemetry" });
    expect(splitBucket("telemetry/autogen")).toEqual({ db: "telemetry", rp: "autogen" });
    expect(splitBucket("telemetry/")).toEqual({ db: "telemetry" });
  });
});

describe("v1WriteTransport", () => {
  it("forwards send/request/iterate to the inner transport with rewritten paths", async () => {
    const seen: string[] = [];
    const inner: Transport = {
      chunkCombiner: {} as Transport["chunkCombiner"],
      send: (path) => {
        seen.push(`send ${path}`);
      },
      request: async (path) => {
        seen.push(`request ${path}`);
      },
      iterate: async function* (path) {
        seen.push(`iterate ${path}`);
        yield new Uint8Array(0);
      },
    };
    const t = v1WriteTransport(inner);
    const opts: SendOptions = { method: "POST" };
    t.send("/api/v2/write?org=o&bucket=b&precision=ns", "m v=1", opts);
    await t.request("/api/v2/write?org=o&bucket=b&precision=ms", "m v=1", opts);
    for await (const _ of t.iterate("/query?q=x", "", opts)) {
      // drain
    }
    expect(seen).toEqual([
      "send /write?db=b&precision=n",
      "request /write?db=b&precision=ms",
      "iterate /query?q=x",
    ]);
    expect(t.chunkCombiner).toBe(inner.chunkCombiner);
  });
});

describe("authHeader", () => {
  it("sends 1.x user:password as HTTP Basic and tokens as Token", () => {
    expect(authHeader(1, "")).toEqual({});
    expect(authHeader(1, "admin:s3cret")).toEqual({ authorization: `Basic ${btoa("admin:s3cret")}` });
    expect(authHeader(undefined, "admin:s3cret").authorization).toMatch(/^Basic /);
    expect(authHeader(2, "abc==")).toEqual({ authorization: "Token abc==" });
    expect(authHeader(3, "apiv3_x")).toEqual({ authorization: "Token apiv3_x" });
  });
});
