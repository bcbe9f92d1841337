// The energy report's CSV opened by a real spreadsheet (issue 5: "CSV that opens as expected in a spreadsheet
// (header, units, decimal point)"): the API's CSV tables written to a temp dir, converted by LibreOffice Calc
// headless to flat ODF (.fods, installed on demand by scripts/libreoffice/soffice.ts), the XML read back cell by
// cell: the header texts, numbers as office:value-type="float" with the API's values, dates as dates, empty cells
// where the report has null, "Ben M'Sick" and accented names intact, and no cell shifted.
//
// LibreOffice's headless import does not look at the byte-order mark: it is told what its Text Import dialog
// asks (comma, double quote, UTF-8, from line 1; filter options 44,34,76,1). In a locale with a decimal comma
// (fr_FR) the import language must be English (USA), option 1033, or "0.0019" stays text: the test checks both,
// as docs/cli.md tells an energy manager.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convertWithSoffice, ensureSoffice } from "../../scripts/libreoffice/soffice.ts";
import { ENERGY_CSV_COLUMNS, type EnergyReport } from "../../services/contract/energy.ts";
import { type EnergyReportApp, sameDays, startEnergyReportApp } from "./energy-report-app.ts";

const NOW = Date.parse("2026-11-23T06:00:00Z");
const BEN_MSICK = "Ben M'Sick";
const GROUP_NAME = "Rue d'Été – côté Ben M'Sick";
const CSV_IMPORT = "Text - txt - csv (StarCalc):44,34,76,1";

type Cell = { type: string | null; value: string | null; date: string | null; text: string };

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const decode = (s: string) =>
  s
    .replace(/<text:s text:c="(\d+)"\/>/g, (_, n: string) => " ".repeat(Number(n)))
    .replace(/<text:s\/>/g, " ")
    .replace(/<[^>]+>/g, "")
    .replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e] as string)
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));

/** The first sheet's rows of a flat ODF spreadsheet, repeated cells expanded, trailing empty cells dropped. */
function sheetRows(fods: string): Cell[][] {
  const table = fods.slice(fods.indexOf("<table:table "), fods.indexOf("</table:table>"));
  const rows: Cell[][] = [];
  for (const row of table.matchAll(/<table:table-row\b[^>]*?(?:\/>|>([\s\S]*?)<\/table:table-row>)/g)) {
    const cells: Cell[] = [];
    for (const c of (row[1] ?? "").matchAll(
      /<table:(table-cell|covered-table-cell)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/table:\1>)/g,
    )) {
      const attrs = Object.fromEntries(
        [...(c[2] ?? "").matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]]),
      );
      const text = [...(c[3] ?? "").matchAll(/<text:p>([\s\S]*?)<\/text:p>/g)]
        .map((p) => decode(p[1] ?? ""))
        .join("\n");
      const cell: Cell = {
        type: attrs["office:value-type"] ?? null,
        value: attrs["office:value"] ?? null,
        date: attrs["office:date-value"] ?? null,
        text,
      };
      const repeat = Number(attrs["table:number-columns-repeated"] ?? 1);
      for (let i = 0; i < Math.min(repeat, 100); i++) cells.push(cell);
    }
    while (cells.length > 0 && cells.at(-1)?.type === null && cells.at(-1)?.text === "") cells.pop();
    if (cells.length > 0) rows.push(cells);
  }
  return rows;
}

let api: EnergyReportApp;
let soffice: string;
let dir: string;
let lampsReport: EnergyReport;
let groupReport: EnergyReport;
const sheets = new Map<string, Cell[][]>();

async function download(query: string, name: string): Promise<string> {
  const res = await api.get(`/v1/energy/report?${query}`);
  expect(res.status, res.text).toBe(200);
  const path = join(dir, name);
  writeFileSync(path, res.bytes);
  return path;
}

beforeAll(async () => {
  // Installing LibreOffice Calc (Debian's libreoffice-calc-nogui) on a fresh machine takes a few minutes.
  soffice = await ensureSoffice();
  dir = mkdtempSync(join(tmpdir(), "energy-csv-"));
  api = await startEnergyReportApp({ nowMs: NOW });
  const lamp = (id: string, legacy: number, led: number) => ({
    id,
    kind: "streetlight",
    district: BEN_MSICK,
    lat: 33.56,
    lon: -7.57,
    installed_at: "2025-06-01",
    legacy_watts: legacy,
    led_watts: led,
  });
  api.register([lamp("sl-b1", 295, 90), lamp("sl-b2", 170, 60), lamp("sl-b3", 170, 60)]);
  api.group("rue-ete", GROUP_NAME, ["sl-b1", "sl-b3"]);
  const night = { darkS: 43_200, meteredS: 86_400, litS: 43_200, readings: 144 };
  api.rows(
    "sl-b1",
    295,
    90,
    sameDays("2026-10-01", "2026-10-31", { ...night, meteredWh: 810 }),
    NOW - 60_000,
  );
  api.rows(
    "sl-b3",
    170,
    60,
    sameDays("2026-10-01", "2026-10-15", { ...night, meteredWh: 300, gaps: 1 }),
    Date.parse("2026-10-16T00:00:00Z"),
  );
  lampsReport = (await api.get(`/v1/energy/report?district=${encodeURIComponent(BEN_MSICK)}&period=2026-10`))
    .body as EnergyReport;
  groupReport = (await api.get("/v1/energy/report?group=rue-ete&period=2026-10")).body as EnergyReport;

  const district = `district=${encodeURIComponent(BEN_MSICK)}&period=2026-10&format=csv`;
  const inputs = [
    await download(`${district}&table=lamps`, "lamps.csv"),
    await download(`${district}&table=days`, "days.csv"),
    await download("group=rue-ete&period=2026-10&format=csv&table=summary", "summary.csv"),
  ];
  const profileDir = join(dir, "home");
  const en = await convertWithSoffice({
    soffice,
    inputs,
    outDir: join(dir, "en"),
    to: "fods",
    profileDir,
    infilter: CSV_IMPORT,
    env: { LC_ALL: "C.UTF-8", LANG: "C.UTF-8" },
  });
  for (const [i, name] of ["lamps", "days", "summary"].entries())
    sheets.set(name, sheetRows(readFileSync(en[i] as string, "utf8")));
  // A French desktop: decimal comma, so the import language is set to English (USA) for the decimal point.
  const [fr] = await convertWithSoffice({
    soffice,
    inputs: [inputs[0] as string],
    outDir: join(dir, "fr"),
    to: "fods",
    profileDir,
    infilter: `${CSV_IMPORT},,1033`,
    env: { LC_ALL: "fr_FR.UTF-8", LANG: "fr_FR.UTF-8" },
  });
  sheets.set("lamps-fr", sheetRows(readFileSync(fr as string, "utf8")));
}, 900_000);

afterAll(async () => {
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const TEXT_COLUMNS = new Set(["lamp_id", "district", "date"]);

/** Every cell of a data row where its column says: text, a float equal to the JSON's value, or empty for null. */
function expectRowMatches(
  row: Cell[],
  columns: readonly string[],
  values: Record<string, unknown>,
  label: string,
) {
  expect(row.length, label).toBeLessThanOrEqual(columns.length);
  columns.forEach((col, i) => {
    const cell = row[i] ?? { type: null, value: null, date: null, text: "" };
    const v = values[col === "lamp_id" ? "id" : col];
    const where = `${label} ${col}`;
    if (col === "date") expect([cell.type, cell.date], where).toEqual(["date", v]);
    else if (TEXT_COLUMNS.has(col)) expect([cell.type, cell.text], where).toEqual(["string", v]);
    else if (v === null) expect([cell.type, cell.text], where).toEqual([null, ""]);
    else {
      expect(cell.type, where).toBe("float");
      expect(Number(cell.value), where).toBe(v);
    }
  });
}

describe("LibreOffice Calc reads the report's CSV", () => {
  it("lamps: the header texts, floats with the API's values, Ben M'Sick intact, nothing shifted", () => {
    const rows = sheets.get("lamps") as Cell[][];
    const columns = ENERGY_CSV_COLUMNS.lamps.map((c) => c.name);
    expect(rows[0]?.map((c) => [c.type, c.text])).toEqual(columns.map((n) => ["string", n]));
    expect(rows).toHaveLength(1 + lampsReport.lamps.length);
    lampsReport.lamps.forEach((lamp, i) => {
      expectRowMatches(rows[i + 1] as Cell[], columns, lamp as unknown as Record<string, unknown>, lamp.id);
    });
    // By hand: sl-b1 over October, 295 → 90 W, 12 h nights, 810 Wh a day: baseline 109.74 kWh, savings 77.12 %.
    const b1 = rows[1] as Cell[];
    expect([b1[1]?.text, b1[5]?.value, b1[10]?.value, b1[14]?.value]).toEqual([
      BEN_MSICK,
      "109.74",
      "77.12",
      "0.0592",
    ]);
    // sl-b2 never reported: no savings percentage (an empty cell), and the cells after it stay in their columns.
    const b2 = rows[2] as Cell[];
    expect([b2[0]?.text, b2[10]?.type, b2[17]?.value, b2[20]?.type]).toEqual(["sl-b2", null, "744", "float"]);
  });

  it("days: local dates as dates, numbers as floats", () => {
    const rows = sheets.get("days") as Cell[][];
    const columns = ENERGY_CSV_COLUMNS.days.map((c) => c.name);
    expect(rows[0]?.map((c) => c.text)).toEqual(columns);
    expect(rows).toHaveLength(32);
    lampsReport.series.forEach((day, i) => {
      expectRowMatches(rows[i + 1] as Cell[], columns, day as unknown as Record<string, unknown>, day.date);
    });
  });

  it("summary: key, value, unit; the accented group name and the method texts whole in one cell each", () => {
    const rows = sheets.get("summary") as Cell[][];
    expect(rows[0]?.map((c) => c.text)).toEqual(["key", "value", "unit"]);
    expect(rows.every((r) => r.length <= 3)).toBe(true);
    const byKey = new Map(rows.slice(1).map((r) => [r[0]?.text, r.slice(1)]));
    expect(byKey.get("scope.name")?.[0]?.text).toBe(GROUP_NAME);
    for (const k of ["protocol", "baseline", "reporting", "savings", "burning_hours"] as const)
      expect(byKey.get(`method.${k}`)?.[0]?.text, k).toBe(groupReport.method[k]);
    const baseline = byKey.get("totals.baseline_kwh");
    expect([baseline?.[0]?.type, Number(baseline?.[0]?.value), baseline?.[1]?.text]).toEqual([
      "float",
      groupReport.totals.baseline_kwh,
      "kWh",
    ]);
    const tariff = byKey.get("method.tariff_mad_per_kwh");
    expect([tariff?.[0]?.value, tariff?.[1]?.text]).toEqual(["1.28", "MAD/kWh"]);
    const why = byKey.get("completeness.responsible.sl-b3.why")?.[0]?.text;
    expect(why).toBe(groupReport.completeness.responsible.find((l) => l.id === "sl-b3")?.why);
    expect(why).toMatch(/silent since 2026-10-16 00:00/);
  });

  it("on a French desktop with the import language English (USA), the decimal point still reads as numbers", () => {
    const en = sheets.get("lamps") as Cell[][];
    const fr = sheets.get("lamps-fr") as Cell[][];
    expect(fr.map((r) => r.map((c) => [c.type, c.value, c.date]))).toEqual(
      en.map((r) => r.map((c) => [c.type, c.value, c.date])),
    );
    // Shown with the locale's comma, stored as the same number.
    expect(fr[1]?.[14]?.text).toBe("0,0592");
  });
});
