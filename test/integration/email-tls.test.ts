import * as api from '../harness/api';
import { useSmtpServer } from '../harness/smtp';
import { useStack } from '../harness/stack';

/**
 * A relay that requires STARTTLS and AUTH, configured only through HERALD_SMTP_URL. The
 * server's certificate is smtp-server's built-in self-signed one, hence the URL's
 * tls.rejectUnauthorized=false (a real relay has a trusted certificate and needs no such option).
 */

const USER = 'herald-relay';
const PASSWORD = 'pw-4-relay';
const smtp = useSmtpServer({
  disabledCommands: [],
  authOptional: false,
  authMethods: ['PLAIN', 'LOGIN'],
  onAuth(auth, session, callback) {
    // AUTH only after STARTTLS: credentials never cross in clear.
    if (!session.secure) return callback(new Error('STARTTLS first'));
    if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: auth.username });
    callback(new Error('invalid credentials'));
  },
});
const env = useStack({
  workerEnv: () => ({
    HERALD_SMTP_URL: `smtp://${USER}:${PASSWORD}@127.0.0.1:${smtp.sink.port}/?requireTLS=true&tls.rejectUnauthorized=false`,
  }),
});

test('an email goes through a relay that requires STARTTLS and AUTH, and the audit shows the relay without its credentials', async () => {
  await env.stack.request('POST', '/v1/subscriptions', { channel: 'email', to: ['tls@example.test'], eventTypes: ['mail.tls'] });
  const { id } = await api.send(env.stack, { type: 'mail.tls', data: { ok: true } });
  const view = await api.finalEvent(env.stack, id);
  expect(view.deliveries[0]).toMatchObject({ status: 'succeeded', attempts: 1, lastResponseStatus: 250 });

  const [mail] = smtp.sink.to('tls@example.test');
  expect(mail).toMatchObject({ secure: true, user: USER });
  const [attempt] = (await env.stack.request('GET', `/v1/events/${id}/attempts`)).body.data;
  expect(attempt.request.url).toBe(`smtp://127.0.0.1:${smtp.sink.port}`);
  expect(JSON.stringify(attempt)).not.toContain(PASSWORD);
});
