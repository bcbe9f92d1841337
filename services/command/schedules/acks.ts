// What a lamp's ack on …/ack says about a delivery (pure). Calendar acks (contract calendarAck, id
// "calendar-{version}") and command acks of overrides and cancels (contract commandAck, ids "ovr-…" / "cxl-…")
// share the topic; the id tells them apart. The outcome is the delivery state the ack moves the row to.
import { commandAck } from "../../contract/commands.ts";
import { calendarAck, calendarAckId } from "../../contract/schedule.ts";

/** Calendar acks' ids are "calendar-{version}"; command acks have other ids. */
const CALENDAR_ACK_PREFIX = calendarAckId(1).slice(0, -1);

export type AckOutcome = {
  state: "applied" | "rejected" | "expired";
  reason?: string | undefined;
  detail?: string | undefined;
};

export type ParsedAck =
  | ({ ok: true; channel: "calendar"; version: number } & AckOutcome)
  | ({ ok: true; channel: "cmd"; id: string } & AckOutcome)
  | { ok: false; why: string };

export function parseAck(json: unknown): ParsedAck {
  const id = (json as { id?: unknown } | null)?.id;
  if (typeof id === "string" && id.startsWith(CALENDAR_ACK_PREFIX)) {
    const a = calendarAck.safeParse(json);
    if (!a.success) return { ok: false, why: a.error.message };
    if (a.data.id !== calendarAckId(a.data.version))
      return { ok: false, why: `id ${a.data.id} does not name version ${a.data.version}` };
    return a.data.status === "applied"
      ? { ok: true, channel: "calendar", version: a.data.version, state: "applied" }
      : {
          ok: true,
          channel: "calendar",
          version: a.data.version,
          state: "rejected",
          reason: a.data.reason ?? "rejected",
          detail: a.data.detail,
        };
  }
  const a = commandAck.safeParse(json);
  if (!a.success) return { ok: false, why: a.error.message };
  const { id: commandId, status, reason, detail } = a.data;
  if (status === "ok") return { ok: true, channel: "cmd", id: commandId, state: "applied" };
  // An override that arrived after its expiry is refused as `expired` (never applied late): the row is expired.
  if (reason === "expired")
    return { ok: true, channel: "cmd", id: commandId, state: "expired", reason, detail };
  return { ok: true, channel: "cmd", id: commandId, state: "rejected", reason: reason ?? status, detail };
}
