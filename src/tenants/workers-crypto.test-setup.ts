/**
 * Unit tests run in Node; `crypto.subtle.timingSafeEqual` is a Workers extension. Node's own constant-time
 * comparison stands in for it (the workerd tests in test/tenants/ use the real one).
 */
import { timingSafeEqual } from "node:crypto";

const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView) => boolean };
const bytes = (value: ArrayBuffer | ArrayBufferView) => (ArrayBuffer.isView(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.from(value));
subtle.timingSafeEqual ??= (a, b) => timingSafeEqual(bytes(a), bytes(b));
