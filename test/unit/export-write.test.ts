import { EventEmitter } from 'node:events';
import { write } from '../../src/api/routes/export';

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
