// Content identities for configurations: a 64-bit FNV-1a hash of the
// configuration's canonical JSON (keys sorted at every level), as 16 hex
// digits. Pure TypeScript, so Node and the page name a configuration alike;
// resume and merge match rows by it.

/** JSON with every object's keys in sorted order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

/** FNV-1a over the UTF-8 bytes of `text`, 64 bits. */
export function fnv1a64(text: string): bigint {
  let hash = OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * PRIME) & MASK;
  }
  return hash;
}

/** The id of a configuration: its canonical JSON's hash, 16 hex digits. */
export function contentId(value: unknown): string {
  return fnv1a64(canonicalJson(value)).toString(16).padStart(16, '0');
}
