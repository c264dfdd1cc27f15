// The policy page: the stored policy read-only, and for administrators of
// every category an editor that stores a new version.

import { api, itemsOf } from './api.js';
import { h, replace, definitions, field, simpleTable } from './dom.js';
import { showError, showMessage, clearMessage } from './errors.js';
import { kindLabel, categoryLabel, sourceTypeLabel, formatFullTime, formatDuration } from './format.js';
import { administersAll } from './session.js';

const OPERATIONS = ['view', 'propose', 'approve', 'cancel', 'execute', 'undo', 'administer'];

function categories(list) {
  if (!Array.isArray(list) || !list.length) return '—';
  return list.map((c) => (c === '*' ? 'all' : categoryLabel(c))).join(', ');
}

function levelText(level) {
  return { full: 'Full: runs at once', semi: 'Semi: waits for approval', none: 'None: waits for approval' }[level]
    || String(level ?? '—');
}

function ruleRows(rules) {
  return [
    ['Quorum', rules.quorum != null ? `${rules.quorum} approver${rules.quorum === 1 ? '' : 's'}` : null],
    ['Approval window', rules.pending_ttl_seconds != null ? formatDuration(rules.pending_ttl_seconds) : null],
    ['When the window closes', rules.on_expiry != null ? String(rules.on_expiry) : null],
    ['Execution attempts', rules.max_attempts != null ? String(rules.max_attempts) : null],
    ['Duplicates allowed', rules.allow_duplicates != null ? (rules.allow_duplicates ? 'yes' : 'no') : null],
  ];
}

function readOnly(stored) {
  const p = stored.policy || {};
  const roles = Object.entries(p.roles || {});
  const principals = Object.entries(p.principals || {});
  const groups = Object.entries(p.groups || {});
  const automation = p.automation || {};
  const kinds = Object.entries(p.kinds || {});
  const autoRows = [
    ['Default', levelText(automation.default || 'semi')],
    ...Object.entries(automation.categories || {}).map(([c, l]) => [`Category ${categoryLabel(c)}`, levelText(l)]),
    ...Object.entries(automation.sources || {}).map(([s, l]) => [`Source ${sourceTypeLabel(s)}`, levelText(l)]),
    ...Object.entries(automation.kinds || {}).map(([k, l]) => [`Action type ${kindLabel(k)}`, levelText(l)]),
  ];
  return [
    h('section', { class: 'panel' }, h('h2', null, 'Roles'),
      simpleTable('What each role may do, per category, and the sources it may propose as', ['Role', ...OPERATIONS.map((o) => o[0].toUpperCase() + o.slice(1)), 'Proposes as'],
        roles.map(([role, grants]) => [h('strong', null, role), ...OPERATIONS.map((o) => categories(grants[o])),
          grants.sources ? grants.sources.map(sourceTypeLabel).join(', ') : 'any source, without its automation']))),
    h('section', { class: 'panel' }, h('h2', null, 'Principals'),
      principals.length ? simpleTable('Principals named by the policy', ['Principal', 'Roles'],
        principals.map(([id, r]) => [h('span', { class: 'mono' }, id), (r || []).join(', ')]))
        : h('p', { class: 'empty' }, 'The policy names no principal.'),
      groups.length ? simpleTable('Groups from single sign-on', ['Group', 'Roles'],
        groups.map(([g, r]) => [h('span', { class: 'mono' }, g), (r || []).join(', ')])) : null),
    h('section', { class: 'panel' }, h('h2', null, 'Automation'),
      h('p', { class: 'hint' }, 'Which proposals run without waiting for a person. The most specific rule wins.'),
      simpleTable(null, ['Applies to', 'Level'], autoRows)),
    h('section', { class: 'panel' }, h('h2', null, 'Approval rules'),
      definitions([
        ['Self-approval', p.allow_self_approval ? 'allowed' : 'not allowed: someone other than the proposer approves'],
        ...ruleRows(p.defaults || {}),
      ]),
      kinds.length ? simpleTable('Rules per action type', ['Action type', 'Quorum', 'Approval window', 'When the window closes',
        'Execution attempts', 'Duplicates allowed'],
      kinds.map(([k, r]) => [kindLabel(k), ...ruleRows(r).map(([, v]) => v ?? 'default')])) : null),
  ];
}

export function createPolicyView(app) {
  const alert = h('div', { role: 'alert', class: 'view-alert' });
  const head = h('p', { class: 'view-sub' });
  const content = h('div');
  const editorHolder = h('div');
  const versionsHolder = h('div');
  const el = h('section', { class: 'view', 'aria-labelledby': 'policy-title' },
    h('div', { class: 'view-head' }, h('h1', { id: 'policy-title' }, 'Policy'), head), alert, content, editorHolder,
    versionsHolder);

  function editor(stored) {
    const text = h('textarea', { name: 'policy', rows: '22', spellcheck: 'false', class: 'code' });
    text.value = JSON.stringify(stored.policy, null, 2);
    const comment = h('input', { type: 'text', name: 'policy-comment', autocomplete: 'off' });
    const save = h('button', { type: 'submit', class: 'button' }, 'Store a new version');
    const form = h('form', { class: 'panel policy-editor', 'aria-labelledby': 'policy-edit' },
      h('h2', { id: 'policy-edit' }, 'Change the policy'),
      h('p', { class: 'hint' }, `Stored as version ${stored.version + 1} if no one changed it since version ${stored.version}. Every handle on the database enforces it at once.`),
      field('Policy JSON', text), field('Comment', comment, 'Kept in the audit trail with the change.'), save);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearMessage(alert);
      let policy;
      try {
        policy = JSON.parse(text.value);
      } catch (err) {
        showMessage(alert, `The policy is not valid JSON: ${err.message}`);
        text.focus();
        return;
      }
      const body = { policy, expected_version: stored.version };
      if (comment.value.trim()) body.comment = comment.value.trim();
      save.disabled = true;
      try {
        const now = await api.put('/api/v1/policy', body);
        await load();
        showMessage(alert, `Policy version ${now && now.version != null ? now.version : stored.version + 1} stored.`, 'success');
        app.announce('Policy stored');
      } catch (err) {
        showError(alert, err);
        save.disabled = false;
      }
    });
    return form;
  }

  async function loadVersions() {
    try {
      const list = itemsOf(await api.get('/api/v1/policy/history'), 'versions');
      if (!list.length) return;
      replace(versionsHolder, h('section', { class: 'panel' }, h('details', null,
        h('summary', null, `Every version (${list.length})`),
        simpleTable(null, ['Version', 'Set by', 'Set at', 'Digest'],
          [...list].sort((a, b) => b.version - a.version).map((v) => [String(v.version), v.set_by, formatFullTime(v.set_at),
            h('span', { class: 'mono' }, String(v.digest || '').slice(0, 16))])))));
    } catch (err) {
      replace(versionsHolder);
    }
  }

  async function load() {
    let stored;
    try {
      stored = await api.get('/api/v1/policy');
    } catch (err) {
      if (err.kind !== 'unauthenticated') showError(alert, err);
      return;
    }
    replace(head, `Version ${stored.version}, set by ${stored.set_by} on ${formatFullTime(stored.set_at)}. Digest `,
      h('span', { class: 'mono' }, String(stored.digest || '').slice(0, 16)), '…');
    replace(content, readOnly(stored));
    const typing = editorHolder.querySelector('textarea');
    if (administersAll() && !(typing && document.activeElement && editorHolder.contains(document.activeElement))) {
      replace(editorHolder, editor(stored));
    } else if (!administersAll()) {
      replace(editorHolder, h('p', { class: 'hint' }, 'Changing the policy needs the Administer permission on every category.'));
    }
    loadVersions();
  }

  return { el, title: 'Policy', refresh: load };
}
