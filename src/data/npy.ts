// NumPy's .npy format (version 1.0–3.0): a magic string, a little header
// dictionary (dtype, order, shape) and the raw array. Enough of it to read
// what a Python user saves with np.save: C-order arrays of little-endian
// floats and integers. Every way a file can be wrong is reported with the
// file's name and what was expected; nothing is read past the data.

import { InvalidArgumentError } from '../gpu/errors';

export type NpyType =
  'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8';

export interface NpyArray<
  T extends Float32Array | Float64Array = Float64Array,
> {
  dtype: NpyType;
  shape: number[];
  /** The values as float64 (exact for integers < 2^53) or float32. */
  data: T;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SIZES: Record<NpyType, number> = {
  f4: 4,
  f8: 8,
  i1: 1,
  i2: 2,
  i4: 4,
  i8: 8,
  u1: 1,
  u2: 2,
  u4: 4,
  u8: 8,
};

function fail(name: string, problem: string): never {
  throw new InvalidArgumentError(`${name}: ${problem}`);
}

/** The header: dtype, order and shape, and where the data starts. */
function parseHeader(bytes: Uint8Array, name: string) {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    fail(name, 'not a .npy file (it does not start with "\\x93NUMPY")');
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let start: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(name, 'truncated .npy header');
    headerLength = view.getUint32(8, true);
    start = 12;
  } else {
    fail(name, `.npy format version ${major} is not supported (1, 2 or 3)`);
  }
  if (start + headerLength > bytes.length) fail(name, 'truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLength),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail(name, `unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True')
    fail(
      name,
      'Fortran-order arrays are not supported; save with np.ascontiguousarray',
    );
  const match = /^([<>|=])([fiu])(\d)$/.exec(descr);
  const dtype = match ? (`${match[2]}${match[3]}` as NpyType) : undefined;
  if (!match || !dtype || !(dtype in SIZES))
    fail(
      name,
      `dtype "${descr}" is not supported; expected a little-endian float32/64 or integer array`,
    );
  if (match[1] === '>' && SIZES[dtype] > 1)
    fail(name, `dtype "${descr}" is big-endian; expected little-endian ("<")`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0))
    fail(name, `unreadable shape (${shapeText})`);
  return { dtype, shape, dataStart: start + headerLength };
}

/**
 * Parses a whole .npy file; the data must be exactly as long as the shape
 * says. Values come as float64, or float32 with `float32` (for features:
 * half the memory; float64 files are rounded).
 */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray;
export function parseNpy(
  bytes: Uint8Array,
  name: string,
  float32: true,
): NpyArray<Float32Array>;
export function parseNpy(
  bytes: Uint8Array,
  name: string,
  float32 = false,
): NpyArray<Float32Array | Float64Array> {
  const { dtype, shape, dataStart } = parseHeader(bytes, name);
  const count = shape.reduce((a, n) => a * n, 1);
  const expected = count * SIZES[dtype];
  const actual = bytes.length - dataStart;
  if (actual < expected)
    fail(
      name,
      `truncated: shape (${shape.join(', ')}) of ${dtype} needs ${expected} bytes of data, the file has ${actual}`,
    );
  if (actual > expected)
    fail(
      name,
      `${actual - expected} bytes after the data that shape (${shape.join(', ')}) describes`,
    );
  const view = new DataView(
    bytes.buffer,
    bytes.byteOffset + dataStart,
    expected,
  );
  const data = float32 ? new Float32Array(count) : new Float64Array(count);
  const size = SIZES[dtype];
  for (let i = 0; i < count; i++) {
    const at = i * size;
    switch (dtype) {
      case 'f4':
        data[i] = view.getFloat32(at, true);
        break;
      case 'f8':
        data[i] = view.getFloat64(at, true);
        break;
      case 'i1':
        data[i] = view.getInt8(at);
        break;
      case 'i2':
        data[i] = view.getInt16(at, true);
        break;
      case 'i4':
        data[i] = view.getInt32(at, true);
        break;
      case 'i8':
        data[i] = Number(view.getBigInt64(at, true));
        break;
      case 'u1':
        data[i] = view.getUint8(at);
        break;
      case 'u2':
        data[i] = view.getUint16(at, true);
        break;
      case 'u4':
        data[i] = view.getUint32(at, true);
        break;
      case 'u8':
        data[i] = Number(view.getBigUint64(at, true));
        break;
    }
  }
  return { dtype, shape, data };
}

/** A .npy file of the given dtype and shape, for tests and exports. */
export function encodeNpy(
  data: ArrayLike<number>,
  shape: number[],
  dtype: 'f4' | 'f8' | 'i4' | 'i8' | 'u1',
): Uint8Array {
  const count = shape.reduce((a, n) => a * n, 1);
  if (count !== data.length)
    throw new InvalidArgumentError(
      `encodeNpy: ${data.length} values for shape (${shape.join(', ')})`,
    );
  const shapeText = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${dtype === 'u1' ? '|' : '<'}${dtype}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  // Pad so that the data starts on a multiple of 64 bytes, ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const size = SIZES[dtype];
  const bytes = new Uint8Array(total + count * size);
  bytes.set(MAGIC, 0);
  bytes[6] = 1;
  bytes[7] = 0;
  const view = new DataView(bytes.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  for (let i = 0; i < count; i++) {
    const at = total + i * size;
    const v = data[i]!;
    if (dtype === 'f4') view.setFloat32(at, v, true);
    else if (dtype === 'f8') view.setFloat64(at, v, true);
    else if (dtype === 'i4') view.setInt32(at, v, true);
    else if (dtype === 'i8') view.setBigInt64(at, BigInt(v), true);
    else view.setUint8(at, v);
  }
  return bytes;
}
