// The .npy reader: what np.save writes comes back exactly, and every way a
// file can be malformed is refused with the file's name and the reason.

import { describe, expect, test } from 'vitest';

import { encodeNpy, parseNpy } from '../src/data/npy';

function withHeader(header: string, data: Uint8Array, major = 1): Uint8Array {
  const text = header.padEnd(
    Math.ceil((header.length + 11) / 64) * 64 - 11,
    ' ',
  );
  const start = major === 1 ? 10 : 12;
  const bytes = new Uint8Array(start + text.length + 1 + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(bytes.buffer);
  if (major === 1) view.setUint16(8, text.length + 1, true);
  else view.setUint32(8, text.length + 1, true);
  for (let i = 0; i < text.length; i++) bytes[start + i] = text.charCodeAt(i);
  bytes[start + text.length] = 10;
  bytes.set(data, start + text.length + 1);
  return bytes;
}

describe('parseNpy', () => {
  test.each([
    ['f4', [0.5, -2, 3.25, 1e-3]],
    ['f8', [0.1, -2, Math.PI, 1e300]],
    ['i4', [0, -5, 7, 2 ** 31 - 1]],
    ['i8', [0, -5, 2 ** 40, 9]],
    ['u1', [0, 255, 7, 9]],
  ] as const)('reads back %s', (dtype, values) => {
    const parsed = parseNpy(encodeNpy(values, [2, 2], dtype), 'x.npy');
    expect(parsed.shape).toEqual([2, 2]);
    expect(parsed.dtype).toBe(dtype);
    const expected =
      dtype === 'f4' ? Array.from(Float32Array.from(values)) : values;
    expect(Array.from(parsed.data)).toEqual(expected);
  });

  test('reads a version 2 header and a 1-D shape', () => {
    const data = new Uint8Array(new Int32Array([3, 1, 2]).buffer);
    const file = withHeader(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
      data,
      2,
    );
    expect(Array.from(parseNpy(file, 'v2.npy').data)).toEqual([3, 1, 2]);
  });

  test.each([
    [new Uint8Array([1, 2, 3]), 'not a .npy file'],
    [
      encodeNpy([1, 2, 3, 4], [4], 'f4').subarray(0, -10),
      'truncated: shape (4) of f4 needs 16 bytes of data, the file has 6',
    ],
    [
      withHeader(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
        new Uint8Array(16),
      ),
      'Fortran-order arrays are not supported',
    ],
    [
      withHeader(
        "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
        new Uint8Array(8),
      ),
      'dtype ">f4" is big-endian',
    ],
    [
      withHeader(
        "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
        new Uint8Array(16),
      ),
      'dtype "<c8" is not supported',
    ],
    [
      withHeader(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
        new Uint8Array(12),
      ),
      '4 bytes after the data that shape (2) describes',
    ],
    [
      withHeader("{'descr': '<f4'}", new Uint8Array(8)),
      'unreadable .npy header',
    ],
  ])('refuses a malformed file (%#)', (bytes, message) => {
    expect(() => parseNpy(bytes, 'bad.npy')).toThrow(`bad.npy: ${message}`);
  });
});
