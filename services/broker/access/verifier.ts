// Device secret checks for CONNECT: scrypt (services/lib/secrets.ts, ~40 ms of a core and ~16 MiB each) with
// bounded concurrency, and a verified-secret cache so that a reconnect costs one HMAC instead of one scrypt.
//
// The cache keeps, per principal, HMAC-SHA256(key, principal, generation, hash, secret) of the last secret that
// verified, under a random key made when the process starts: it never holds a secret, its contents are useless
// outside this process, and it answers only for the same generation and hash (a rotation misses at once). One
// entry per principal, least recently used evicted past `maxEntries`.
// Concurrent checks of the same secret share one scrypt; a check still waiting when its client has gone is
// dropped; and past `maxQueue` waiting checks a CONNECT is refused as busy (CONNACK 0x03, the client retries)
// rather than queueing behind minutes of scrypt in a reconnect storm.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { verifySecret } from "../../lib/secrets.ts";

/** cache_hit and verified admit; rejected is a wrong secret; busy and abandoned were never checked. */
export type VerifyOutcome = "cache_hit" | "verified" | "rejected" | "busy" | "abandoned";
export const VERIFY_OUTCOMES: readonly VerifyOutcome[] = [
  "cache_hit",
  "verified",
  "rejected",
  "busy",
  "abandoned",
];

export type VerifyRequest = {
  principal: string;
  generation: number;
  /** The stored hash (access feed). */
  hash: string;
  /** What the client sent as password. */
  secret: string;
  /** False once nobody waits for the answer any more (the connection closed). */
  wanted?: () => boolean;
};

export type SecretVerifier = {
  verify(req: VerifyRequest): Promise<VerifyOutcome>;
  /** Drops what is remembered for a principal (its access ended). */
  forget(principal: string): void;
  /** Checks waiting or running. */
  pending(): number;
  /** Principals remembered. */
  size(): number;
};

export type SecretVerifierOptions = {
  concurrency: number;
  maxQueue: number;
  /** 0 turns the cache off (every CONNECT pays a scrypt: the benchmark's cold case). */
  maxEntries: number;
  slowVerify?: (secret: string, hash: string) => Promise<boolean>;
  /** The HMAC key; random per process unless a test fixes it. */
  key?: Buffer;
  onOutcome?: (outcome: VerifyOutcome) => void;
};

type Flight = { promise: Promise<VerifyOutcome>; wanted: (() => boolean)[] };

export function createSecretVerifier(opts: SecretVerifierOptions): SecretVerifier {
  const key = opts.key ?? randomBytes(32);
  const slow = opts.slowVerify ?? verifySecret;
  const verified = new Map<string, { generation: number; mac: Buffer }>();
  const flights = new Map<string, Flight>();
  const waiting: (() => void)[] = [];
  let running = 0;

  // JSON-encoding the identifying fields makes the boundary with the secret unambiguous.
  const macOf = (r: VerifyRequest): Buffer =>
    createHmac("sha256", key)
      .update(JSON.stringify([r.principal, r.generation, r.hash]))
      .update("\u0000")
      .update(r.secret)
      .digest();

  const acquire = (): Promise<void> | "busy" | undefined => {
    if (running < opts.concurrency) {
      running++;
      return undefined;
    }
    if (waiting.length >= opts.maxQueue) return "busy";
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next)
      next(); // the slot passes to the next in line
    else running--;
  };

  const remember = (principal: string, generation: number, mac: Buffer): void => {
    if (opts.maxEntries <= 0) return;
    verified.delete(principal);
    verified.set(principal, { generation, mac });
    if (verified.size > opts.maxEntries) {
      const oldest = verified.keys().next().value;
      if (oldest !== undefined) verified.delete(oldest);
    }
  };

  async function check(r: VerifyRequest, mac: Buffer, flight: Flight): Promise<VerifyOutcome> {
    const slot = acquire();
    if (slot === "busy") return "busy";
    await slot;
    try {
      if (!flight.wanted.some((w) => w())) return "abandoned";
      if (!(await slow(r.secret, r.hash))) return "rejected";
      remember(r.principal, r.generation, mac);
      return "verified";
    } finally {
      release();
    }
  }

  const report = (outcome: VerifyOutcome): VerifyOutcome => {
    opts.onOutcome?.(outcome);
    return outcome;
  };

  return {
    async verify(r) {
      const mac = macOf(r);
      const known = verified.get(r.principal);
      if (known && known.generation === r.generation && timingSafeEqual(known.mac, mac)) {
        verified.delete(r.principal); // most recently used last
        verified.set(r.principal, known);
        return report("cache_hit");
      }
      const id = mac.toString("base64");
      let flight = flights.get(id);
      if (!flight) {
        const f: Flight = { promise: Promise.resolve("busy"), wanted: [] };
        f.promise = check(r, mac, f).finally(() => flights.delete(id));
        flights.set(id, f);
        flight = f;
      }
      flight.wanted.push(r.wanted ?? (() => true));
      return report(await flight.promise);
    },
    forget: (principal) => void verified.delete(principal),
    pending: () => running + waiting.length,
    size: () => verified.size,
  };
}
