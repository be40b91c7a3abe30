/**
 * tensorflow.Event protos (tensorflow/core/util/event.proto, summary.proto) for scalars, encoded
 * by hand: the few fields a scalar event needs do not justify a protobuf runtime.
 *   Event { double wall_time = 1; int64 step = 2; oneof { string file_version = 3; Summary summary = 5; SessionLog session_log = 7 } }   (6 is the deprecated log_message)
 *   Summary { repeated Value value = 1 }   Value { string tag = 1; float simple_value = 2 }
 *   SessionLog { SessionStatus status = 1 }  (START = 1: TensorBoard drops the events of this step
 *   and later ones written before it, which is how a resumed run's log forgets what its checkpoint did not keep)
 */
class Proto {
  private parts: number[] = [];
  varint(v: bigint | number): this {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }
  double(field: number, v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.tag(field, 1);
    for (const x of b) this.parts.push(x);
    return this;
  }
  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.tag(field, 5);
    for (const x of b) this.parts.push(x);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export function fileVersionEvent(wallTime: number): Uint8Array {
  return new Proto().double(1, wallTime).tag(2, 0).varint(0).bytes(3, utf8('brain.Event:2')).done();
}

export function scalarsEvent(wallTime: number, step: number, scalars: Record<string, number>): Uint8Array {
  const summary = new Proto();
  for (const [tag, v] of Object.entries(scalars)) summary.bytes(1, new Proto().bytes(1, utf8(tag)).float(2, v).done());
  return new Proto().double(1, wallTime).tag(2, 0).varint(step).bytes(5, summary.done()).done();
}

/** START at `step`: TensorBoard keeps only the events of steps below it from before. */
export function sessionStartEvent(wallTime: number, step: number): Uint8Array {
  return new Proto().double(1, wallTime).tag(2, 0).varint(step).bytes(7, new Proto().tag(1, 0).varint(1).done()).done();
}
