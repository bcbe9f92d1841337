import { describe, expect, it } from "vitest";
import { InfluxHttpError } from "../../services/lib/influx/errors.ts";
import {
  bindParams,
  influxqlLiteral,
  isReadOnly,
  parseQueryResponse,
  rowsOf,
} from "../../services/lib/influx/query.ts";

describe("bindParams", () => {
  it("binds strings, numbers, booleans and dates as InfluxQL literals", () => {
    const q = bindParams("SELECT v FROM m WHERE dev = $dev AND v > $min AND ok = $ok AND time >= $since", {
      dev: "lamp-1",
      min: 2.5,
      ok: true,
      since: new Date("2024-01-02T03:04:05Z"),
    });
    expect(q).toBe(
      "SELECT v FROM m WHERE dev = 'lamp-1' AND v > 2.5 AND ok = true AND time >= '2024-01-02T03:04:05.000Z'",
    );
  });

  it("escapes quotes and backslashes so a value cannot end its string", () => {
    expect(bindParams("SELECT * FROM m WHERE d = $d", { d: "x' OR 1=1 --\\" })).toBe(
      "SELECT * FROM m WHERE d = 'x\\' OR 1=1 --\\\\'",
    );
  });

  it("leaves $ inside quoted strings and identifiers alone", () => {
    expect(bindParams(`SELECT "$v" FROM m WHERE t = 'it''s $x' AND d = $d`, { d: "a" })).toBe(
      `SELECT "$v" FROM m WHERE t = 'it''s $x' AND d = 'a'`,
    );
    expect(bindParams("SELECT * FROM m WHERE t = 'a\\'$x'")).toBe("SELECT * FROM m WHERE t = 'a\\'$x'");
  });

  it("refuses missing parameters and non-finite numbers", () => {
    expect(() => bindParams("SELECT * FROM m WHERE d = $d", {})).toThrow(/missing query parameter \$d/);
    expect(() => bindParams("SELECT $ FROM m")).toThrow(/bad parameter/);
    expect(() => influxqlLiteral(Number.NaN)).toThrow(RangeError);
  });
});

describe("parseQueryResponse", () => {
  it("returns every series of every statement", () => {
    const body = JSON.stringify({
      results: [
        {
          statement_id: 0,
          series: [{ name: "m", tags: { dev: "a" }, columns: ["time", "v"], values: [[1, 2]] }],
        },
        { statement_id: 1 },
        { statement_id: 2, series: [{ name: "databases", columns: ["name"], values: [["x"], ["y"]] }] },
      ],
    });
    const series = parseQueryResponse(200, body);
    expect(series).toEqual([
      { name: "m", tags: { dev: "a" }, columns: ["time", "v"], values: [[1, 2]] },
      { name: "databases", tags: {}, columns: ["name"], values: [["x"], ["y"]] },
    ]);
    expect(rowsOf(series)).toEqual([
      { _measurement: "m", dev: "a", time: 1, v: 2 },
      { _measurement: "databases", name: "x" },
      { _measurement: "databases", name: "y" },
    ]);
  });

  it("turns a statement error (sent with HTTP 200) into an InfluxHttpError with the server's words", () => {
    const body = JSON.stringify({ results: [{ statement_id: 0, error: "database not found: nope" }] });
    const err = (() => {
      try {
        parseQueryResponse(200, body);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InfluxHttpError);
    expect(err).toMatchObject({
      status: 200,
      body,
      message: expect.stringContaining("database not found: nope"),
    });
  });

  it("rejects a body that is not JSON", () => {
    expect(() => parseQueryResponse(502, "<html>bad gateway</html>")).toThrow(/HTTP 502: <html>bad gateway/);
  });
});

describe("isReadOnly", () => {
  it("sends reads as GET and everything else as POST", () => {
    expect(isReadOnly("SELECT * FROM m")).toBe(true);
    expect(isReadOnly("  show databases")).toBe(true);
    expect(isReadOnly("SELECT * INTO b FROM m")).toBe(false);
    expect(isReadOnly('CREATE DATABASE "x"')).toBe(false);
    expect(isReadOnly("DROP MEASUREMENT m")).toBe(false);
  });
});
