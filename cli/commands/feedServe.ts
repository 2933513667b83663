/** `lockstep feed serve`: serve a feed folder over HTTP (S21) for demos and small sites; Ctrl+C stops it. */
import { AddressInfo } from 'node:net';
import { createFeedServer } from '../../authoring/feedServer';
import { Command } from '../command';
import { required } from './vendorArgs';

const USAGE = 'lockstep feed serve --feed DIR [--port N] [--host 127.0.0.1]';

export const feedServe: Command = {
  name: 'feed serve',
  summary: 'serve a feed folder over HTTP (Range and conditional requests) until stopped',
  usage: USAGE,
  options: { feed: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
  async run(ctx) {
    const server = createFeedServer(required(ctx, 'feed', USAGE));
    const host = (ctx.values['host'] as string | undefined) ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(ctx.values['port'] ?? 0), host, resolve));
    const url = `http://${host}:${(server.address() as AddressInfo).port}/`;
    process.stderr.write(`Serving ${String(ctx.values['feed'])} at ${url}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    server.close();
    return { json: { url, stopped: true }, text: `Stopped serving ${url}` };
  },
};
