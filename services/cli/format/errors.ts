// API refusals and unreachable services in words: the API's error code and message, each issue's field (and
// CSV line), and for a refused token where that token came from.
import type { ApiErrorBody, ApiIssue } from "../api-types.ts";
import type { CliConfig } from "../config.ts";
import { oneLine, plural, truncate } from "./table.ts";

/** "lat (line 4, sl-anfa-0003): must be a number" */
export function formatIssue(issue: ApiIssue): string {
  const where = [
    issue.line !== undefined ? `line ${issue.line}` : undefined,
    issue.line === undefined && issue.index !== undefined ? `row ${issue.index + 1}` : undefined,
    issue.id,
  ].filter(Boolean);
  const field = issue.field ?? "";
  const head = `${field}${where.length > 0 ? ` (${where.join(", ")})` : ""}`;
  return head ? `${head}: ${issue.message}` : issue.message;
}

export function formatRefusal(
  status: number,
  error: ApiErrorBody,
  config: Pick<CliConfig, "tokenSource">,
  retryAfter: string | null = null,
): string {
  const lines = [
    `error: ${error.error}${error.message ? ` (HTTP ${status}): ${error.message}` : ` (HTTP ${status})`}`,
  ];
  for (const issue of error.issues) lines.push(`  ${formatIssue(issue)}`);
  if (status === 401) lines.push(tokenHint(config.tokenSource));
  // A 403 often means the wrong token was picked up (CITY_API_TOKEN set to an engineer's for `tokens …`).
  if (status === 403) lines.push(`  the token came from ${describeSource(config.tokenSource)}`);
  if (status === 429 && retryAfter) lines.push(`  try again in ${retryAfter} s`);
  return lines.join("\n");
}

function describeSource(tokenSource: string): string {
  return tokenSource === "--token" || tokenSource === "CITY_API_TOKEN"
    ? tokenSource
    : `the file ${tokenSource}`;
}

/** Says which token the API refused, and how to give another. */
export function tokenHint(tokenSource: string): string {
  if (tokenSource === "none") {
    return "  no token was sent: pass --token, set CITY_API_TOKEN, or run `npm start` once to create .data/secrets/";
  }
  return `  the token came from ${describeSource(tokenSource)}; check it, or pass another with --token or CITY_API_TOKEN`;
}

/**
 * The per-row report of a refused CSV import: each bad line with its text, then its fields at fault.
 * Issues without a line number (a request-level problem) come first.
 */
export function formatRowErrors(issues: readonly ApiIssue[], csv: string, file: string): string {
  const lines = csv.split(/\r?\n/);
  const byLine = new Map<number, ApiIssue[]>();
  const general: ApiIssue[] = [];
  for (const issue of issues) {
    if (issue.line === undefined) general.push(issue);
    else byLine.set(issue.line, [...(byLine.get(issue.line) ?? []), issue]);
  }
  const out: string[] = [];
  for (const issue of general) out.push(`  ${formatIssue(issue)}`);
  for (const [line, list] of [...byLine].sort((a, b) => a[0] - b[0])) {
    const text = lines[line - 1];
    out.push(`  ${file}:${line}${text === undefined ? "" : `  ${truncate(oneLine(text), 100)}`}`);
    for (const issue of list) out.push(`    ${issue.field ?? "(row)"}: ${issue.message}`);
  }
  const count = byLine.size > 0 ? ` ${plural(byLine.size, "line")} refused:` : "";
  return [`Nothing was imported from ${file}; fix and import it again.${count}`, ...out].join("\n");
}
