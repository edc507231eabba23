// The IDX format of the MNIST family (yann.lecun.com/exdb/mnist): a 4-byte
// magic (two zero bytes, a type byte, the number of dimensions), one
// big-endian uint32 per dimension, then the values in row-major order.
// Only the unsigned-byte type (0x08) is read, which is what MNIST and
// Fashion-MNIST ship. Input is the *decompressed* file; gunzipping is the
// caller's business, so this module stays free of Node APIs. Every way a
// file can be wrong is reported with its name and what was expected.

import { InvalidArgumentError } from '../gpu/errors';

export interface IdxArray {
  shape: number[];
  /** The values, row-major: a view into the parsed bytes, not a copy. */
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};
const MAX_DIMENSION = 2 ** 32 - 1;

function fail(name: string, problem: string): never {
  throw new InvalidArgumentError(`${name}: ${problem}`);
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * Parses a whole decompressed IDX file of unsigned bytes; the data must be
 * exactly as long as the dimensions say.
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4) {
    fail(
      name,
      `truncated IDX header: ${bytes.length} bytes; expected at least 4 ` +
        '(the magic number)',
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(
      name,
      `not an IDX file: it starts with ${hex(bytes[0]!)} ${hex(bytes[1]!)}; ` +
        'expected 0x00 0x00 (is it still gzipped?)',
    );
  }
  const type = bytes[2]!;
  if (type !== UNSIGNED_BYTE) {
    const known = TYPE_NAMES[type];
    fail(
      name,
      `IDX type ${hex(type)}${known ? ` (${known})` : ''} is not supported; ` +
        'expected 0x08 (unsigned byte)',
    );
  }
  const rank = bytes[3]!;
  if (rank === 0)
    fail(name, 'IDX header has 0 dimensions; expected at least 1');
  const dataStart = 4 + 4 * rank;
  if (bytes.length < dataStart) {
    fail(
      name,
      `truncated IDX header: ${rank} dimensions need ${dataStart} header ` +
        `bytes, the file has ${bytes.length}`,
    );
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const expected = shape.reduce((a, n) => a * n, 1);
  const actual = bytes.length - dataStart;
  if (actual < expected) {
    fail(
      name,
      `truncated: shape (${shape.join(', ')}) needs ${expected} bytes of ` +
        `data, the file has ${actual}`,
    );
  }
  if (actual > expected) {
    fail(
      name,
      `${actual - expected} bytes after the data that shape ` +
        `(${shape.join(', ')}) describes`,
    );
  }
  return { shape, data: bytes.subarray(dataStart) };
}

/** An IDX file of unsigned bytes (uncompressed), for tests and fixtures. */
export function encodeIdx(
  data: ArrayLike<number>,
  shape: number[],
): Uint8Array {
  if (shape.length < 1 || shape.length > 255) {
    throw new InvalidArgumentError(
      `encodeIdx: ${shape.length} dimensions; expected 1 to 255`,
    );
  }
  for (const n of shape) {
    if (!Number.isInteger(n) || n < 0 || n > MAX_DIMENSION) {
      throw new InvalidArgumentError(
        `encodeIdx: shape (${shape.join(', ')}) is invalid; expected ` +
          `integer sizes from 0 to ${MAX_DIMENSION}`,
      );
    }
  }
  const count = shape.reduce((a, n) => a * n, 1);
  if (count !== data.length) {
    throw new InvalidArgumentError(
      `encodeIdx: ${data.length} values for shape (${shape.join(', ')}); ` +
        `expected ${count}`,
    );
  }

  const dataStart = 4 + 4 * shape.length;
  const bytes = new Uint8Array(dataStart + count);
  bytes[2] = UNSIGNED_BYTE;
  bytes[3] = shape.length;
  const view = new DataView(bytes.buffer);
  shape.forEach((n, i) => view.setUint32(4 + 4 * i, n, false));
  for (let i = 0; i < count; i++) {
    const v = data[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 255) {
      throw new InvalidArgumentError(
        `encodeIdx: value ${i} = ${v} is invalid; expected an integer ` +
          'from 0 to 255',
      );
    }
    bytes[dataStart + i] = v;
  }
  return bytes;
}
