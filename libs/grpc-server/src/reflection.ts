import { status, type Server, type ServiceDefinition, type handleBidiStreamingCall } from '@grpc/grpc-js';
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorProtoSchema, type DescriptorProto, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { reflectionV1 } from '@inventory/contracts';

type ReflectionRequest = reflectionV1.ServerReflectionRequest;
type ReflectionResponse = reflectionV1.ServerReflectionResponse;

/** One file of the descriptor set: its exact bytes as buf wrote them, and what it declares. */
interface DescriptorFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly dependencies: readonly string[];
}

/**
 * Answers reflection questions from a serialized FileDescriptorSet, serving each file's bytes exactly as
 * they are in the set. (Re-encoding descriptors, as @grpc/reflection does, drops imports and breaks
 * grpcurl for any file that imports a well-known type.)
 */
export class DescriptorIndex {
  private readonly files = new Map<string, DescriptorFile>();
  private readonly fileOfSymbol = new Map<string, string>();

  constructor(descriptorSet: Uint8Array) {
    const reader = new BinaryReader(descriptorSet);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field !== 1 || wireType !== WireType.LengthDelimited) {
        reader.skip(wireType);
        continue;
      }
      const bytes = reader.bytes();
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      this.files.set(file.name, { name: file.name, bytes, dependencies: file.dependency });
      for (const symbol of symbolsOf(file)) this.fileOfSymbol.set(symbol, file.name);
    }
  }

  hasSymbol(symbol: string): boolean {
    return this.fileOfSymbol.has(symbol);
  }

  /** The file that declares `symbol`, followed by everything it imports, transitively. */
  filesForSymbol(symbol: string): Uint8Array[] | undefined {
    const name = this.fileOfSymbol.get(symbol);
    return name === undefined ? undefined : this.filesForName(name);
  }

  /** The named file followed by everything it imports, transitively. */
  filesForName(name: string): Uint8Array[] | undefined {
    if (!this.files.has(name)) return undefined;
    const ordered: Uint8Array[] = [];
    const visited = new Set<string>();
    const visit = (fileName: string) => {
      const file = this.files.get(fileName);
      if (!file || visited.has(fileName)) return;
      visited.add(fileName);
      ordered.push(file.bytes);
      file.dependencies.forEach(visit);
    };
    visit(name);
    return ordered;
  }
}

function symbolsOf(file: FileDescriptorProto): string[] {
  const prefix = file.package ? `${file.package}.` : '';
  const symbols: string[] = [];
  const addMessage = (message: DescriptorProto, scope: string) => {
    const name = `${scope}${message.name}`;
    symbols.push(name);
    message.field.forEach((f) => symbols.push(`${name}.${f.name}`));
    message.oneofDecl.forEach((o) => symbols.push(`${name}.${o.name}`));
    message.enumType.forEach((e) => symbols.push(`${name}.${e.name}`));
    message.extension.forEach((e) => symbols.push(`${name}.${e.name}`));
    message.nestedType.forEach((nested) => addMessage(nested, `${name}.`));
  };
  file.messageType.forEach((m) => addMessage(m, prefix));
  file.enumType.forEach((e) => {
    symbols.push(`${prefix}${e.name}`);
    e.value.forEach((v) => symbols.push(`${prefix}${v.name}`));
  });
  file.extension.forEach((e) => symbols.push(`${prefix}${e.name}`));
  file.service.forEach((s) => {
    symbols.push(`${prefix}${s.name}`);
    s.method.forEach((m) => symbols.push(`${prefix}${s.name}.${m.name}`));
  });
  return symbols;
}

/**
 * Adds grpc.reflection.v1 (and v1alpha, the same messages under an older name, for older clients) to a
 * server. `serviceNames` are the services the server really offers; list_services returns exactly those.
 */
export function addReflection(server: Server, index: DescriptorIndex, serviceNames: readonly string[]): void {
  const missing = serviceNames.filter((name) => !index.hasSymbol(name));
  if (missing.length > 0) throw new Error(`no descriptor for service(s): ${missing.join(', ')}`);
  const handler: handleBidiStreamingCall<ReflectionRequest, ReflectionResponse> = (call) => {
    call.on('data', (request: ReflectionRequest) => call.write(answer(index, serviceNames, request)));
    call.on('end', () => call.end());
    call.on('error', () => call.end());
  };
  const v1 = reflectionV1.ServerReflectionService as unknown as ServiceDefinition;
  const v1alpha: ServiceDefinition = {
    serverReflectionInfo: {
      ...reflectionV1.ServerReflectionService.serverReflectionInfo,
      path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
    },
  };
  server.addService(v1, { serverReflectionInfo: handler });
  server.addService(v1alpha, { serverReflectionInfo: handler });
}

function answer(
  index: DescriptorIndex,
  serviceNames: readonly string[],
  request: ReflectionRequest,
): ReflectionResponse {
  const base = { validHost: request.host, originalRequest: request };
  const files = (found: Uint8Array[] | undefined, what: string): ReflectionResponse =>
    found
      ? { ...base, fileDescriptorResponse: { fileDescriptorProto: found.map((b) => Buffer.from(b)) } }
      : { ...base, errorResponse: { errorCode: status.NOT_FOUND, errorMessage: `${what} not found` } };

  if (request.listServices !== undefined) {
    return { ...base, listServicesResponse: { service: serviceNames.map((name) => ({ name })) } };
  }
  if (request.fileByFilename !== undefined)
    return files(index.filesForName(request.fileByFilename), `file ${request.fileByFilename}`);
  if (request.fileContainingSymbol !== undefined) {
    return files(index.filesForSymbol(request.fileContainingSymbol), `symbol ${request.fileContainingSymbol}`);
  }
  if (request.allExtensionNumbersOfType !== undefined) {
    // None of the served files declare extensions.
    return {
      ...base,
      allExtensionNumbersResponse: { baseTypeName: request.allExtensionNumbersOfType, extensionNumber: [] },
    };
  }
  return { ...base, errorResponse: { errorCode: status.NOT_FOUND, errorMessage: 'extension not found' } };
}
