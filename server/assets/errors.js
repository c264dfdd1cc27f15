// Errors in words: a lead that says what to do, per error kind, then the
// server's own message, which names the action and the value.

import { h, replace } from './dom.js';

function retryText(err) {
  const s = err.retryAfter ?? err.detail?.retry_after ?? err.detail?.retry_after_seconds;
  if (s == null) return 'Too many requests: wait a moment and try again.';
  if (s <= 1) return 'Too many requests: try again in a second.';
  if (s < 120) return `Too many requests: try again in ${s} seconds.`;
  return `Too many requests: try again in ${Math.ceil(s / 60)} minutes.`;
}

/** `{lead, message}` for an ApiError (or any Error). */
export function describeError(err) {
  const message = err && err.message ? err.message : String(err);
  switch (err && err.kind) {
    case 'self_approval':
      return { lead: 'You proposed this action, so someone else must approve it.', message };
    case 'permission_denied':
      return { lead: 'You do not have permission:', message };
    case 'conflict':
    case 'invalid_transition':
      return { lead: 'Someone else changed this action first; it has been reloaded.', message };
    case 'validation':
      if (err.detail?.field === 'x-csrf-token') {
        return { lead: 'This page lost its session token; reload it and try again.', message };
      }
      return { lead: 'Please check what you entered:', message };
    case 'unauthenticated':
      return { lead: 'Your session has ended; sign in again.', message };
    case 'rate_limited':
      return { lead: retryText(err), message };
    case 'not_found':
      return { lead: 'Not found:', message };
    case 'expired':
      return { lead: 'Too late:', message };
    case 'duplicate':
      return { lead: 'Already in progress:', message };
    case 'storage':
      return { lead: 'The database did not answer; try again shortly.', message };
    default:
      return { lead: '', message };
  }
}

/** The error as one line of text (for per-item results). */
export function errorText(err) {
  const { lead, message } = describeError(err);
  return lead ? `${lead} ${message}` : message;
}

/** Shows `err` in `region` (an element with role="alert"). */
export function showError(region, err) {
  const { lead, message } = describeError(err);
  replace(region, h('div', { class: 'message message-error' }, lead ? h('strong', null, lead) : null, lead ? ' ' : null,
    message));
}

/** Shows a plain message (refusals the page makes itself, or a success) in `region`. */
export function showMessage(region, text, tone = 'error') {
  replace(region, h('div', { class: `message message-${tone}` }, text));
}

export function clearMessage(region) {
  region.replaceChildren();
}

/** A server error as it appears inside per-item error documents (`{"kind", "message"}`). */
export function itemError(detail) {
  return { kind: detail && detail.kind, message: (detail && detail.message) || 'failed', detail };
}
