// The audit page: the server verifies the hash chain, every action row
// against its last event and the stored policy; the signed checkpoints
// that make a rewrite or a cut tail detectable.

import { api, itemsOf } from './api.js';
import { h, replace, definitions } from './dom.js';
import { showError, showMessage, clearMessage } from './errors.js';
import { formatFullTime, formatNumber, plural } from './format.js';
import { administersAll } from './session.js';

function mono(text) {
  return text == null ? null : h('span', { class: 'mono break' }, String(text));
}

function mismatchText(m) {
  if (!m) return null;
  if (typeof m === 'string') return m;
  const rest = Object.entries(m).filter(([k]) => k !== 'type').map(([k, v]) => `${k} ${v}`).join(', ');
  return rest ? `${m.type} (${rest})` : m.type;
}

function checkpointFields(cp) {
  return definitions([
    ['Event', `#${cp.seq}`],
    ['Chain head', mono(cp.hash)],
    ['Signed at', formatFullTime(cp.at)],
    ['Public key', mono(cp.public_key)],
    ['Key fingerprint', mono(cp.key_fingerprint || cp.fingerprint)],
    ['Signature', mono(cp.signature)],
    ['Previous checkpoint', cp.prev ? mono(cp.prev) : 'none (the first)'],
    ['Format', cp.format != null ? String(cp.format) : null],
  ]);
}

export function createAuditView() {
  const alert = h('div', { role: 'alert', class: 'view-alert' });
  const reportHolder = h('div', null, h('p', { class: 'empty' }, 'Verifying…'));
  const checkpointsHolder = h('div', null, h('p', { class: 'empty' }, 'Loading…'));
  const verifyButton = h('button', { type: 'button', class: 'button-quiet' }, 'Verify again');
  const signButton = h('button', { type: 'button', class: 'button-quiet', hidden: !administersAll() }, 'Sign a checkpoint now');
  verifyButton.addEventListener('click', () => load());
  signButton.addEventListener('click', async () => {
    signButton.disabled = true;
    try {
      const cp = await api.post('/api/v1/audit/checkpoints', {});
      await load();
      showMessage(alert, `Checkpoint signed at event #${cp && cp.seq != null ? cp.seq : '?'}.`, 'success');
    } catch (err) {
      showError(alert, err);
    }
    signButton.disabled = false;
  });
  const el = h('section', { class: 'view', 'aria-labelledby': 'audit-title' },
    h('div', { class: 'view-head' }, h('h1', { id: 'audit-title' }, 'Audit trail'),
      h('div', { class: 'toolbar' }, verifyButton, signButton)),
    alert,
    h('section', { class: 'panel', 'aria-labelledby': 'audit-report' }, h('h2', { id: 'audit-report' }, 'Verification'),
      reportHolder),
    h('section', { class: 'panel', 'aria-labelledby': 'audit-checkpoints' },
      h('h2', { id: 'audit-checkpoints' }, 'Signed checkpoints'), checkpointsHolder));

  async function loadReport() {
    const r = await api.get('/api/v1/audit');
    const intact = r.intact ?? (!r.first_bad && !r.first_bad_action && !r.policy_problem && !r.counts_problem);
    const cps = r.checkpoints || {};
    replace(reportHolder,
      h('p', { class: `verdict ${intact ? 'verdict-ok' : 'verdict-bad'}` },
        h('span', { 'aria-hidden': 'true' }, intact ? '✓ ' : '✗ '),
        intact ? 'Intact: every event links to the one before it, every action matches its last event, the policy matches its last change, and the counts match the actions.'
          : `Not intact: ${r.problem || 'a problem was found'}`),
      definitions([
        ['Events checked', formatNumber(r.events_checked)],
        ['Actions checked', r.actions_checked != null ? formatNumber(r.actions_checked) : null],
        ['Chain head', mono(r.head)],
        ['First bad event', r.first_bad ? `#${r.first_bad.seq}${r.first_bad.action_id ? ` (action ${r.first_bad.action_id})` : ''}: ${mismatchText(r.first_bad.mismatch)}` : 'none'],
        ['First bad action', r.first_bad_action ? `${r.first_bad_action.id}: ${mismatchText(r.first_bad_action.mismatch)}` : 'none'],
        ['Policy', r.policy_problem || 'matches its last change'],
        ['Counts', r.counts_problem || 'match the stored actions'],
        ['Checkpoints checked', cps.checked != null ? `${formatNumber(cps.checked)}${cps.signatures_checked ? ', signatures checked' : ', signatures not checked (no public key given to the server)'}` : null],
        ['Checkpoint problem', cps.problem || (cps.checked ? 'none' : null)],
        ['Problem', r.problem],
      ]));
  }

  async function loadCheckpoints() {
    const list = itemsOf(await api.get('/api/v1/audit/checkpoints'), 'checkpoints');
    if (!list.length) {
      replace(checkpointsHolder, h('p', { class: 'empty' },
        'No checkpoint has been signed yet. An administrator signs one with the server\'s key (actionctl audit checkpoint, or the button above).'));
      return;
    }
    const sorted = [...list].sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0));
    const latest = sorted[0];
    replace(checkpointsHolder,
      h('h3', null, 'Latest'), checkpointFields(latest),
      sorted.length > 1 ? h('details', null, h('summary', null, `All ${plural(sorted.length, 'checkpoint')}`),
        h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact' },
          h('thead', null, h('tr', null, ['Event', 'Signed at', 'Chain head', 'Public key'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, sorted.map((cp) => h('tr', null, h('td', null, `#${cp.seq}`), h('td', null, formatFullTime(cp.at)),
            h('td', null, mono(String(cp.hash || '').slice(0, 16) + '…')),
            h('td', null, mono(String(cp.public_key || '').slice(0, 16) + '…')))))))) : null);
  }

  async function load() {
    clearMessage(alert);
    const results = await Promise.allSettled([loadReport(), loadCheckpoints()]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed && failed.reason.kind !== 'unauthenticated') showError(alert, failed.reason);
  }

  return { el, title: 'Audit', refresh: load };
}
