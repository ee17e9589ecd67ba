import * as api from '../harness/api';
import { freePort } from '../harness/servers';
import { startSmtpServer, type SmtpSink } from '../harness/smtp';
import { useStack } from '../harness/stack';

/** The relay is down when the email is due: temporary failures, then delivery once it answers. */

const relay = {} as { port: number; sink?: SmtpSink };
beforeAll(async () => {
  relay.port = await freePort(); // nothing listens there yet
});
afterAll(async () => {
  await relay.sink?.close();
});
const env = useStack({ workerEnv: () => ({ HERALD_SMTP_URL: `smtp://127.0.0.1:${relay.port}` }) });

test('a relay refusing connections fails attempts as temporary; the email goes out once it is back', async () => {
  await env.stack.request('POST', '/v1/subscriptions', {
    channel: 'email',
    to: ['patient@example.test'],
    eventTypes: ['mail.outage'],
    retry: { schedule: ['1s', '1s', '1s', '1s', '1s', '1s', '1s', '1s', '1s', '1s'] },
  });
  const { id } = await api.send(env.stack, { type: 'mail.outage', data: {} });
  const waiting = await api.eventWhen(env.stack, id, (v) => v.deliveries[0]?.attempts >= 1, 30_000, 'a first attempt');
  expect(waiting.deliveries[0]).toMatchObject({
    status: 'retrying',
    lastResponseStatus: null,
    error: expect.stringMatching(/ECONNREFUSED/),
  });

  relay.sink = await startSmtpServer({}, relay.port);
  const view = await api.finalEvent(env.stack, id, 60_000);
  expect(view.deliveries[0]).toMatchObject({ status: 'succeeded', lastResponseStatus: 250 });
  expect(relay.sink.to('patient@example.test')).toHaveLength(1);
  const attempts = (await env.stack.request('GET', `/v1/events/${id}/attempts`)).body.data;
  expect(attempts[attempts.length - 1]).toMatchObject({ response: null, error: expect.stringMatching(/ECONNREFUSED/) });
});
