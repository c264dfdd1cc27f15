// The investigation page: every action one investigation proposed, what
// of it waits for a decision, and the history of its pending actions.

import { api, itemsOf } from './api.js';
import { h, replace } from './dom.js';
import { showError, clearMessage } from './errors.js';
import { actionTable } from './action-table.js';
import {
  kindLabel, entitySummary, sourceSummary, formatTime, formatDuration, waitSeconds, decidedBy,
  shortIds, plural, statusChip,
} from './format.js';

/**
 * Whether the action waited for a person: it is pending or expired, or
 * someone other than its proposer decided on it. A manual response counts
 * as its proposer's approval and never waited.
 */
function waitedForDecision(a) {
  if (a.status === 'pending' || a.status === 'expired') return true;
  const people = decidedBy(a);
  return people.some((who) => who !== a.created_by) || (a.cancellation != null);
}

/** The last decision (or cancellation): who handled the action and when. */
function lastDecision(a) {
  const moves = [...(a.decisions || []).map((d) => ({ by: d.by, at: d.at }))];
  if (a.cancellation) moves.push({ by: a.cancellation.by, at: a.cancellation.at });
  moves.sort((x, y) => (x.at < y.at ? -1 : 1));
  return moves[moves.length - 1] || null;
}

export function createInvestigationView(id, app) {
  const heading = h('h1', null, `Investigation ${id}`);
  const summary = h('p', { class: 'view-sub' }, 'Loading…');
  const alert = h('div', { role: 'alert', class: 'view-alert' });
  const content = h('div', { class: 'investigation' });
  const el = h('section', { class: 'view' }, h('div', { class: 'view-head' }, heading, summary), alert, content);

  async function load() {
    let actions;
    try {
      actions = itemsOf(await api.get('/api/v1/actions', { query: { investigation_id: id, limit: 1000 } }));
      clearMessage(alert);
    } catch (err) {
      if (err.kind !== 'unauthenticated') showError(alert, err);
      return;
    }
    const short = shortIds(actions.map((a) => a.id));
    const byStatus = new Map();
    for (const a of actions) byStatus.set(a.status, (byStatus.get(a.status) || 0) + 1);
    const pending = actions.filter((a) => a.status === 'pending');
    replace(summary, actions.length
      ? `${plural(actions.length, 'action')}, ${pending.length} pending`
      : 'No actions for this investigation.');
    const open = (actionId, row) => app.openAction(actionId, row);
    const history = actions.filter(waitedForDecision).sort((x, y) => (x.created_at < y.created_at ? 1 : -1));
    replace(content,
      h('ul', { class: 'status-summary', 'aria-label': 'Actions per status' }, [...byStatus.entries()].map(([s, n]) => h('li', null,
        statusChip(s), ` ${n}`))),
      h('section', { class: 'panel', 'aria-labelledby': 'inv-pending' },
        h('h2', { id: 'inv-pending' }, `Pending (${pending.length})`),
        actionTable({
          caption: null,
          actions: pending,
          open,
          empty: 'Nothing of this investigation waits for a decision.',
          columns: [
            ['Action type', (a) => kindLabel(a.kind)],
            ['Entity', (a) => entitySummary(a.entity)],
            ['Source', (a) => sourceSummary(a.source)],
            ['Created', (a) => formatTime(a.created_at)],
            ['Wait time', (a) => formatDuration(waitSeconds(a))],
          ],
        })),
      h('section', { class: 'panel', 'aria-labelledby': 'inv-history' },
        h('h2', { id: 'inv-history' }, 'Pending actions history'),
        actionTable({
          actions: history,
          open,
          empty: 'No action of this investigation has waited for a decision.',
          columns: [
            ['Action type', (a) => kindLabel(a.kind)],
            ['Wait time', (a) => formatDuration(waitSeconds(a))],
            ['Entity', (a) => entitySummary(a.entity)],
            ['Status', (a) => statusChip(a.status)],
            ['Handled by', (a) => {
              const last = lastDecision(a);
              if (last) return last.by;
              return a.status === 'expired' ? 'No one (the window closed)' : '—';
            }],
            ['Time of decision', (a) => {
              const last = lastDecision(a);
              return last ? formatTime(last.at) : '—';
            }],
          ],
        })),
      h('section', { class: 'panel', 'aria-labelledby': 'inv-all' },
        h('h2', { id: 'inv-all' }, `All actions (${actions.length})`),
        actionTable({
          actions,
          open,
          empty: 'No actions.',
          columns: [
            ['Action ID', (a) => h('span', { class: 'mono' }, short.get(a.id))],
            ['Action type', (a) => kindLabel(a.kind)],
            ['Entity', (a) => entitySummary(a.entity)],
            ['Source', (a) => sourceSummary(a.source)],
            ['Status', (a) => statusChip(a.status)],
            ['Created', (a) => formatTime(a.created_at)],
            ['Decided by', (a) => decidedBy(a).join(', ') || '—'],
          ],
        })));
  }

  return { el, title: `Investigation ${id}`, refresh: load };
}
