// `--cpu-prof`: where the ingest spends its CPU. Reads the V8 profiles the ingest wrote on exit
// (node --cpu-prof) and ranks self time by function and by file or package.
//   node bench/profile.ts <dir or .cpuprofile>   prints the same summary for profiles taken by hand
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

const ROOT = resolve(import.meta.dirname, "..");
const IDLE = new Set(["(idle)"]);

/** Where a frame lives: "services/ingest/spool.ts", "node_modules/zod", "node:internal/…", or "(native)". */
function placeOf(url: string): string {
  if (!url) return "(native)";
  const path = url.startsWith("file://") ? new URL(url).pathname : url;
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = path.slice(nm + "node_modules/".length).split("/");
    return `node_modules/${parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (path.startsWith("node:")) return path.split("/").slice(0, 2).join("/");
  return path.startsWith("/") ? relative(ROOT, path) : path;
}

export function summariseProfile(file: string, top = 15): string[] {
  const prof = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  const byFn = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)?.callFrame;
    if (!f || IDLE.has(f.functionName)) continue;
    busy += us;
    const fn =
      `${f.functionName || "(anonymous)"} ${f.url ? `${placeOf(f.url)}:${f.lineNumber + 1}` : ""}`.trim();
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    const place = f.url ? placeOf(f.url) : f.functionName; // (garbage collector), (program)
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / Math.max(1, busy)) * 100).toFixed(1)} %`;
  const rank = (m: Map<string, number>) => [...m.entries()].sort((p, q) => q[1] - p[1]).slice(0, top);
  return [
    `profile ${basename(file)}: ${(busy / 1e6).toFixed(1)} s of CPU sampled (idle excluded)`,
    "  self time by file or package:",
    ...rank(byPlace).map(([k, us]) => `    ${pct(us).padStart(7)}  ${k}`),
    "  self time by function:",
    ...rank(byFn).map(([k, us]) => `    ${pct(us).padStart(7)}  ${k}`),
  ];
}

export function summariseProfiles(dirOrFile: string): string[] {
  if (!existsSync(dirOrFile)) return [`no CPU profiles in ${dirOrFile}`];
  const files = statSync(dirOrFile).isDirectory()
    ? readdirSync(dirOrFile)
        .filter((f) => f.endsWith(".cpuprofile"))
        .sort()
        .map((f) => join(dirOrFile, f))
    : [dirOrFile];
  return files.flatMap((f) => summariseProfile(f));
}

if (import.meta.main) {
  const target = process.argv[2];
  if (!target) {
    console.error("usage: node bench/profile.ts <dir or .cpuprofile>");
    process.exit(2);
  }
  for (const line of summariseProfiles(target)) console.log(line);
}
