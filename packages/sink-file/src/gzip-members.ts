import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { crc32, deflateRaw, gunzipSync } from 'node:zlib';
import { fileSinkError } from './errors.js';

/**
 * Self-delimiting gzip members. Each batch is one gzip member (RFC 1952; concatenated
 * members are one valid gzip file) whose header carries an FEXTRA subfield `KF` with the
 * member's total length, the way BGZF (samtools) indexes blocks. Crash repair can then
 * walk member boundaries reading 20 bytes per member, with no sidecar index to keep
 * consistent and no second fsync per batch; standard gunzip ignores the field.
 */

const HEADER_BYTES = 20;
const MAX_MEMBER_BYTES = 0xffff_ffff;
const deflateRawAsync = promisify(deflateRaw);

/** Compresses `data` into one kefu gzip member. */
export async function buildGzipMember(data: Buffer, level = 6): Promise<Buffer> {
  const deflated = await deflateRawAsync(data, { level });
  const total = HEADER_BYTES + deflated.length + 8;
  if (total > MAX_MEMBER_BYTES)
    throw fileSinkError('SINK_FILE_BATCH_TOO_LARGE', `one batch compresses to ${total} bytes (limit 4 GiB)`);
  const member = Buffer.allocUnsafe(total);
  // ID1 ID2 CM=deflate FLG=FEXTRA MTIME=0 XFL=0 OS=unknown
  member.set([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255], 0);
  member.writeUInt16LE(8, 10); // XLEN: one subfield of 4 + 4 bytes
  member.set([0x4b, 0x46], 12); // SI1 SI2 = "KF"
  member.writeUInt16LE(4, 14); // LEN
  member.writeUInt32LE(total, 16);
  deflated.copy(member, HEADER_BYTES);
  member.writeUInt32LE(crc32(data) >>> 0, HEADER_BYTES + deflated.length);
  member.writeUInt32LE(data.length % 2 ** 32, HEADER_BYTES + deflated.length + 4);
  return member;
}

/** The member length from a kefu member header, or undefined when `header` is not one. */
function memberLength(header: Buffer): number | undefined {
  if (header.length < HEADER_BYTES) return undefined;
  if (header[0] !== 0x1f || header[1] !== 0x8b || header[2] !== 8 || header[3] !== 4) return undefined;
  if (header.readUInt16LE(10) !== 8 || header[12] !== 0x4b || header[13] !== 0x46 || header.readUInt16LE(14) !== 4)
    return undefined;
  const length = header.readUInt32LE(16);
  return length >= HEADER_BYTES + 8 ? length : undefined;
}

/**
 * The length of the longest prefix of a kefu gzip file made of complete members whose
 * last member decompresses with a correct CRC. Everything after it is a torn append.
 * Throws SINK_FILE_FOREIGN_FILE when the file does not start with a kefu member.
 */
export async function validGzipPrefix(handle: FileHandle, size: number, path: string): Promise<number> {
  const header = Buffer.alloc(HEADER_BYTES);
  const starts: number[] = [];
  let position = 0;
  while (position < size) {
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, position);
    const length = memberLength(header.subarray(0, bytesRead));
    if (length === undefined) {
      if (position === 0 && bytesRead === HEADER_BYTES && !header.every((byte) => byte === 0))
        throw fileSinkError('SINK_FILE_FOREIGN_FILE', `${path} is not a gzip file written by kefu`);
      break;
    }
    if (position + length > size) break;
    starts.push(position);
    position += length;
  }
  // A crash before fsync can leave a complete-looking last member with garbage inside:
  // verify the tail members (CRC + size) and drop those that fail.
  while (starts.length > 0) {
    const start = starts.at(-1) ?? 0;
    const member = Buffer.alloc(position - start);
    await handle.read(member, 0, member.length, start);
    try {
      gunzipSync(member);
      return position;
    } catch {
      starts.pop();
      position = start;
    }
  }
  return 0;
}
