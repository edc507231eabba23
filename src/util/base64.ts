// Typed arrays as base64 text: how large results cross from the page to
// Node through puppeteer, which would otherwise serialise every number.

export function toBase64(data: Float32Array | Uint32Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

function bytesFromBase64(text: string): ArrayBuffer {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

export function f32FromBase64(text: string): Float32Array {
  return new Float32Array(bytesFromBase64(text));
}

export function u32FromBase64(text: string): Uint32Array {
  return new Uint32Array(bytesFromBase64(text));
}
