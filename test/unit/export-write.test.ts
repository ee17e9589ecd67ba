import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { problemHandler } from '../../src/api/problem';
import { exportRouter, write } from '../../src/api/routes/export';
import type { Store } from '../../src/store';

/** A response whose socket is full (every write answers false), as a slow client's is. */
function fullResponse() {
  const res = Object.assign(new EventEmitter(), { destroyed: false, written: [] as string[] });
  return Object.assign(res, {
    write: (chunk: string) => {
      res.written.push(chunk);
      return false;
    },
  });
}

test('a write to a full socket waits for drain, and one to a response the client left returns at once', async () => {
  const res = fullResponse();
  let drained = false;
  const waiting = write(res, 'a\n').then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  expect(drained).toBe(false);
  res.emit('drain');
  await waiting;

  // The client goes away: 'close' fired once, while nothing waited. Later lines must not wait
  // for a 'close' that never comes again (the export would hold its cursor for good).
  res.destroyed = true;
  res.emit('close');
  await write(res, 'b\n');
  expect(res.written).toEqual(['a\n']);
  expect(res.listenerCount('drain') + res.listenerCount('close')).toBe(0);
});

test('an export whose first store read fails answers a problem, not a cut connection', async () => {
  const failing = {
    events: {
      find: () => ({
        sort: () => ({
          batchSize: () => ({
            [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('the store refused the query')) }),
            close: () => Promise.resolve(),
          }),
        }),
      }),
    },
  } as unknown as Store;
  const app = express();
  app.use((_req, res, next) => {
    res.locals.principal = { keyId: 'admin', tenant: 'default', scopes: ['events:read'], admin: true };
    next();
  });
  app.use('/v1/events', exportRouter({ store: failing, logger: pino({ level: 'silent' }) }));
  app.use(problemHandler(pino({ level: 'silent' })));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events/export`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.headers.get('content-disposition')).toBeNull();
  } finally {
    server.close();
  }
});
