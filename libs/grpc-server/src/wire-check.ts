import { isUtf8 } from 'node:buffer';
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  type DescriptorProto,
} from '@bufbuild/protobuf/wkt';
import type { FieldViolation } from '@inventory/domain';

/** What the check needs to know of one field. */
interface FieldShape {
  /** The field's proto name, as field paths in errors spell it. */
  readonly name: string;
  readonly kind: 'string' | 'timestamp' | 'message' | 'other';
  /** The fully qualified message type (without the leading dot), for `message`. */
  readonly messageType: string;
  readonly repeated: boolean;
}

type MessageShape = ReadonlyMap<number, FieldShape>;

const TIMESTAMP = 'google.protobuf.Timestamp';
const MAX_NANOS = 999_999_999;

/**
 * Checks what decoding a request hides: generated decoders turn a string that is not valid UTF-8 into
 * U+FFFD replacement characters (so two different ids can decode to the same one), and add a Timestamp's
 * nanos to its seconds whatever their size (`nanos: 2000000000` becomes two seconds later). This walks the
 * request's bytes along its descriptor and names every such field. A U+FFFD that was sent as valid UTF-8 is
 * an ordinary character and passes.
 */
export class WireCheck {
  private readonly messages = new Map<string, MessageShape>();
  /** Request message type of each method, by path (`/inventory.v1.SupplyService/SyncSupply`). */
  private readonly requestTypes = new Map<string, string>();

  /** @param descriptorSet a serialized FileDescriptorSet, as `buf build` writes it. */
  constructor(descriptorSet: Uint8Array) {
    const reader = new BinaryReader(descriptorSet);
    while (reader.pos < reader.len) {
      const [fieldNo, wireType] = reader.tag();
      if (fieldNo !== 1 || wireType !== WireType.LengthDelimited) {
        reader.skip(wireType, fieldNo);
        continue;
      }
      const file = fromBinary(FileDescriptorProtoSchema, reader.bytes());
      const scope = file.package ? `${file.package}.` : '';
      const add = (message: DescriptorProto, prefix: string) => {
        const name = `${prefix}${message.name}`;
        this.messages.set(name, new Map(message.field.map((f) => [f.number, shapeOf(f)])));
        message.nestedType.forEach((nested) => add(nested, `${name}.`));
      };
      file.messageType.forEach((m) => add(m, scope));
      for (const service of file.service) {
        for (const method of service.method)
          this.requestTypes.set(`/${scope}${service.name}/${method.name}`, method.inputType.replace(/^\./, ''));
      }
    }
  }

  /**
   * The violations of a request to the method at `path`; none for a method it has no descriptor of, or for
   * bytes it cannot walk (decoding reports those).
   */
  violations(path: string, bytes: Uint8Array): FieldViolation[] {
    const typeName = this.requestTypes.get(path);
    if (typeName === undefined) return [];
    const found: FieldViolation[] = [];
    try {
      this.walk(typeName, bytes, '', found);
    } catch {
      return [];
    }
    return found;
  }

  private walk(typeName: string, bytes: Uint8Array, prefix: string, found: FieldViolation[]): void {
    const shape = this.messages.get(typeName);
    if (!shape) return;
    const reader = new BinaryReader(bytes);
    const seen = new Map<number, number>();
    while (reader.pos < reader.len) {
      const [fieldNo, wireType] = reader.tag();
      const field = shape.get(fieldNo);
      if (!field || wireType !== WireType.LengthDelimited || field.kind === 'other') {
        reader.skip(wireType, fieldNo);
        continue;
      }
      const index = seen.get(fieldNo) ?? 0;
      seen.set(fieldNo, index + 1);
      const path = `${prefix}${field.name}${field.repeated ? `[${index}]` : ''}`;
      const value = reader.bytes();
      if (field.kind === 'string') {
        if (!isUtf8(value)) found.push({ field: path, description: 'must be valid UTF-8' });
      } else if (field.kind === 'timestamp') {
        const nanos = timestampNanos(value);
        if (nanos < 0 || nanos > MAX_NANOS)
          found.push({ field: `${path}.nanos`, description: `must be from 0 to ${MAX_NANOS}, got ${nanos}` });
      } else {
        this.walk(field.messageType, value, `${path}.`, found);
      }
    }
  }
}

function shapeOf(f: {
  name: string;
  type: FieldDescriptorProto_Type;
  typeName: string;
  label: FieldDescriptorProto_Label;
}): FieldShape {
  const repeated = f.label === FieldDescriptorProto_Label.REPEATED;
  const messageType = f.typeName.replace(/^\./, '');
  if (f.type === FieldDescriptorProto_Type.STRING) return { name: f.name, kind: 'string', messageType: '', repeated };
  if (f.type !== FieldDescriptorProto_Type.MESSAGE) return { name: f.name, kind: 'other', messageType: '', repeated };
  return { name: f.name, kind: messageType === TIMESTAMP ? 'timestamp' : 'message', messageType, repeated };
}

/** The last `nanos` (field 2, int32) of an encoded Timestamp, as a decoder would keep it. */
function timestampNanos(bytes: Uint8Array): number {
  const reader = new BinaryReader(bytes);
  let nanos = 0;
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 2 && wireType === WireType.Varint) nanos = reader.int32();
    else reader.skip(wireType, fieldNo);
  }
  return nanos;
}
