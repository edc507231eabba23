// The package ships plain JavaScript with no entry point or types.
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** Template-literal tag resolving #if/#elif/#else/#endif on its values. */
  export function wgsl(
    strings: readonly string[],
    ...values: readonly unknown[]
  ): string;
}
