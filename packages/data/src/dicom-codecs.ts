import { createRequire } from 'node:module';

/**
 * Lossless (and near-lossless) DICOM codecs through maintained decoders: JPEG Lossless (process 14,
 * jpeg-lossless-decoder-js, the decoder of cornerstone's DICOM image loader), JPEG-LS (CharLS) and
 * JPEG 2000 (OpenJPEG), the last two as cornerstone's WebAssembly builds, loaded once on first use.
 * Each takes one encapsulated frame and returns its samples, 1 or 2 bytes each (little endian).
 */
const require = createRequire(import.meta.url);

interface WasmDecoder {
  getEncodedBuffer(n: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
type WasmModule = Record<string, new () => WasmDecoder>;
const modules = new Map<string, Promise<WasmModule>>();

function wasm(pkg: string, cls: string) {
  return async (frame: Uint8Array): Promise<DecodedFrame> => {
    let mod = modules.get(pkg);
    if (!mod) {
      mod = (require(pkg) as () => Promise<WasmModule>)();
      modules.set(pkg, mod);
    }
    const d = new (await mod)[cls]();
    try {
      d.getEncodedBuffer(frame.length).set(frame);
      d.decode();
      const info = d.getFrameInfo();
      return { bytes: d.getDecodedBuffer().slice(), width: info.width, height: info.height, bytesPerSample: info.bitsPerSample > 8 ? 2 : 1, components: info.componentCount };
    } finally {
      d.delete();
    }
  };
}

export interface DecodedFrame {
  bytes: Uint8Array;
  /** undefined where the codec does not report it (then Rows/Columns are trusted) */
  width?: number;
  height?: number;
  bytesPerSample: 1 | 2;
  components: number;
}

async function jpegLossless(frame: Uint8Array, bitsAllocated: number): Promise<DecodedFrame> {
  const { Decoder } = require('jpeg-lossless-decoder-js') as { Decoder: new () => { decode(b: ArrayBuffer, o: number, l: number, bytes: number): ArrayBuffer | ArrayBufferView } };
  const bytesPerSample = bitsAllocated > 8 ? 2 : 1;
  const out = new Decoder().decode(frame.buffer as ArrayBuffer, frame.byteOffset, frame.length, bytesPerSample);
  // a typed array of samples or a buffer, depending on the version: its bytes either way
  const bytes = ArrayBuffer.isView(out) ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : new Uint8Array(out);
  return { bytes: bytes.slice(), bytesPerSample, components: 1 };
}

/** Transfer syntax UID -> decoder of one frame. */
export const DICOM_CODECS: Record<string, (frame: Uint8Array, bitsAllocated: number) => Promise<DecodedFrame>> = {
  '1.2.840.10008.1.2.4.57': jpegLossless,
  '1.2.840.10008.1.2.4.70': jpegLossless,
  '1.2.840.10008.1.2.4.80': wasm('@cornerstonejs/codec-charls/decodewasmjs', 'JpegLSDecoder'),
  '1.2.840.10008.1.2.4.81': wasm('@cornerstonejs/codec-charls/decodewasmjs', 'JpegLSDecoder'),
  '1.2.840.10008.1.2.4.90': wasm('@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder'),
  '1.2.840.10008.1.2.4.91': wasm('@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder'),
};
