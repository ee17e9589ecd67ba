import { smtpReplyOf } from '../../src/channels/smtp-sender';

const failure = (code: string, responseCode?: number, response?: string) =>
  Object.assign(new Error(`${code} failure`), { code, responseCode, response });

describe('smtpReplyOf', () => {
  test('a refusal of the envelope or the message answers the relay reply code and text', () => {
    expect(smtpReplyOf(failure('EENVELOPE', 550, '550 5.1.1 no such user'))).toEqual({ code: 550, message: '550 5.1.1 no such user' });
    expect(smtpReplyOf(failure('EMESSAGE', 451, '451 4.3.0 try later'))).toEqual({ code: 451, message: '451 4.3.0 try later' });
  });

  test('a refused login answers no code, so the email waits for the configuration to be fixed instead of failing', () => {
    expect(smtpReplyOf(failure('EAUTH', 535, '535 5.7.8 bad credentials'))).toEqual({ code: null, message: 'EAUTH: EAUTH failure' });
  });

  test('connection errors answer no code', () => {
    expect(smtpReplyOf(failure('ECONNECTION'))).toEqual({ code: null, message: 'ECONNECTION: ECONNECTION failure' });
    expect(smtpReplyOf(new Error('socket hang up'))).toEqual({ code: null, message: 'socket hang up' });
  });
});
