// The answers of the command service's HTTP API as the CLI reads them. Where the API names its zod schema, the
// type is derived from it (type-only imports: erased at run time, so the CLI loads none of the service's code);
// the few answers whose schemas the routes keep private are typed here after .design/issue3.md.
import type { z } from "zod";
import type { commissioningRun } from "../command/commissioning/schema.ts";
import type { DevicePage } from "../command/routes/device-page.ts";
import type { Credentials, importResult, listedDevice } from "../command/routes/schemas.ts";
import type { DeviceRecord } from "../contract/devices.ts";

export type { Credentials, DevicePage, DeviceRecord };
export type CommissioningRun = z.infer<typeof commissioningRun>;
export type Check = CommissioningRun["checks"][number];
export type CheckStatus = Check["status"];
export type RunStatus = CommissioningRun["status"];
export type ListedDevice = z.infer<typeof listedDevice>;
export type ImportResult = z.infer<typeof importResult>;

export type ApiIssue = {
  field?: string;
  message: string;
  index?: number;
  id?: string;
  line?: number;
};

/** `{error, message, issues}`: every refusal of the API. */
export type ApiErrorBody = { error: string; message: string; issues: ApiIssue[] };

export type HistoryEvent = { seq: number; at: string; actor: string; action: string; detail: unknown };

export type ApiToken = {
  id: string;
  name: string;
  role: string;
  source: "api" | "file";
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  last_used_at: string | null;
};

export type CreatedToken = Pick<ApiToken, "id" | "name" | "role" | "created_at" | "expires_at"> & {
  token: string;
};

export type Whoami = { name: string; role: string; permissions: string[] };
