// CLI: `node scripts/libreoffice/main.ts` — makes sure LibreOffice's soffice is there (installing Debian's
// libreoffice-calc-nogui as root when it is not) and prints its path. The spreadsheet test does the same on demand;
// this lets a developer or CI install it ahead of the test run.
import { createLogger } from "../../services/lib/log.ts";
import { ensureSoffice, SofficeNotFoundError } from "./soffice.ts";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(
    "usage: node scripts/libreoffice/main.ts   (prints the path of soffice, installing it if needed)",
  );
  process.exit(0);
}

const log = createLogger("libreoffice");
try {
  console.log(await ensureSoffice(log));
} catch (err) {
  if (!(err instanceof SofficeNotFoundError)) throw err;
  log.error(err.message);
  process.exit(1);
}
