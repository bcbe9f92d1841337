// The broker's device secret checks: scrypt with bounded concurrency, and the verified-secret cache (HMAC under
// a per-process key, keyed by principal and generation) that makes a reconnect cost no scrypt.
import { describe, expect, it } from "vitest";
import { createSecretVerifier, type VerifyOutcome } from "../../services/broker/access/verifier.ts";
import { hashSecret, type SCRYPT_PARAMS } from "../../services/lib/secrets.ts";

/** A slow check that counts its calls and can be held open. */
function fakeScrypt() {
  let calls = 0;
  let running = 0;
  let peak = 0;
  const gates: (() => void)[] = [];
  let hold = false;
  return {
    calls: () => calls,
    peak: () => peak,
    hold: (on: boolean) => {
      hold = on;
      if (!on) for (const g of gates.splice(0)) g();
    },
    async verify(secret: string, hash: string) {
      calls++;
      running++;
      peak = Math.max(peak, running);
      if (hold) await new Promise<void>((r) => gates.push(r));
      await new Promise((r) => setImmediate(r));
      running--;
      return hash === `hash-of-${secret}`;
    },
  };
}

const req = (secret: string, generation = 1, principal = "sl-0001") => ({
  principal,
  generation,
  hash: `hash-of-${generation === 1 ? "s3cret" : "n3w"}`,
  secret,
});

describe("secret verifier", () => {
  it("pays scrypt once: a reconnect with the same secret is a cache hit", async () => {
    const slow = fakeScrypt();
    const outcomes: VerifyOutcome[] = [];
    const v = createSecretVerifier({
      concurrency: 2,
      maxQueue: 10,
      maxEntries: 100,
      slowVerify: slow.verify,
      onOutcome: (o) => outcomes.push(o),
    });
    expect(await v.verify(req("s3cret"))).toBe("verified");
    expect(await v.verify(req("s3cret"))).toBe("cache_hit");
    expect(await v.verify(req("s3cret"))).toBe("cache_hit");
    expect(slow.calls()).toBe(1);
    expect(outcomes).toEqual(["verified", "cache_hit", "cache_hit"]);
    expect(v.size()).toBe(1);
  });

  it("never answers a wrong secret from the cache, and a new generation misses", async () => {
    const slow = fakeScrypt();
    const v = createSecretVerifier({
      concurrency: 2,
      maxQueue: 10,
      maxEntries: 100,
      slowVerify: slow.verify,
    });
    expect(await v.verify(req("s3cret"))).toBe("verified");
    expect(await v.verify(req("wrong"))).toBe("rejected");
    expect(await v.verify(req("wrong"))).toBe("rejected"); // no negative caching: each costs a check
    expect(slow.calls()).toBe(3);
    // Rotated: generation 2 with a new hash. The old secret is checked against the new hash, and fails.
    expect(await v.verify(req("s3cret", 2))).toBe("rejected");
    expect(await v.verify(req("n3w", 2))).toBe("verified");
    expect(await v.verify(req("n3w", 2))).toBe("cache_hit");
    // Same generation number but a different stored hash (a recreated registry): a miss, checked again.
    expect(await v.verify({ ...req("n3w", 2), hash: "hash-of-other" })).toBe("rejected");
  });

  it("keys by principal: another device's secret is not a hit", async () => {
    const slow = fakeScrypt();
    const v = createSecretVerifier({
      concurrency: 1,
      maxQueue: 10,
      maxEntries: 100,
      slowVerify: slow.verify,
    });
    await v.verify(req("s3cret", 1, "sl-a"));
    expect(await v.verify(req("s3cret", 1, "sl-b"))).toBe("verified");
    expect(slow.calls()).toBe(2);
    v.forget("sl-a");
    expect(await v.verify(req("s3cret", 1, "sl-a"))).toBe("verified");
    expect(slow.calls()).toBe(3);
  });

  it("bounds the cache, least recently used first", async () => {
    const slow = fakeScrypt();
    const v = createSecretVerifier({ concurrency: 1, maxQueue: 10, maxEntries: 2, slowVerify: slow.verify });
    await v.verify(req("s3cret", 1, "a"));
    await v.verify(req("s3cret", 1, "b"));
    await v.verify(req("s3cret", 1, "a")); // a is now the most recent
    await v.verify(req("s3cret", 1, "c")); // evicts b
    expect(v.size()).toBe(2);
    expect(await v.verify(req("s3cret", 1, "a"))).toBe("cache_hit");
    expect(await v.verify(req("s3cret", 1, "b"))).toBe("verified");
  });

  it("runs at most `concurrency` checks, shares identical ones, and refuses past the queue", async () => {
    const slow = fakeScrypt();
    const v = createSecretVerifier({ concurrency: 2, maxQueue: 3, maxEntries: 0, slowVerify: slow.verify });
    slow.hold(true);
    const pending = ["a", "b", "c", "d", "e"].map((p) => v.verify(req("s3cret", 1, p)));
    const twin = v.verify(req("s3cret", 1, "a")); // same principal and secret as one in flight: shared
    const sixth = v.verify(req("s3cret", 1, "f"));
    expect(await sixth).toBe("busy"); // 2 running + 3 waiting
    expect(v.pending()).toBe(5);
    slow.hold(false);
    expect(await Promise.all([...pending, twin])).toEqual(Array(6).fill("verified"));
    expect(slow.peak()).toBe(2);
    expect(slow.calls()).toBe(5);
    expect(v.pending()).toBe(0);
    // maxEntries 0: nothing remembered, every CONNECT pays.
    expect(await v.verify(req("s3cret", 1, "a"))).toBe("verified");
  });

  it("skips a queued check whose client has gone", async () => {
    const slow = fakeScrypt();
    const v = createSecretVerifier({ concurrency: 1, maxQueue: 10, maxEntries: 10, slowVerify: slow.verify });
    slow.hold(true);
    const first = v.verify(req("s3cret", 1, "a"));
    let there = true;
    const queued = v.verify({ ...req("s3cret", 1, "b"), wanted: () => there });
    there = false;
    slow.hold(false);
    expect(await first).toBe("verified");
    expect(await queued).toBe("abandoned");
    expect(slow.calls()).toBe(1);
  });

  it("works with the real scrypt hashes of services/lib/secrets.ts", async () => {
    const hash = await hashSecret("real-secret", { ln: 10, r: 8, p: 1 } as unknown as typeof SCRYPT_PARAMS);
    const v = createSecretVerifier({ concurrency: 1, maxQueue: 10, maxEntries: 10 });
    const r = { principal: "sl-0001", generation: 1, hash, secret: "real-secret" };
    expect(await v.verify({ ...r, secret: "nope" })).toBe("rejected");
    expect(await v.verify(r)).toBe("verified");
    expect(await v.verify(r)).toBe("cache_hit");
  });
});
