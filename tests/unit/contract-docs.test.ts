// Keeps docs/contract.md in step with the code: every field of every kind with its requiredness, JSON type, unit,
// range and description; every reason code and rule; the limits a device maker must know; the broker's refusals and
// CONNACK codes; every command and ack field; the registration, credentials, lifecycle and liveness tables; the
// commissioning checks; the platform topics. The doc's JSON examples are parsed with the contract's schemas.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { MAX_CLIENT_ID_LENGTH } from "../../services/broker/hooks/authenticate.ts";
import { BROKER_REASONS, type BrokerReason, connackCode } from "../../services/broker/hooks/reasons.ts";
import { CHECK_NAMES, checksFor } from "../../services/command/commissioning/checks.ts";
import {
  DIM_TOLERANCE_PCT,
  powerRange,
  TEST_DIM_PCT,
  TEST_DIM_READINGS,
} from "../../services/command/commissioning/streetlight.ts";
import { commandConfigSchema } from "../../services/command/config.ts";
import { credentials, MAX_BULK_DEVICES, MAX_BULK_ROTATE } from "../../services/command/routes/schemas.ts";
import { DEVICE_PUBLISH_CHANNELS, DEVICE_SUBSCRIBE_CHANNELS } from "../../services/contract/access.ts";
import { DISTRICT_NAMES } from "../../services/contract/city.ts";
import { ACK_REASONS, commandAck, deviceCommand } from "../../services/contract/commands.ts";
import {
  DEVICE_STATUSES,
  deviceRegistration,
  LIVENESS,
  SERVICE_PREFIX,
} from "../../services/contract/devices.ts";
import { COVERAGE, ENERGY_CSV_COLUMNS } from "../../services/contract/energy.ts";
import { fieldMeta, type InfluxType } from "../../services/contract/fields.ts";
import {
  INGEST_ACTIVITY_TOPIC,
  MAX_ACTIVITY_DEVICES,
  PRESENCE_ROOT,
  presenceEvent,
} from "../../services/contract/platform.ts";
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
  calendarAck,
  calendarAckId,
  calendarDocument,
  calendarRule,
  DELIVERY_STATES,
  FACTORY_CALENDAR,
  SCHEDULE_REJECT_REASONS,
  switchPoint,
} from "../../services/contract/schedule.ts";
import {
  CHANNELS,
  DEVICE_ID_PATTERN,
  DEVICE_KINDS,
  parseDeviceTopic,
  REGISTRY_CHANGED_TOPIC,
  TOPIC_ROOT,
} from "../../services/contract/topics.ts";
import { EXCERPT_CHARS } from "../../services/ingest/pipeline.ts";
import { generateSecret } from "../../services/lib/secrets.ts";

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

/** Every backticked token of a cell. */
const codes = (cell: string | undefined) =>
  [...(cell ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

/** The JSON examples (```json blocks) of a section, parsed. */
function jsonBlocks(text: string): unknown[] {
  return [...text.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1] as string));
}

/** Numbers as the doc writes them: 10 000, not 10000 (but 1000). */
const thousands = (n: number) => (n < 10_000 ? String(n) : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " "));

type JsonSchema = {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
};
const jsonSchemaOf = (s: z.ZodType) => z.toJSONSchema(s, { io: "input" }) as JsonSchema;

/** The Required cell of an envelope table: "required", "optional" or "optional (default X)". */
function requiredCell(s: z.ZodType): string {
  if (!s.safeParse(undefined).success) return "required";
  const d = jsonSchemaOf(s).default;
  return d === undefined ? "optional" : `optional (default ${d})`;
}

/** The Range cell of an envelope table, from the field's JSON schema. */
function rangeCell(js: JsonSchema): string {
  if (js.const !== undefined) return `\`${JSON.stringify(js.const)}\``;
  if (js.enum) return js.enum.map((v) => `\`${v}\``).join(", ");
  if (js.minimum !== undefined && js.maximum !== undefined) return `${js.minimum} – ${js.maximum}`;
  if (js.maxLength !== undefined)
    return js.minLength === undefined
      ? `≤ ${js.maxLength} characters`
      : `${js.minLength} – ${js.maxLength} characters`;
  return "—";
}

/** A table of Field | Required | JSON type | Range | Description against a zod object, field by field. */
function expectEnvelopeTable(rows: Row[], schema: z.ZodObject) {
  const shape = schema.shape as Record<string, z.ZodType>;
  expect(rows.map((r) => code(r.Field))).toEqual(Object.keys(shape));
  for (const r of rows) {
    const name = code(r.Field) as string;
    const field = shape[name] as z.ZodType;
    const js = jsonSchemaOf(field);
    expect(r.Required, name).toBe(requiredCell(field));
    expect(r["JSON type"], name).toBe(js.type);
    expect(r.Range, name).toBe(rangeCell(js));
    expect(r.Description, name).not.toBe("");
  }
}

const CONFIG = commandConfigSchema.parse({});

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

describe("docs/contract.md: connecting and the broker's refusals", () => {
  const refusals = firstTable(section("Broker refusal reasons"));
  const connack = firstTable(section("CONNACK return codes"));
  const ACTIONS = ["CONNECT", "PUBLISH", "SUBSCRIBE", "PUBLISH, SUBSCRIBE", "any"];

  it("the refusal table lists exactly BROKER_REASONS, with their meaning and the packet they refuse", () => {
    expect(refusals.map((r) => code(r.Reason)).sort()).toEqual(Object.keys(BROKER_REASONS).sort());
    for (const r of refusals) {
      const reason = code(r.Reason) as BrokerReason;
      expect(r.Meaning?.replaceAll("`", ""), reason).toBe(BROKER_REASONS[reason]);
      expect(ACTIONS, reason).toContain(r.Refused);
    }
  });

  it("each CONNACK return code lists the CONNECT refusals that get it, and every CONNECT refusal is listed", () => {
    const listed: string[] = [];
    for (const row of connack) {
      const rc = Number.parseInt(code(row.Code) ?? "", 16);
      for (const reason of codes(row.Reasons)) {
        expect(BROKER_REASONS, reason).toHaveProperty(reason);
        expect(connackCode(reason as BrokerReason), reason).toBe(rc);
        listed.push(reason);
      }
    }
    const atConnect = refusals
      .filter((r) => r.Refused === "CONNECT" || r.Refused === "any")
      .map((r) => code(r.Reason) as string);
    expect(listed.sort()).toEqual(atConnect.sort());
  });

  it("states the client id limit and the device's topics", () => {
    expect(section("CONNACK return codes")).toContain(
      `a client id of 1 to ${MAX_CLIENT_ID_LENGTH} characters`,
    );
    const text = section("Publishing and subscribing");
    for (const ch of [...DEVICE_PUBLISH_CHANNELS, ...DEVICE_SUBSCRIBE_CHANNELS])
      expect(text).toContain(`**\`${ch}\`**`);
    expect(text).toContain(`**${MAX_MESSAGE_BYTES / 1024} KiB**`);
  });

  it("states the secret's length", () => {
    expect(section("1. Connecting")).toContain(`${generateSecret().length} characters`);
  });
});

describe("docs/contract.md: commands and acknowledgements", () => {
  const commands = deviceCommand.options;

  it.each(commands.map((o) => [o.shape.cmd.value, o] as const))(
    "%s: every field with its requiredness, default, JSON type and range",
    (name, schema) => {
      expectEnvelopeTable(firstTable(section(`\`${name}\``)), schema);
    },
  );

  it("the acknowledgement: every field with its requiredness, JSON type and range", () => {
    expectEnvelopeTable(firstTable(section("Acknowledgement")), commandAck);
  });

  it("the ack reasons table lists exactly ACK_REASONS, with their meaning", () => {
    const rows = firstTable(section("Ack reasons"));
    expect(rows.map((r) => code(r.Code))).toEqual(Object.keys(ACK_REASONS));
    for (const r of rows) expect(r.Meaning).toBe(ACK_REASONS[code(r.Code) as keyof typeof ACK_REASONS]);
  });

  it("every example is a valid command or acknowledgement, and every command has one", () => {
    const examples = jsonBlocks(section("Command examples")) as Record<string, unknown>[];
    const sent = examples.filter((e) => "cmd" in e);
    const acks = examples.filter((e) => !("cmd" in e));
    for (const e of sent) expect(deviceCommand.safeParse(e).error).toBeUndefined();
    for (const e of acks) expect(commandAck.safeParse(e).error).toBeUndefined();
    expect(sent.map((e) => e.cmd).sort()).toEqual(commands.map((o) => o.shape.cmd.value).sort());
    expect(new Set(acks.map((a) => a.status))).toEqual(new Set(commandAck.shape.status.options));
  });

  it("states the ack timeout the command service waits", () => {
    expect(section("11. Commands and acknowledgements")).toContain(
      `${CONFIG.commissioning.ackTimeoutS} s by default (\`COMMISSIONING_ACK_TIMEOUT_S\`)`,
    );
  });
});

describe("docs/contract.md: commissioning checks", () => {
  const text = section("Commissioning checks");
  const rows = firstTable(text);

  it("lists every check in the order they run; the streetlight-only ones say so", () => {
    expect(rows.map((r) => code(r.Check))).toEqual(CHECK_NAMES);
    const everyKind = checksFor("airquality");
    expect(checksFor("traffic")).toEqual(everyKind);
    for (const r of rows) {
      const name = code(r.Check) as (typeof CHECK_NAMES)[number];
      expect(r["What the device must do"]?.startsWith("Streetlights:"), name).toBe(!everyKind.includes(name));
    }
  });

  it("states the defaults and the test dim's rule", () => {
    const c = CONFIG.commissioning;
    expect(text).toContain(
      `within ${c.connectTimeoutS} s of the start by default, \`COMMISSIONING_CONNECT_TIMEOUT_S\``,
    );
    expect(text).toContain(`**${c.readings}** valid readings (\`COMMISSIONING_READINGS\`)`);
    expect(text).toContain(`a \`dim\` to **${TEST_DIM_PCT} %**`);
    expect(text).toContain(`one of its next ${TEST_DIM_READINGS} readings`);
    expect(text).toContain(`\`dim_pct\` within ${DIM_TOLERANCE_PCT} points of ${TEST_DIM_PCT}`);
    const { min, max } = powerRange(60, TEST_DIM_PCT);
    const w = (x: number) => Number(x.toFixed(1));
    expect(text).toContain(`for a 60 W luminaire, ${w(min)} to ${w(max)} W`);
  });
});

describe("docs/contract.md: device registration", () => {
  const text = section("10. Device registration");
  const rows = firstTable(text);
  const shape = deviceRegistration.shape as Record<string, z.ZodType>;
  const example = jsonBlocks(text)[0] as Record<string, unknown>;

  it("lists every registration field and every district", () => {
    expect(rows.map((r) => code(r.Field))).toEqual(Object.keys(deviceRegistration.shape));
    const district = rows.find((r) => code(r.Field) === "district")?.Rule ?? "";
    for (const name of DISTRICT_NAMES) expect(district).toContain(name);
  });

  it("the example is a valid streetlight registration with every field", () => {
    expect(deviceRegistration.safeParse(example).error).toBeUndefined();
    expect(example.kind).toBe("streetlight");
    expect(Object.keys(example)).toEqual(Object.keys(shape));
  });

  it.each(Object.keys(shape))("%s: requiredness, type and rule as in the schema", (name) => {
    const row = rows.find((r) => code(r.Field) === name);
    const field = shape[name] as z.ZodType;
    const js = jsonSchemaOf(field);
    const { [name]: _, ...without } = example;
    const needed = deviceRegistration.safeParse(without).error?.issues.some((i) => i.path[0] === name);
    expect(row?.Required).toBe(
      !field.safeParse(undefined).success ? "required" : needed ? "streetlight: required" : "optional",
    );
    expect(row?.Type).toBe(js.type);
    // The rule's numbers, read as the doc writes them (−90, 86 400).
    const rule = row?.Rule ?? "";
    const numbers = (
      rule
        .replaceAll("−", "-")
        .replace(/(\d) (?=\d{3}\b)/g, "$1")
        .match(/-?\d+(\.\d+)?/g) ?? []
    ).map(Number);
    for (const bound of [js.minimum, js.maximum, js.exclusiveMinimum, js.minLength, js.maxLength])
      if (bound !== undefined) expect(numbers, `${name}: ${bound}`).toContain(bound);
    if (js.default !== undefined) expect(rule).toContain(`default ${js.default}`);
    if (js.pattern && js.format === undefined) expect(rule).toContain(`\`${js.pattern}\``);
    if (js.format === "date") expect(rule).toContain("YYYY-MM-DD");
    if (name === "kind") for (const k of DEVICE_KINDS) expect(rule).toContain(`\`${k}\``);
    if (name === "id") expect(rule).toContain(`\`${SERVICE_PREFIX}\``);
  });

  it("states the bulk limits and points to security.md and the OpenAPI document", () => {
    expect(text).toContain(`up to **${thousands(MAX_BULK_DEVICES)}** rows`);
    expect(text).toContain(`up to **${thousands(MAX_BULK_ROTATE)}** devices`);
    expect(text).toContain("(security.md)");
    expect(text).toContain("**`/docs`**");
    expect(text).toContain(`port ${CONFIG.http.port} by default`);
  });

  it("the credentials table lists every field of the answer, and the example is one", () => {
    const sec = section("Credentials");
    expect(firstTable(sec).map((r) => code(r.Field))).toEqual(Object.keys(credentials.shape));
    const ex = jsonBlocks(sec)[0] as z.infer<typeof credentials>;
    expect(credentials.safeParse(ex).error).toBeUndefined();
    expect(ex.secret).toHaveLength(generateSecret().length);
    expect([ex.client_id, ex.username]).toEqual([ex.id, ex.id]);
    const channels = (topics: string[]) =>
      topics.map((t) => {
        const p = parseDeviceTopic(t);
        expect(p.ok && p.deviceId, t).toBe(ex.id);
        return p.ok ? p.channel : undefined;
      });
    expect(channels(ex.topics.publish)).toEqual([...DEVICE_PUBLISH_CHANNELS]);
    expect(channels(ex.topics.subscribe)).toEqual([...DEVICE_SUBSCRIBE_CHANNELS]);
  });

  it("CSV import: the header names the registration's fields; the example's errors are the schema's", () => {
    const sec = section("CSV import");
    // The importer's CSV_COLUMNS (services/command/routes/import.ts) are the registration's fields.
    expect(sec).toContain(`\`${Object.keys(shape).join(",")}\``);
    expect(sec).toContain(`up to **${thousands(MAX_BULK_DEVICES)}** rows`);
    const csv = /```csv\n([\s\S]*?)\n```/.exec(sec)?.[1]?.split("\n") ?? [];
    const header = (csv[0] ?? "").split(",");
    const numeric = new Set(
      Object.keys(shape).filter((f) => /number|integer/.test(jsonSchemaOf(shape[f] as z.ZodType).type ?? "")),
    );
    const issues = csv.slice(1).flatMap((line, i) => {
      const cells = line.split(",");
      const row = Object.fromEntries(
        header
          .map((h, j) => [h, cells[j] ?? ""] as const)
          .filter(([, c]) => c !== "")
          .map(([h, c]) => [h, numeric.has(h) && Number.isFinite(Number(c)) ? Number(c) : c]),
      );
      return (deviceRegistration.safeParse(row).error?.issues ?? []).map((issue) => ({
        line: i + 2,
        id: row.id,
        field: issue.path.join("."),
        message: issue.message,
      }));
    });
    const answer = jsonBlocks(sec)[0] as { issues: unknown[] };
    expect(answer.issues).toEqual(issues);
  });

  it("the lifecycle table lists DEVICE_STATUSES, the liveness table LIVENESS with its meaning", () => {
    expect(firstTable(section("Lifecycle")).map((r) => code(r.Status))).toEqual([...DEVICE_STATUSES]);
    const liveness = firstTable(section("Liveness"));
    expect(liveness.map((r) => code(r.Liveness))).toEqual(Object.keys(LIVENESS));
    for (const r of liveness) expect(r.Meaning).toBe(LIVENESS[code(r.Liveness) as keyof typeof LIVENESS]);
    expect(section("Liveness")).toContain(
      `\`SILENT_AFTER_INTERVALS\` (${CONFIG.liveness.silentAfterIntervals})`,
    );
  });
});

describe("docs/contract.md: platform topics", () => {
  const text = section("12. Platform topics (services only)");

  it("lists every platform topic, every presence reason, and a valid presence event", () => {
    expect(text).toContain(`\`${PRESENCE_ROOT}/{kind}/{deviceId}\``);
    expect(text).toContain(`\`${INGEST_ACTIVITY_TOPIC}\``);
    expect(text).toContain(`\`${REGISTRY_CHANGED_TOPIC}\``);
    expect(text).toContain(`at most ${MAX_ACTIVITY_DEVICES} devices per message`);
    for (const reason of presenceEvent.shape.reason.unwrap().options) expect(text).toContain(`\`${reason}\``);
    for (const e of jsonBlocks(text)) expect(presenceEvent.safeParse(e).error).toBeUndefined();
  });
});

describe("docs/contract.md: dimming schedules", () => {
  it("the switch point, rule, document and ack tables list every field with its requiredness, type and range", () => {
    expectEnvelopeTable(firstTable(section("Switch point")), switchPoint);
    expectEnvelopeTable(firstTable(section("Calendar rule")), calendarRule);
    expectEnvelopeTable(firstTable(section("Calendar document")), calendarDocument);
    expectEnvelopeTable(firstTable(section("Calendar acknowledgement")), calendarAck);
  });

  it("the reject reasons and delivery states tables list exactly the contract's, with their meaning", () => {
    const reasons = firstTable(section("Schedule reject reasons"));
    expect(reasons.map((r) => code(r.Code))).toEqual(Object.keys(SCHEDULE_REJECT_REASONS));
    for (const r of reasons)
      expect(r.Meaning).toBe(SCHEDULE_REJECT_REASONS[code(r.Code) as keyof typeof SCHEDULE_REJECT_REASONS]);
    const states = firstTable(section("Delivery states"));
    expect(states.map((r) => code(r.State))).toEqual([...DELIVERY_STATES]);
  });

  it("the example document and acknowledgements are valid, and the ack id is calendar-{version}", () => {
    const examples = [
      ...jsonBlocks(section("Calendar document")),
      ...jsonBlocks(section("Calendar acknowledgement")),
    ] as Record<string, unknown>[];
    const docs = examples.filter((e) => "programs" in e);
    const acks = examples.filter((e) => !("programs" in e));
    expect(docs).toHaveLength(1);
    expect(calendarDocument.safeParse(docs[0]).error).toBeUndefined();
    for (const a of acks) {
      expect(calendarAck.safeParse(a).error).toBeUndefined();
      expect(a.id).toBe(calendarAckId(a.version as number));
    }
    expect(new Set(acks.map((a) => a.status))).toEqual(new Set(calendarAck.shape.status.options));
  });

  it("describes the factory default program as the contract defines it", () => {
    const points = FACTORY_CALENDAR.programs[FACTORY_CALENDAR.default_program]?.switch_points ?? [];
    const words = points.map((p) =>
      p.level_pct === 0 ? `off from ${p.at}` : `${p.level_pct} % from ${p.at}`,
    );
    expect(section("13. Dimming schedules").replace(/\s+/g, " ")).toContain(words.join(", "));
  });
});

describe("docs/contract.md: energy and savings reports", () => {
  it("the coverage table lists exactly COVERAGE, with its meaning", () => {
    const rows = firstTable(section("Coverage"));
    expect(rows.map((r) => code(r.Coverage))).toEqual(Object.keys(COVERAGE));
    for (const r of rows) expect(r.Meaning).toBe(COVERAGE[code(r.Coverage) as keyof typeof COVERAGE]);
  });

  it.each(["lamps", "days"] as const)("the %s CSV table lists exactly its columns, in order", (table) => {
    const rows = firstTable(section(table));
    expect(rows.map((r) => code(r.Column))).toEqual(ENERGY_CSV_COLUMNS[table].map((c) => c.name));
    for (const [i, r] of rows.entries()) expect(r.Meaning).toBe(ENERGY_CSV_COLUMNS[table][i]?.description);
  });

  it("states the gap and estimate limits and the tariff and grid factor the config defaults to", () => {
    const text = section("14. Energy and savings reports");
    for (const s of [
      "`ENERGY_GAP_S` (3600 s)",
      "`ENERGY_ESTIMATE_MAX_H` (72 h)",
      "1.28",
      "0.70",
      "Africa/Casablanca",
    ])
      expect(text).toContain(s);
  });
});
