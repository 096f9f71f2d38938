// The bytes a file's fingerprint probe covers: its first and last `probeBytes` (overlapping for
// small files), read in one go.
export async function probeBytesOf(blob: Blob, probeBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const head = blob.slice(0, Math.min(probeBytes, blob.size));
  const tail = blob.slice(Math.max(0, blob.size - probeBytes));
  return new Uint8Array(await new Blob([head, tail]).arrayBuffer());
}
