// Keeps docs/contract.md in step with services/contract: every field of every kind with its requiredness, JSON
// type, unit, range and description; every reason code and rule; the limits a device maker must know.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { DISTRICT_NAMES } from "../../services/contract/city.ts";
import { deviceRegistration } from "../../services/contract/devices.ts";
import { fieldMeta, type InfluxType } from "../../services/contract/fields.ts";
import {
  EARLIEST_TS_MS,
  MAX_BATCH_READINGS,
  MAX_FUTURE_SKEW_MS,
  MAX_MESSAGE_BYTES,
  MAX_VEHICLES_PER_SECOND,
  READING_SCHEMAS,
} from "../../services/contract/readings.ts";
import { FIELD_RULES, MESSAGE_REASONS } from "../../services/contract/reasons.ts";
import {
  CHANNELS,
  DEVICE_ID_PATTERN,
  DEVICE_KINDS,
  REGISTRY_CHANGED_TOPIC,
  TOPIC_ROOT,
} from "../../services/contract/topics.ts";
import { EXCERPT_CHARS } from "../../services/ingest/pipeline.ts";

const DOC = readFileSync(new URL("../../docs/contract.md", import.meta.url), "utf8");

/** The text from a `#…# title` heading up to the next heading of the same or a higher level. */
function section(title: string): string {
  const lines = DOC.split("\n");
  const start = lines.findIndex((l) => /^#{2,4} /.test(l) && l.replace(/^#+ /, "") === title);
  if (start < 0) throw new Error(`docs/contract.md has no heading "${title}"`);
  const level = (lines[start] as string).indexOf(" ");
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const m = /^(#+) /.exec(lines[i] as string);
    if (m && (m[1] as string).length <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start + 1, end).join("\n");
}

type Row = Record<string, string>;

/** The first Markdown table of a section, as rows keyed by the header cells. */
function firstTable(text: string): Row[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  if (start < 0) throw new Error("no table");
  const cells = (l: string) =>
    l
      .slice(1, -1)
      .split(" | ")
      .map((c) => c.trim());
  const header = cells(lines[start] as string);
  const rows: Row[] = [];
  for (let i = start + 2; i < lines.length && (lines[i] as string).startsWith("|"); i++) {
    const c = cells(lines[i] as string);
    expect(c, `row ${lines[i]}`).toHaveLength(header.length);
    rows.push(Object.fromEntries(header.map((h, j) => [h, c[j] as string])));
  }
  return rows;
}

const code = (cell: string | undefined) => /^`([^`]+)`$/.exec(cell ?? "")?.[1];

const JSON_TYPE: Record<InfluxType, string> = { float: "number", integer: "integer", boolean: "boolean" };

describe("docs/contract.md: reading fields", () => {
  describe.each(DEVICE_KINDS)("%s", (kind) => {
    const shape = READING_SCHEMAS[kind].shape as Record<string, z.ZodType>;
    const rows = firstTable(section(kind));
    const byName = new Map(rows.map((r) => [code(r.Field), r]));

    it("lists exactly the schema's fields, in the schema's order", () => {
      expect(rows.map((r) => code(r.Field))).toEqual(Object.keys(shape));
    });

    it.each(Object.keys(shape))("%s: required/optional as in the schema", (name) => {
      const schema = shape[name] as z.ZodType;
      expect(byName.get(name)?.Required).toBe(schema.safeParse(undefined).success ? "optional" : "required");
    });

    const metaFields = Object.keys(shape).filter((n) => fieldMeta(shape[n] as z.ZodType));
    it.each(metaFields)("%s: JSON type, unit, range and description match the metadata", (name) => {
      const meta = fieldMeta(shape[name] as z.ZodType);
      const row = byName.get(name);
      if (!meta || !row) throw new Error(`${name}: no metadata or no row`);
      expect(row["JSON type"]).toBe(JSON_TYPE[meta.influx]);
      expect(row.Unit).toBe(meta.unit === "" ? "—" : meta.unit);
      expect(row.Description).toContain(meta.description);
      if (meta.min === undefined && meta.max === undefined) {
        expect(row.Range).toBe("—");
      } else {
        const m = /^(-?[0-9.e+]+) – (-?[0-9.e+]+)$/.exec(row.Range ?? "");
        expect(m, `range cell "${row.Range}" is "min – max"`).not.toBeNull();
        expect(Number(m?.[1])).toBe(meta.min);
        expect(Number(m?.[2])).toBe(meta.max);
      }
    });

    it("ts (the point's time, no field metadata) documents its limits", () => {
      const row = byName.get("ts");
      expect(row?.Required).toBe("required");
      expect(row?.["JSON type"]).toBe("string or number");
      expect(row?.Range).toBe(
        `${new Date(EARLIEST_TS_MS).toISOString().slice(0, 10)} … now + ${MAX_FUTURE_SKEW_MS / 60_000} min`,
      );
    });
  });

  it("every field with metadata is documented (no kind left out)", () => {
    const documented = DEVICE_KINDS.flatMap((k) =>
      firstTable(section(k)).map((r) => `${k}.${code(r.Field)}`),
    );
    const inCode = DEVICE_KINDS.flatMap((k) => Object.keys(READING_SCHEMAS[k].shape).map((f) => `${k}.${f}`));
    expect(documented.sort()).toEqual(inCode.sort());
  });
});

describe("docs/contract.md: reason codes", () => {
  it("the message reasons table lists exactly MESSAGE_REASONS, with their meaning", () => {
    const rows = firstTable(section("Message reasons"));
    expect(rows.map((r) => code(r.Code)).sort()).toEqual(Object.keys(MESSAGE_REASONS).sort());
    for (const r of rows) {
      const reason = code(r.Code) as keyof typeof MESSAGE_REASONS;
      // The doc may format the topic pattern as code; compare without backticks.
      expect(r.Meaning?.replaceAll("`", "")).toBe(MESSAGE_REASONS[reason]);
    }
  });

  it("the rules table lists exactly FIELD_RULES, each with its meaning and an example `<field>.<rule>`", () => {
    const rows = firstTable(section("Reading reasons: `<field>.<rule>`"));
    expect(rows.map((r) => code(r.Rule)).sort()).toEqual(Object.keys(FIELD_RULES).sort());
    for (const r of rows) {
      const rule = code(r.Rule) as keyof typeof FIELD_RULES;
      expect(r.Meaning).toBe(FIELD_RULES[rule]);
      expect(r.Example, rule).toMatch(new RegExp(`\`[a-z0-9_]+\\.${rule}\``));
    }
  });

  it("every example code names a real field of some kind (or `reading`)", () => {
    const fields = new Set<string>(["reading"]);
    for (const k of DEVICE_KINDS) for (const f of Object.keys(READING_SCHEMAS[k].shape)) fields.add(f);
    const rules = Object.keys(FIELD_RULES).join("|");
    const codes = [...DOC.matchAll(new RegExp(`\`([a-z0-9_]+)\\.(${rules})\``, "g"))];
    expect(codes.length).toBeGreaterThan(10);
    for (const m of codes) expect(fields, m[0]).toContain(m[1]);
  });
});

describe("docs/contract.md: limits and topics", () => {
  it("states the limits the code enforces", () => {
    expect(DOC).toContain(`**${MAX_MESSAGE_BYTES / 1024} KiB**`);
    expect(DOC).toContain(`**1 to ${MAX_BATCH_READINGS}**`);
    expect(DOC).toContain(`**${MAX_VEHICLES_PER_SECOND} per second**`);
    expect(DOC).toContain(`at most **${EXCERPT_CHARS} characters**`);
    expect(DOC).toContain(`\`${DEVICE_ID_PATTERN.source}\``);
  });

  it("documents every channel and the platform topic", () => {
    for (const ch of CHANNELS) expect(DOC).toContain(`\`${TOPIC_ROOT}/{kind}/{deviceId}/${ch}\``);
    expect(DOC).toContain(`\`${REGISTRY_CHANGED_TOPIC}\``);
  });
});

describe("docs/contract.md: device registration", () => {
  it("lists every registration field and every district", () => {
    const rows = firstTable(section("10. Device registration"));
    expect(rows.map((r) => code(r.Field))).toEqual(Object.keys(deviceRegistration.shape));
    const district = rows.find((r) => code(r.Field) === "district")?.Rule ?? "";
    for (const name of DISTRICT_NAMES) expect(district).toContain(name);
  });
});
