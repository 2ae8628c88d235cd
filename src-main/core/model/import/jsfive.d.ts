/** The part of jsfive (npm `jsfive`, a pure-JS HDF5 reader) that `keras-h5.ts` uses. */
declare module 'jsfive' {
  export class File {
    constructor(buffer: ArrayBuffer, filename?: string);
    get(path: string): unknown;
  }
}
