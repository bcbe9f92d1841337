// CSV as the platform reads it (the token file, the device import): a header row and records, cells trimmed, empty
// lines skipped, each record with the line it ends on so that a problem can name it. The callers check the
// header and the records' width with their own rules and words.
import { parse } from "csv-parse/sync";

export type CsvRecord = { line: number; cells: string[] };
export type CsvTable = { ok: true; header: CsvRecord | undefined; rows: CsvRecord[] };
/** The text is not CSV (an unclosed quote, …): where the parser stopped, and its message. */
export type CsvError = { ok: false; line: number; message: string };

/** `comment`: a line starting with it is skipped (the token file's "#"). */
export function parseCsv(text: string, opts: { comment?: string } = {}): CsvTable | CsvError {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      comment: opts.comment,
      info: true,
      relax_column_count: true,
    }) as unknown as typeof records; // info: true gives {record, info}
  } catch (err) {
    const e = err as Error & { lines?: number };
    return { ok: false, line: e.lines ?? 1, message: e.message };
  }
  const [header, ...rows] = records.map(({ record, info }) => ({ line: info.lines, cells: record }));
  return { ok: true, header, rows };
}
