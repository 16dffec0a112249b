/**
 * Baseline B2: the RPC layer's limit. The same client set-up as the service target calls a bare grpc-js
 * echo server (a child process) with ReserveRequest-sized messages and gets ReserveResponse-sized answers.
 * It touches no data, so one measurement serves both scenarios.
 */
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import { spawnNodeServer } from './child-server';
import { ECHO_READY, ECHO_SERVER_FLAG, ECHO_SERVICE } from './echo-server';
import { callUnary, clientOn, describeGrpcFailure, openChannel, type UnaryMethod } from './grpc-client';
import { runClosedLoop, type LoadPlan, type LoadResult } from './load';
import { sampleRequestBytes, sampleResponseBytes } from './reserve-messages';

/** The byte sizes B2 moves per call. */
export interface EchoSizes {
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export async function measureEcho(plan: LoadPlan): Promise<{ load: LoadResult; sizes: EchoSizes }> {
  const request = Buffer.from(sampleRequestBytes());
  const sizes = { requestBytes: request.length, responseBytes: sampleResponseBytes().length };
  // The benchmark's own bundle, started in echo-server mode.
  const server = spawnNodeServer('echo-server', [__filename, ECHO_SERVER_FLAG]);
  try {
    const port = await Promise.race([
      new Promise<number>((resolve) =>
        server.onLine((line) => line.startsWith(ECHO_READY) && resolve(Number(line.slice(ECHO_READY.length)))),
      ),
      server.died,
    ]);
    const channel = openChannel(`127.0.0.1:${port}`);
    const EchoClient = makeGenericClientConstructor(ECHO_SERVICE, 'bench.Echo');
    const client = clientOn(EchoClient, channel);
    const echo = (client as unknown as { echo: UnaryMethod<Buffer, Buffer> }).echo.bind(client);
    try {
      const load = await runClosedLoop(
        plan,
        async () => {
          const answer = await callUnary(echo, request);
          if (answer.length !== sizes.responseBytes)
            throw new Error(`echo answered ${answer.length} bytes, expected ${sizes.responseBytes}`);
        },
        describeGrpcFailure,
      );
      return { load, sizes };
    } finally {
      channel.close(); // Closes the client too.
    }
  } finally {
    await server.stop();
  }
}
