import { createHash } from 'node:crypto';

/**
 * SHA-256 over byte blocks, each prefixed with its length so that moving bytes from one file to the next
 * changes the digest. IDX sets are hashed over their decompressed contents (train images, train labels,
 * test images, test labels), so a `.gz` copy and a raw copy of the same data — or Debian's recompressed
 * files and zalando's — share one fingerprint. Returned as lowercase hex; every run records it.
 */
export function fingerprint(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  const len = Buffer.alloc(8);
  for (const part of parts) {
    len.writeBigUInt64LE(BigInt(part.byteLength));
    hash.update(len);
    hash.update(part);
  }
  return hash.digest('hex');
}

/** Plain SHA-256 of one block, hex (used to verify downloads against the published digests). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
