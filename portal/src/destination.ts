import { isBrokerChannel } from '../../src/domain/channels';
import type { Subscription } from './types';

/** Where a subscription delivers, in one line: the webhook URL, the recipients, or a broker's URL and what it publishes to. */
export function destinationText(s: Subscription): string {
  if (s.url) return s.url;
  if (s.to) return s.to.join(', ');
  if (!isBrokerChannel(s.channel) || !s.target) return '';
  const { url, ...where } = s.target;
  return `${s.channel} ${String(url)} ${Object.entries(where)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ')}`.trim();
}
