// The overview: the queue at a glance, from GET /api/v1/overview.

import { api, itemsOf } from './api.js';
import { h, replace, field, select } from './dom.js';
import { showError, clearMessage } from './errors.js';
import { columnChart, barChart } from './chart.js';
import { actionTable } from './action-table.js';
import { kindLabel, entitySummary, formatTime, formatDuration, statusChip, formatNumber } from './format.js';

const PERIODS = [['7', 'Past 7 days'], ['30', 'Past 30 days'], ['90', 'Past 90 days']];

/** "Nov 3" for "2026-11-03", read as a calendar day (no time zone shift). */
function dayLabel(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || '');
  if (!m) return String(day);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** The last error of a failed action's attempts, in words. */
function lastError(a) {
  const attempts = a.attempts || [];
  for (let i = attempts.length - 1; i >= 0; i -= 1) {
    const o = attempts[i].outcome;
    if (o && o.type === 'failed') return typeof o.error === 'string' ? o.error : JSON.stringify(o.error);
  }
  return '—';
}

export function createOverview(app) {
  const alert = h('div', { role: 'alert', class: 'view-alert' });
  const content = h('div', { class: 'overview' });
  const period = select(PERIODS, '30', { name: 'days' });
  period.addEventListener('change', load);
  const el = h('section', { class: 'view', 'aria-labelledby': 'overview-title' },
    h('div', { class: 'view-head' }, h('h1', { id: 'overview-title' }, 'Overview'),
      h('form', { class: 'filters inline', onsubmit: (e) => e.preventDefault() }, field('Period', period))),
    alert, content);

  async function load() {
    let o;
    try {
      o = await api.get('/api/v1/overview', { query: { days: period.value } });
      clearMessage(alert);
    } catch (err) {
      if (err.kind !== 'unauthenticated') showError(alert, err);
      return;
    }
    const age = o.pending_by_age || [];
    const kinds = [...(o.pending_by_kind || [])].sort((a, b) => b.count - a.count);
    const perDay = o.decisions_per_day || [];
    const ttd = o.time_to_decision || [];
    const failed = itemsOf(o.failed || []);
    const totalPending = o.pending_total ?? age.reduce((n, b) => n + (b.count || 0), 0);
    const decided = perDay.reduce((n, d) => n + (d.approved || 0) + (d.rejected || 0), 0);
    replace(content,
      o.truncated ? h('p', { class: 'hint' }, 'Some figures stop at the most actions the server reads for an overview.') : null,
      h('ul', { class: 'tiles' },
        h('li', null, h('span', { class: 'tile-value' }, formatNumber(totalPending)), h('span', { class: 'tile-label' }, 'pending')),
        h('li', null, h('span', { class: 'tile-value' }, formatNumber(decided)),
          h('span', { class: 'tile-label' }, `decisions in ${o.days ?? period.value} days`)),
        h('li', null, h('span', { class: 'tile-value' }, formatNumber(failed.length)), h('span', { class: 'tile-label' }, 'failed executions'))),
      h('div', { class: 'chart-grid' },
        h('section', { class: 'panel' }, columnChart({
          title: 'Pending actions by age',
          categoryTitle: 'Waiting for',
          categories: age.map((b) => b.label),
          series: [{ name: 'Pending', cls: 'bar-main', values: age.map((b) => b.count) }],
          format: (v) => formatNumber(v ?? 0),
          empty: 'Nothing is pending.',
        })),
        h('section', { class: 'panel' }, barChart({
          title: 'Pending actions by action type',
          categoryTitle: 'Action type',
          valueTitle: 'Pending',
          categories: kinds.map((k) => kindLabel(k.kind)),
          values: kinds.map((k) => k.count),
          format: (v) => formatNumber(v ?? 0),
          empty: 'Nothing is pending.',
        })),
        h('section', { class: 'panel' }, columnChart({
          title: 'Decisions per day',
          categoryTitle: 'Day',
          categories: perDay.map((d) => dayLabel(d.day)),
          series: [
            { name: 'Approved', cls: 'bar-approved', values: perDay.map((d) => d.approved || 0) },
            { name: 'Rejected', cls: 'bar-rejected', values: perDay.map((d) => d.rejected || 0) },
          ],
          format: (v) => formatNumber(v ?? 0),
          empty: 'No decisions in this period.',
        })),
        h('section', { class: 'panel' }, columnChart({
          title: 'Median time to decision per day',
          categoryTitle: 'Day',
          categories: ttd.map((d) => dayLabel(d.day)),
          series: [{ name: 'Median time to decision', cls: 'bar-time', values: ttd.map((d) => d.median_seconds) }],
          format: (v) => (v == null ? '—' : formatDuration(v)),
          axisFormat: (v) => (v === 0 ? '0' : formatDuration(v)),
          unit: 'seconds',
          empty: 'No decisions in this period.',
        }))),
      h('section', { class: 'panel', 'aria-labelledby': 'overview-failed' },
        h('h2', { id: 'overview-failed' }, `Failed executions (${failed.length})`),
        actionTable({
          actions: failed,
          open: (id, row) => app.openAction(id, row),
          empty: 'No execution failed in this period.',
          columns: [
            ['Action type', (a) => kindLabel(a.kind)],
            ['Entity', (a) => entitySummary(a.entity)],
            ['Status', (a) => statusChip(a.status)],
            ['Created', (a) => formatTime(a.created_at)],
            ['Error', (a) => lastError(a)],
          ],
        })));
  }

  return { el, title: 'Overview', refresh: load };
}
