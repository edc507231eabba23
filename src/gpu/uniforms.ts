// Packs the fields of a WGSL uniform struct of 4-byte scalars, in order,
// padded to the 16-byte multiple that uniform buffer bindings require.

export class UniformWriter {
  private readonly words: Array<{ type: 'u32' | 'f32'; value: number }> = [];

  u32(value: number): this {
    this.words.push({ type: 'u32', value });
    return this;
  }

  f32(value: number): this {
    this.words.push({ type: 'f32', value });
    return this;
  }

  bytes(): ArrayBuffer {
    const size = Math.max(16, Math.ceil((this.words.length * 4) / 16) * 16);
    const buffer = new ArrayBuffer(size);
    const view = new DataView(buffer);
    this.words.forEach(({ type, value }, index) => {
      if (type === 'u32') view.setUint32(index * 4, value, true);
      else view.setFloat32(index * 4, value, true);
    });
    return buffer;
  }
}
