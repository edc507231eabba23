// The IDX reader: what encodeIdx writes comes back exactly, big-endian
// dimensions are read as such, and every way a file can be malformed is
// refused with the file's name and what was expected.

import { describe, expect, test } from 'vitest';

import { InvalidArgumentError } from '../src/gpu/errors';
import { encodeIdx, parseIdx } from '../src/data/idx';

/** A hand-written header: magic 00 00 type rank, then big-endian sizes. */
function header(type: number, shape: number[]): number[] {
  const bytes = [0, 0, type, shape.length];
  for (const n of shape)
    bytes.push(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  return bytes;
}

describe('parseIdx', () => {
  test.each([
    [[5], [0, 1, 127, 128, 255]],
    [
      [2, 3],
      [1, 2, 3, 4, 5, 6],
    ],
    [
      [2, 2, 2],
      [8, 7, 6, 5, 4, 3, 2, 1],
    ],
    [[0, 28, 28], []],
  ])('reads back shape %j', (shape, values) => {
    const parsed = parseIdx(encodeIdx(values, shape), 'x.idx');
    expect(parsed.shape).toEqual(shape);
    expect(Array.from(parsed.data)).toEqual(values);
  });

  test('reads the layout of the MNIST files byte for byte', () => {
    // 2 images of 1×3 pixels: dimension sizes big-endian after 00 00 08 03.
    const bytes = Uint8Array.from([...header(8, [2, 1, 3]), 9, 8, 7, 6, 5, 4]);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 2]);
    expect(parseIdx(bytes, 'x.idx')).toEqual({
      shape: [2, 1, 3],
      data: Uint8Array.from([9, 8, 7, 6, 5, 4]),
    });
    // Sizes above 255 span several bytes: 60000 = 0x0000ea60.
    expect(encodeIdx(new Uint8Array(60000), [60000]).subarray(4, 8)).toEqual(
      Uint8Array.from([0, 0, 0xea, 0x60]),
    );
  });

  test('reads a file that sits inside a larger buffer', () => {
    const file = encodeIdx([3, 1, 4], [3]);
    const buffer = new Uint8Array(file.length + 5);
    buffer.set(file, 5);
    const parsed = parseIdx(buffer.subarray(5), 'x.idx');
    expect(Array.from(parsed.data)).toEqual([3, 1, 4]);
  });

  test.each([
    [[0, 0], 'truncated IDX header: 2 bytes; expected at least 4'],
    [
      [0x1f, 0x8b, 8, 0, 0, 0],
      'not an IDX file: it starts with 0x1f 0x8b; expected 0x00 0x00 ' +
        '(is it still gzipped?)',
    ],
    [
      [0, 1, 8, 1, 0, 0, 0, 0],
      'not an IDX file: it starts with 0x00 0x01; expected 0x00 0x00',
    ],
    [
      [...header(0x0d, [1]), 0, 0, 0, 0],
      'IDX type 0x0d (float32) is not supported; expected 0x08 ' +
        '(unsigned byte)',
    ],
    [
      [...header(0x42, [1]), 0],
      'IDX type 0x42 is not supported; expected 0x08 (unsigned byte)',
    ],
    [[0, 0, 8, 0], 'IDX header has 0 dimensions; expected at least 1'],
    [
      header(8, [2, 3]).slice(0, 10),
      'truncated IDX header: 2 dimensions need 12 header bytes, the file ' +
        'has 10',
    ],
    [
      [...header(8, [2, 3]), 1, 2, 3, 4, 5],
      'truncated: shape (2, 3) needs 6 bytes of data, the file has 5',
    ],
    [
      [...header(8, [2]), 1, 2, 3, 4],
      '2 bytes after the data that shape (2) describes',
    ],
  ])('refuses a malformed file (%#)', (bytes, message) => {
    const parse = () => parseIdx(Uint8Array.from(bytes), 'bad.idx');
    expect(parse).toThrow(InvalidArgumentError);
    expect(parse).toThrow(`bad.idx: ${message}`);
  });
});

describe('encodeIdx', () => {
  test.each([
    [[1, 2, 3], [2], 'encodeIdx: 3 values for shape (2); expected 2'],
    [[], [], 'encodeIdx: 0 dimensions; expected 1 to 255'],
    [
      [1],
      [1.5],
      'encodeIdx: shape (1.5) is invalid; expected integer sizes from 0 to ' +
        '4294967295',
    ],
    [
      [1, 256],
      [2],
      'encodeIdx: value 1 = 256 is invalid; expected an integer from 0 to 255',
    ],
    [
      [-1],
      [1],
      'encodeIdx: value 0 = -1 is invalid; expected an integer from 0 to 255',
    ],
  ])('refuses %j for shape %j', (values, shape, message) => {
    expect(() => encodeIdx(values, shape)).toThrow(message);
  });
});
