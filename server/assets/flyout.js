// The flyout: one action, whole. Every field, its decisions, attempts and
// audit events, the other instances of a quarantined file, and the
// decisions the person may make on it.

import { api, request, itemsOf, actionPath, versionFromEtag } from './api.js';
import { h, replace, definitions, field } from './dom.js';
import { showError, showMessage, clearMessage } from './errors.js';
import {
  kindLabel, statusLabel, categoryLabel, entitySummary, entityFields, sourceSummary, formatFullTime, formatPreciseTime,
  formatDuration,
  waitSeconds, verdictOf, inverseKind, shortId, plural, statusChip,
} from './format.js';
import { can, principal } from './session.js';

function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

function section(title, ...content) {
  return h('section', { class: 'flyout-section' }, h('h3', null, title), content);
}

/**
 * `app` gives `close()`, `openUndo(action, version, returnFocus)`,
 * `changed()` (after a decision) and `announce(text)`.
 */
export function createFlyout(root, app) {
  const titleId = 'flyout-title';
  const title = h('h2', { id: titleId, tabindex: '-1' }, 'Action');
  const closeButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close the action details' }, '✕');
  const alert = h('div', { role: 'alert', class: 'flyout-alert' });
  const body = h('div', { class: 'flyout-body' });
  replace(root, h('div', { class: 'flyout-head' }, title, closeButton), alert, body);
  closeButton.addEventListener('click', () => app.close());
  root.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      app.close();
    }
  });

  let current = null; // {action, version, events}
  let openId = null;
  let opener = null;
  let seq = 0;

  async function load(id) {
    const mine = ++seq;
    const got = await request('GET', actionPath(id));
    const action = got.data;
    const version = versionFromEtag(got.etag) ?? action.version;
    let events = [];
    let eventsError = null;
    try {
      events = itemsOf(await api.get(actionPath(id, 'events')), 'events');
    } catch (err) {
      eventsError = err;
    }
    if (mine !== seq) return null;
    return { action, version, events, eventsError };
  }

  async function show(id, { keepMessage = false } = {}) {
    const commentBox = body.querySelector('textarea[name="comment"]');
    const typed = commentBox ? commentBox.value : '';
    const focusedName = document.activeElement && body.contains(document.activeElement)
      ? document.activeElement.dataset.focus : null;
    try {
      const loaded = await load(id);
      if (!loaded || id !== openId) return;
      current = loaded;
      if (!keepMessage) clearMessage(alert);
      render(typed);
      if (focusedName) {
        // The same control drawn anew; when it is gone (Approve after the
        // approval), the flyout's title, so the focus stays in the flyout.
        const again = body.querySelector(`[data-focus="${focusedName}"]`);
        (again || title).focus();
      }
    } catch (err) {
      if (id !== openId) return;
      if (!current || current.action.id !== id) replace(body, h('p', { class: 'empty' }, 'This action could not be loaded.'));
      showError(alert, err);
    }
  }

  function render(typed) {
    const { action: a, version, events, eventsError } = current;
    title.textContent = `${kindLabel(a.kind)} · ${entitySummary(a.entity)}`;
    const parts = [];
    parts.push(h('div', { class: 'flyout-summary' },
      statusChip(a.status),
      h('span', { class: 'mono' }, a.id),
      a.investigation_id ? h('a', {
        class: 'button-quiet', href: `#/investigations/${encodeURIComponent(a.investigation_id)}`,
      }, `Open investigation ${a.investigation_id}`) : null));
    parts.push(decisionPanel(a, version, typed));
    parts.push(section('Details', definitions([
      ['Action ID', h('span', { class: 'mono' }, a.id)],
      ['Action type', kindLabel(a.kind)],
      ['Category', categoryLabel(a.category)],
      ['Status', statusLabel(a.status)],
      ['Entity', entitySummary(a.entity)],
      ...entityFields(a.entity).map(([k, v]) => [k, h('span', { class: 'mono' }, v)]),
      ['Source', sourceSummary(a.source, true)],
      ['Investigation', a.investigation_id],
      ['Incident', a.incident_id],
      ['Alert', a.alert_id],
      ['Created', formatFullTime(a.created_at)],
      ['Created by', a.created_via ? `${a.created_by} (via ${a.created_via})` : a.created_by],
      ['Wait time', formatDuration(waitSeconds(a))],
      ['Expires', a.expires_at ? formatFullTime(a.expires_at) : null],
      ['Updated', formatFullTime(a.updated_at)],
      ['Version', String(a.version)],
      ['Idempotency key', a.idempotency_key],
    ])));
    if (a.parameters && Object.keys(a.parameters).length) parts.push(section('Parameters', json(a.parameters)));
    parts.push(section('Decisions', (a.decisions || []).length
      ? h('ul', { class: 'timeline' }, a.decisions.map((d) => h('li', null,
        h('strong', null, verdictOf(d) === 'reject' ? 'Rejected' : 'Approved'), ' by ', d.by,
        d.via ? ` (via ${d.via})` : '', ' · ', formatFullTime(d.at),
        d.policy_version != null ? ` · policy v${d.policy_version}` : '',
        d.comment ? h('blockquote', null, d.comment) : null)))
      : h('p', { class: 'empty' }, a.status === 'pending' ? 'No decision yet.' : 'No decisions.')));
    if (a.cancellation) {
      parts.push(section('Cancellation', definitions([
        ['Cancelled by', a.cancellation.by], ['At', formatFullTime(a.cancellation.at)], ['Comment', a.cancellation.comment],
      ])));
    }
    parts.push(section('Execution attempts', (a.attempts || []).length ? attemptsList(a.attempts)
      : h('p', { class: 'empty' }, 'Not executed yet.')));
    if (a.undo) {
      parts.push(section('Undo', definitions([
        ['Requested by', a.undo.requested_by], ['At', formatFullTime(a.undo.requested_at)],
        ['Comment', a.undo.comment], ['Inverse action', kindLabel(a.undo.inverse)],
        ['Applied from', a.undo.fanned_out_from ? h('a', { href: `#/actions/${a.undo.fanned_out_from}` },
          shortId(a.undo.fanned_out_from)) : null],
      ])));
    }
    if (a.entity && a.entity.type === 'file') {
      const holder = h('div', null, h('p', { class: 'empty' }, 'Looking for other instances…'));
      parts.push(section('Other instances of this file', holder));
      otherInstances(a, holder);
    }
    parts.push(section('Audit events', eventsError ? h('p', { class: 'empty' }, `Not available: ${eventsError.message}`)
      : eventsTable(events)));
    replace(body, parts);
  }

  function decisionPanel(a, version, typed) {
    const me = principal();
    const mayApprove = a.status === 'pending' && can('approve', a.category);
    const mayCancel = (a.status === 'pending' || a.status === 'approved') && (can('cancel', a.category) || a.created_by === me);
    const mayRetry = a.status === 'failed' && can('approve', a.category);
    const mayUndo = (a.status === 'completed' || a.status === 'undo_failed') && inverseKind(a.kind) && can('undo', a.category);
    if (!mayApprove && !mayCancel && !mayRetry && !mayUndo) {
      return a.status === 'pending'
        ? h('p', { class: 'hint' }, 'You may view this action; deciding on it needs the Approve permission.') : null;
    }
    const comment = h('textarea', {
      name: 'comment', rows: '3', dataset: { focus: 'comment' }, maxlength: '4096',
      placeholder: mayApprove ? 'Why approve or reject? A comment is required to reject.' : '',
    });
    comment.value = typed || '';
    const buttons = [];
    const decide = (verb, label, needsComment, done) => {
      const b = h('button', { type: 'button', class: verb === 'approve' || verb === 'retry' ? 'button' : 'button button-danger',
        dataset: { focus: verb } }, label);
      b.addEventListener('click', async () => {
        const text = comment.value.trim();
        if (needsComment && !text) {
          showMessage(alert, `A comment is required to ${verb} this action. Say why in the comment box.`);
          comment.focus();
          return;
        }
        clearMessage(alert);
        for (const other of buttons) other.disabled = true;
        try {
          const changed = await request('POST', actionPath(a.id, verb), {
            body: text ? { comment: text } : {}, ifMatch: version,
          });
          comment.value = '';
          const status = changed.data && changed.data.status;
          showMessage(alert, `${done}${status ? ` Status: ${statusLabel(status)}.` : ''}`, 'success');
          app.announce(`${kindLabel(a.kind)} ${done.toLowerCase()}`);
          await show(a.id, { keepMessage: true });
        } catch (err) {
          if (err.kind === 'conflict' || err.kind === 'invalid_transition') await show(a.id, { keepMessage: true });
          showError(alert, err);
          for (const other of buttons) other.disabled = false;
        }
        app.changed();
      });
      buttons.push(b);
    };
    if (mayApprove) {
      decide('approve', 'Approve', false, 'Approved.');
      decide('reject', 'Reject', true, 'Rejected.');
    }
    if (mayRetry) decide('retry', 'Retry', false, 'Sent back to the executors.');
    if (mayCancel) decide('cancel', 'Cancel action', true, 'Cancelled.');
    if (mayUndo) {
      const undo = h('button', { type: 'button', class: 'button', dataset: { focus: 'undo' } }, 'Undo…');
      undo.addEventListener('click', () => app.openUndo(a, version, () => {
        const again = body.querySelector('[data-focus="undo"]');
        (again || title).focus();
      }));
      buttons.push(undo);
    }
    const needsText = mayApprove || mayCancel || mayRetry;
    return h('div', { class: 'decision-panel', role: 'group', 'aria-label': 'Decide' },
      needsText ? field('Comment', comment) : null,
      h('div', { class: 'button-row' }, buttons),
      a.status === 'pending' && a.expires_at
        ? h('p', { class: 'hint' }, `Waiting ${formatDuration(waitSeconds(a))}; the approval window closes ${formatFullTime(a.expires_at)}.`)
        : null);
  }

  async function otherInstances(a, holder) {
    const sha = a.entity.sha256;
    let others = null;
    let note = '';
    if (a.kind === 'quarantine_file' && a.status === 'completed' && can('undo', a.category)) {
      try {
        others = itemsOf(await api.get(actionPath(a.id, 'undo')), 'instances');
        note = 'Completed quarantines of the same file that an undo of this one may also restore.';
      } catch (err) {
        others = null;
      }
    }
    if (others === null) {
      try {
        const page = await api.get('/api/v1/actions', { query: { entity: sha, limit: 200 } });
        others = itemsOf(page).filter((o) => o.id !== a.id && o.entity && o.entity.sha256 === sha);
        note = 'Every other action on the same file (same SHA-256).';
      } catch (err) {
        replace(holder, h('p', { class: 'empty' }, `Not available: ${err.message}`));
        return;
      }
    }
    if (!holder.isConnected) return;
    if (!others.length) {
      replace(holder, h('p', { class: 'empty' }, 'No other instance of this file.'));
      return;
    }
    const rows = others.map((o) => h('tr', null,
      h('td', null, h('a', { href: `#/actions/${o.id}`, class: 'mono' }, shortId(o.id))),
      h('td', null, o.entity.device_id || '—'),
      h('td', { class: 'wrap mono' }, o.entity.path || '—'),
      h('td', null, kindLabel(o.kind)),
      h('td', null, statusChip(o.status))));
    replace(holder,
      h('p', { class: 'hint' }, `${plural(others.length, 'other instance')}. ${note}`),
      h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact' },
        h('thead', null, h('tr', null, ['Action', 'Device', 'Path', 'Action type', 'Status'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, rows))));
  }

  function attemptsList(attempts) {
    return h('ol', { class: 'timeline attempts' }, attempts.map((t) => {
      const o = t.outcome;
      let outcome = t.finished_at ? 'Finished' : `Running, lease until ${formatFullTime(t.lease_until)}`;
      let detail = null;
      if (o && o.type === 'completed') {
        outcome = 'Completed';
        detail = o.result;
      } else if (o && o.type === 'failed') {
        outcome = 'Failed';
        detail = o.error;
      } else if (o && o.type === 'lease_expired') outcome = 'Lease expired: the executor stopped answering';
      return h('li', null,
        h('span', { class: `outcome outcome-${o ? o.type : 'running'}` }, outcome),
        t.undo ? ' (undo)' : '', ' · ', t.executor, ' · claimed ', formatFullTime(t.claimed_at),
        t.finished_at ? ` · finished ${formatFullTime(t.finished_at)}` : '',
        detail == null ? null : (typeof detail === 'string' ? h('blockquote', null, detail) : json(detail)));
    }));
  }

  function eventsTable(events) {
    if (!events.length) return h('p', { class: 'empty' }, 'No events.');
    return h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact' },
      h('thead', null, h('tr', null, ['#', 'Time', 'Actor', 'Event', 'Comment'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, events.map((e) => h('tr', null,
        h('td', null, String(e.seq)),
        h('td', { title: formatFullTime(e.at) }, formatPreciseTime(e.at)),
        h('td', null, e.via ? `${e.via} as ${e.actor}` : e.actor),
        h('td', null, e.event, h('div', { class: 'hint' },
          `${e.from ? statusLabel(e.from) : '(new)'} → ${e.to ? statusLabel(e.to) : '—'}`)),
        h('td', { class: 'wrap' }, e.comment || ''))))));
  }

  return {
    get openId() {
      return openId;
    },
    get action() {
      return current && current.action.id === openId ? current.action : null;
    },
    open(id, from) {
      const again = openId === id && !root.hidden;
      openId = id;
      if (from) opener = from;
      else if (!again && document.activeElement && !root.contains(document.activeElement)) opener = document.activeElement;
      if (!again) {
        current = null;
        title.textContent = 'Action';
        clearMessage(alert);
        replace(body, h('p', { class: 'empty' }, 'Loading…'));
      }
      root.hidden = false;
      document.body.classList.add('flyout-open');
      if (!again) title.focus();
      return show(id);
    },
    /** Hides the flyout; returns the element that opened it, for the focus to go back to. */
    close() {
      root.hidden = true;
      document.body.classList.remove('flyout-open');
      openId = null;
      current = null;
      seq += 1;
      const back = opener;
      opener = null;
      return back;
    },
    /** Loads the open action again (after a live event about it). */
    refresh() {
      if (openId) return show(openId, { keepMessage: true });
      return Promise.resolve();
    },
  };
}
