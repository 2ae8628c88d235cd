import { parseArgs } from 'node:util';
import { UsageError, type CliCommand } from '../command';

const USAGE = `Usage: cnn-workbench serve [--port N] [--host 127.0.0.1] [--data-root DIR]...

Browser mode: the workbench's services behind HTTP + WebSocket, serving the built renderer (out/renderer).
Prints http://HOST:PORT/?token=TOKEN — open it in a browser. The token is new at every start; requests
without it, or from another site, are refused.

Options:
  --port N          port to listen on (default 8765; 0 picks a free one)
  --host ADDR       address to bind (default 127.0.0.1, loopback only)
  --data-root DIR   a folder datasets may be imported from (repeatable; default: your workbench data
                    folder and /usr/share/datasets)`;

/** Parses and checks the flags, naming any bad value. */
export function parseServeArgs(args: string[]): { port: number; portGiven: boolean; host: string; dataRoots: string[] | undefined } {
  let values: { port?: string; host?: string; 'data-root'?: string[] };
  try {
    ({ values } = parseArgs({
      args,
      options: { port: { type: 'string' }, host: { type: 'string' }, 'data-root': { type: 'string', multiple: true } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), USAGE);
  }
  const port = values.port === undefined ? 8765 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535 (received ${JSON.stringify(values.port)})`, USAGE);
  }
  const host = values.host ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new UsageError(`--host must be an address such as 127.0.0.1 (received ${JSON.stringify(host)})`, USAGE);
  return { port, portGiven: values.port !== undefined, host, dataRoots: values['data-root'] };
}

/**
 * What to tell the user when the server listens beyond loopback: the token then crosses the network in
 * plain HTTP, readable by anyone on the path (there is no TLS here). Null on loopback.
 */
export function exposureWarning(host: string): string | null {
  if (host === '127.0.0.1' || host === 'localhost' || host === '::1' || /^127\./.test(host)) return null;
  return (
    `serve: warning: listening on ${host}, not only on loopback: other machines can reach it. Anyone who can reach it still needs the token,\n` +
    `serve: but the token and everything else travel UNENCRYPTED (plain HTTP and ws://, no TLS): anyone on the network path can read the\n` +
    `serve: token and take over the session. Use it only on a network you trust, or keep 127.0.0.1 and reach it through an ssh tunnel (ssh -L 8765:127.0.0.1:8765 HOST).\n`
  );
}

/**
 * Starts browser mode and keeps running until Ctrl-C / SIGTERM. Shared with `cnn-workbench app`, which
 * falls back to it where the Electron binary is absent.
 */
export async function serve(options: { port: number; host: string; dataRoots?: string[]; portGiven?: boolean }): Promise<number> {
  const [{ createServices }, { startServer }] = await Promise.all([import('../../services/index'), import('../../server/index')]);
  const services = createServices({ kind: 'browser', dataRoots: options.dataRoots });
  const listen = (port: number): ReturnType<typeof startServer> => startServer({ services, port, host: options.host });
  let server;
  try {
    try {
      server = await listen(options.port);
    } catch (err) {
      // The default port taken (another workbench?): any free port will do, unless the user chose this one.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.portGiven) throw err;
      process.stderr.write(`serve: port ${options.port} is in use; using a free port instead\n`);
      server = await listen(0);
    }
  } catch (err) {
    await services.dispose();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new UsageError(`port ${options.port} on ${options.host} is already in use: pass another --port N (or --port 0 for any free port)`);
    throw err;
  }
  const warning = exposureWarning(options.host);
  if (warning) process.stderr.write(warning);
  if (!server.rendererBuilt) {
    process.stderr.write(`serve: the renderer is not built (${server.staticDir}/index.html is missing): run \`npm run build\` first. The API is up meanwhile.\n`);
  }
  process.stdout.write(`CNN Workbench (browser mode) is running. Open this URL in a browser:\n\n    ${server.url}\n\nPress Ctrl-C to stop.\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write('serve: stopping (any training run is interrupted)\n');
  await server.close();
  await services.dispose();
  return 0;
}

/** `cnn-workbench serve` — browser mode. */
export const command: CliCommand = {
  name: 'serve',
  summary: 'serve the workbench to a browser (HTTP + WebSocket on 127.0.0.1, token-protected)',
  usage: USAGE,
  async run(args) {
    return serve(parseServeArgs(args));
  },
};
