import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Binds a dev server (port 0: a free one) and answers its base URL, e.g. http://127.0.0.1:54321. */
export async function bind(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
}
