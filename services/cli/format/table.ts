// Plain-text tables and key/value blocks for a terminal (no colours: output is often pasted into tickets).

/** Left-aligned columns separated by two spaces; the header in capitals. Cells are single-line. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = rows.map((r) => headers.map((_, i) => oneLine(r[i] ?? "")));
  const widths = headers.map((h, i) => Math.max(h.length, ...clean.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...clean.map(line)].join("\n");
}

/** "  label     value" lines, labels padded to the longest; rows with an undefined value are left out. */
export function fields(rows: readonly (readonly [string, string | undefined])[], indent = "  "): string {
  const kept = rows.filter((r): r is readonly [string, string] => r[1] !== undefined);
  const width = Math.max(0, ...kept.map(([k]) => k.length));
  return kept.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`).join("\n");
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** Cuts text to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** "3 devices", "1 device". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
