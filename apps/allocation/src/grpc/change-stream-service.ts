import type * as pb from '@inventory/contracts';
import { serverStream } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { ChangeStream } from '../inventory/change-stream';

export function changeStreamServiceHandlers(stream: ChangeStream, logger: Logger): pb.ChangeStreamServiceServer {
  return {
    subscribe: serverStream('Subscribe', logger, (req: pb.SubscribeRequest, send, call) =>
      stream.subscribe(req, (event) => send({ event }), call.cancelled),
    ),
  };
}
