// Secrets of the platform: device secrets (stored only as a slow salted scrypt hash, RFC 7914) and API tokens
// (256-bit random, stored as SHA-256: a token has too much entropy to guess, so a slow hash buys nothing and
// would cost a scrypt per API request). Both are compared in constant time.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";

/** scrypt cost: N = 2^14, r = 8, p = 1 takes ~16 MiB and ~40 ms per hash on one core (OWASP minimum is 2^17/r=8/p=1 for passwords; these are random secrets, not passwords). */
export const SCRYPT_PARAMS = Object.freeze({ ln: 14, r: 8, p: 1 });
const KEY_LEN = 32;
const SALT_LEN = 16;

/** A device secret: 32 random bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

function scrypt(secret: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** ln;
  return new Promise((resolve, reject) => {
    scryptCb(secret, salt, KEY_LEN, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** "scrypt$ln=14,r=8,p=1$<salt b64url>$<hash b64url>" */
export async function hashSecret(
  secret: string,
  params: { ln: number; r: number; p: number } = SCRYPT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await scrypt(secret, salt, params.ln, params.r, params.p);
  return `scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

const SCRYPT_FORMAT = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** Verifies a secret against a hashSecret() string or a sha256Hash() string. Malformed hashes never verify. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  if (encoded.startsWith("sha256$")) return verifyToken(secret, encoded);
  const m = SCRYPT_FORMAT.exec(encoded);
  if (!m) return false;
  const [, ln, r, p, salt, hash] = m as unknown as [string, string, string, string, string, string];
  if (Number(ln) > 20) return false; // refuse absurd costs from a corrupt record
  const expected = Buffer.from(hash, "base64url");
  const key = await scrypt(secret, Buffer.from(salt, "base64url"), Number(ln), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** An API token: "cst_" + 43 base64url characters (256 bits). The prefix makes leaked tokens easy to scan for. */
export function generateToken(): string {
  return `cst_${randomBytes(32).toString("base64url")}`;
}

/** "sha256$<hex>" of a token. */
export function sha256Hash(token: string): string {
  return `sha256$${createHash("sha256").update(token).digest("hex")}`;
}

export function verifyToken(token: string, encoded: string): boolean {
  const a = Buffer.from(sha256Hash(token));
  const b = Buffer.from(encoded);
  return a.length === b.length && timingSafeEqual(a, b);
}
