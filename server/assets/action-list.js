// The Pending and History tabs: filters, sortable columns the person
// chooses, paging by cursor, CSV export, and on Pending the bulk decision.

import { api, itemsOf } from './api.js';
import { h, replace, field, select, uid } from './dom.js';
import { errorText, itemError, showError, showMessage, clearMessage } from './errors.js';
import { toCsv, download } from './csv.js';
import {
  KINDS, CATEGORIES, SOURCE_TYPES, HISTORY_STATUSES, IN_FLIGHT_STATUSES, kindLabel, statusLabel, categoryLabel,
  entitySummary, sourceSummary, shortIds, formatTime, formatFullTime, formatDuration, waitSeconds, decidedBy,
  comments, plural,
} from './format.js';
import { can } from './session.js';

const RANGES = [
  ['1d', 'Past day', 1],
  ['7d', 'Past week', 7],
  ['30d', 'Past 30 days', 30],
  ['182d', 'Past 6 months', 182],
];
const PAGE_SIZES = [25, 50, 100, 200];

/**
 * The columns. `text` is what the cell shows and what the CSV holds;
 * `sortValue` orders the column when its header is clicked.
 */
const COLUMNS = [
  { key: 'id', title: 'Action ID', text: (a, ctx) => ctx.short.get(a.id) || a.id },
  {
    key: 'investigation', title: 'Investigation', text: (a) => a.investigation_id || '—',
    cell: (a, text) => (a.investigation_id
      ? h('a', { href: `#/investigations/${encodeURIComponent(a.investigation_id)}` }, text) : text),
  },
  { key: 'kind', title: 'Action type', text: (a) => kindLabel(a.kind) },
  { key: 'entity', title: 'Entity', text: (a) => entitySummary(a.entity), cls: 'wrap' },
  { key: 'source', title: 'Source', text: (a) => sourceSummary(a.source), cls: 'wrap' },
  {
    key: 'status', title: 'Status', text: (a) => statusLabel(a.status),
    cell: (a, text) => h('span', { class: `status status-${a.status}` }, text),
  },
  {
    key: 'created', title: 'Created', text: (a) => formatTime(a.created_at), sortValue: (a) => a.created_at,
    cell: (a, text) => h('time', { datetime: a.created_at, title: formatFullTime(a.created_at) }, text),
  },
  {
    key: 'wait', title: 'Wait time', text: (a) => formatDuration(waitSeconds(a)),
    sortValue: (a) => waitSeconds(a) ?? -1,
  },
  { key: 'decided_by', title: 'Decided by', text: (a) => decidedBy(a).join(', ') || '—' },
  {
    key: 'comments', title: 'Comments', text: (a) => comments(a).join('; ') || '—', cls: 'comment-cell',
    cell: (a, text) => h('span', { class: 'clamp' }, text),
  },
];

const TITLES = { pending: 'Pending actions', history: 'History' };

function storedColumns(tab) {
  try {
    const saved = JSON.parse(localStorage.getItem(`actioncenter.columns.${tab}`) || 'null');
    if (Array.isArray(saved)) {
      const known = saved.filter((k) => COLUMNS.some((c) => c.key === k));
      if (known.length) return known;
    }
  } catch (e) {
    // A broken saved value is replaced by the default.
  }
  return COLUMNS.map((c) => c.key);
}

function saveColumns(tab, keys) {
  try {
    localStorage.setItem(`actioncenter.columns.${tab}`, JSON.stringify(keys));
  } catch (e) {
    // Private windows may refuse storage; the choice then lasts for this page only.
  }
}

/**
 * One tab's view. `app` gives `openAction(id, row)`, `openActionId()` (the
 * action the flyout shows), `refreshCounts()` and `announce(text)`.
 */
export function createActionList(tab, app) {
  const state = {
    filters: { range: '30d', kind: '', category: '', source: '', investigation_id: '', entity: '', status: '' },
    pageSize: 50,
    cursors: [null], // cursors[i] fetches page i
    page: 0,
    nextCursor: null,
    items: [],
    loaded: false,
    sort: { key: 'created', dir: 'desc' },
    columns: storedColumns(tab),
    selected: new Map(), // id -> {version, kind, category}
    shown: [], // the rows as shown: [{action, cells: [text...]}]
    seq: 0,
  };
  const headingId = uid('h');
  const alertRegion = h('div', { role: 'alert', class: 'view-alert' });
  const table = h('table', { class: 'grid actions', 'aria-labelledby': headingId });
  const thead = h('thead');
  const tbody = h('tbody');
  const summary = h('p', { class: 'view-sub', 'aria-live': 'polite' });
  table.append(thead, tbody);
  const pager = h('nav', { class: 'pager', 'aria-label': `${TITLES[tab]} pages` });

  // --- filters -----------------------------------------------------------
  const inputs = {
    range: select(RANGES.map(([v, label]) => [v, label]), state.filters.range, { name: 'range' }),
    kind: select([['', 'Any action type'], ...KINDS.map((k) => [k, kindLabel(k)])], '', { name: 'kind' }),
    category: select([['', 'Any category'], ...CATEGORIES.map((c) => [c, categoryLabel(c)])], '', { name: 'category' }),
    source: select([['', 'Any source'], ...SOURCE_TYPES], '', { name: 'source' }),
    investigation_id: h('input', { type: 'text', name: 'investigation_id', autocomplete: 'off', spellcheck: 'false' }),
    entity: h('input', {
      type: 'search', name: 'entity', autocomplete: 'off', spellcheck: 'false', placeholder: 'Device, hash, user, URL…',
    }),
  };
  if (tab === 'history') {
    inputs.status = select([
      ['', 'Any outcome'],
      ...HISTORY_STATUSES.map((s) => [s, statusLabel(s)]),
      ...IN_FLIGHT_STATUSES.map((s) => [s, `${statusLabel(s)} (in progress)`]),
    ], '', { name: 'status' });
  }
  const pageSize = select(PAGE_SIZES.map((n) => [String(n), `${n} per page`]), String(state.pageSize),
    { name: 'limit' });

  const filterForm = h('form', { class: 'filters', role: 'search', 'aria-label': `Filter ${TITLES[tab].toLowerCase()}` },
    field('Time range', inputs.range),
    field('Action type', inputs.kind),
    field('Category', inputs.category),
    field('Source', inputs.source),
    inputs.status ? field('Status', inputs.status) : null,
    field('Investigation', inputs.investigation_id),
    field('Entity', inputs.entity),
    field('Page size', pageSize),
    h('div', { class: 'field field-buttons' },
      h('button', { type: 'submit', class: 'button' }, 'Apply'),
      h('button', { type: 'button', class: 'button-quiet', onclick: clearFilters }, 'Clear')));

  function readFilters() {
    for (const [key, el] of Object.entries(inputs)) state.filters[key] = el.value.trim();
    state.pageSize = Number(pageSize.value) || 50;
  }

  function restart() {
    readFilters();
    state.cursors = [null];
    state.page = 0;
    load();
  }

  function clearFilters() {
    for (const [key, el] of Object.entries(inputs)) el.value = key === 'range' ? '30d' : '';
    restart();
  }

  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    restart();
  });
  filterForm.addEventListener('change', (e) => {
    if (e.target.tagName === 'SELECT') restart();
  });

  // --- columns menu and export ------------------------------------------------
  const columnsMenuId = uid('menu');
  const columnsButton = h('button', {
    type: 'button', class: 'button-quiet', 'aria-expanded': 'false', 'aria-controls': columnsMenuId,
    'aria-haspopup': 'true',
  }, 'Columns');
  const columnsMenu = h('fieldset', { class: 'menu', id: columnsMenuId, hidden: true },
    h('legend', null, 'Columns shown'));
  for (const col of COLUMNS) {
    const box = h('input', { type: 'checkbox', name: col.key, checked: state.columns.includes(col.key) });
    box.addEventListener('change', () => {
      const chosen = COLUMNS.map((c) => c.key).filter((k) => columnsMenu.querySelector(`input[name="${k}"]`).checked);
      if (!chosen.length) {
        box.checked = true;
        return;
      }
      state.columns = chosen;
      saveColumns(tab, chosen);
      render();
    });
    columnsMenu.append(h('label', { class: 'check' }, box, ' ', col.title));
  }
  // A click outside the open menu closes it.
  const closeOutside = (e) => {
    if (!columnsMenu.contains(e.target) && !columnsButton.contains(e.target)) toggleMenu(false);
  };
  function toggleMenu(open) {
    columnsMenu.hidden = !open;
    columnsButton.setAttribute('aria-expanded', String(open));
    if (open) {
      document.addEventListener('click', closeOutside);
      columnsMenu.querySelector('input').focus();
    } else {
      document.removeEventListener('click', closeOutside);
    }
  }
  columnsButton.addEventListener('click', () => toggleMenu(columnsMenu.hidden));
  columnsMenu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      toggleMenu(false);
      columnsButton.focus();
    }
  });

  const exportButton = h('button', { type: 'button', class: 'button-quiet', onclick: exportCsv }, 'Export CSV');

  function visibleColumns() {
    return COLUMNS.filter((c) => state.columns.includes(c.key));
  }

  function exportCsv() {
    const cols = visibleColumns();
    const rows = state.shown.map((row) => row.cells);
    download(`actioncenter-${tab}.csv`, toCsv(cols.map((c) => c.title), rows));
    app.announce(`Exported ${plural(rows.length, 'row')} to actioncenter-${tab}.csv`);
  }

  // --- bulk --------------------------------------------------------------------
  const bulk = tab === 'pending' ? createBulkBar() : null;

  function createBulkBar() {
    const count = h('span', { class: 'bulk-count' });
    const comment = h('input', { type: 'text', name: 'bulk-comment', autocomplete: 'off' });
    const hint = h('p', { class: 'hint bulk-hint', id: uid('hint'), 'aria-live': 'polite' });
    const approve = h('button', { type: 'button', class: 'button', 'aria-describedby': hint.id }, 'Approve selected');
    const reject = h('button', { type: 'button', class: 'button button-danger', 'aria-describedby': hint.id },
      'Reject selected');
    const clear = h('button', { type: 'button', class: 'button-quiet' }, 'Clear selection');
    const bar = h('div', { class: 'bulkbar', role: 'group', 'aria-label': 'Decide on the selected actions' },
      count, field('Comment', comment), approve, reject, clear, hint);
    const alert = h('div', { role: 'alert', class: 'bulk-alert' });
    const results = h('div', { class: 'bulk-results', 'aria-live': 'polite' });

    clear.addEventListener('click', () => {
      state.selected.clear();
      render();
    });
    approve.addEventListener('click', () => run('approve'));
    reject.addEventListener('click', () => run('reject'));

    async function run(op) {
      clearMessage(alert);
      const picked = [...state.selected.entries()];
      if (!picked.length) return;
      const text = comment.value.trim();
      if (op === 'reject' && !text) {
        showMessage(alert, 'A comment is required to reject: say why these actions should not run.');
        comment.focus();
        return;
      }
      approve.disabled = true;
      reject.disabled = true;
      const body = { op, ids: picked.map(([id, s]) => ({ id, version: s.version })) };
      if (text) body.comment = text;
      try {
        const answer = await api.post('/api/v1/bulk', body);
        const lines = itemsOf(answer, 'results');
        const described = new Map(picked.map(([id, s]) => [id, s]));
        const okCount = lines.filter((r) => r.ok).length;
        replace(results,
          h('h2', { class: 'h3' }, `${op === 'approve' ? 'Approve' : 'Reject'}: ${okCount} of ${plural(lines.length, 'action')} done`),
          h('ul', { class: 'result-list' }, lines.map((r) => {
            const s = described.get(r.id) || {};
            const what = `${s.short || String(r.id).slice(0, 8)} ${s.label || ''}`.trim();
            return h('li', { class: r.ok ? 'result-ok' : 'result-error', dataset: { id: r.id } },
              h('span', { class: 'result-mark', 'aria-hidden': 'true' }, r.ok ? '✓' : '✗'), ' ',
              h('strong', null, what), ': ',
              r.ok ? statusLabel((r.action && r.action.status) || (op === 'approve' ? 'approved' : 'rejected'))
                : errorText(itemError(r.error)));
          })));
        app.announce(`${okCount} of ${plural(lines.length, 'action')} ${op === 'approve' ? 'approved' : 'rejected'}`);
        state.selected.clear();
        comment.value = '';
      } catch (err) {
        showError(alert, err);
      }
      await load();
      update();
      app.refreshCounts();
    }

    function update() {
      const picked = [...state.selected.values()];
      const kinds = new Set(picked.map((s) => s.kind));
      count.textContent = picked.length ? `${plural(picked.length, 'action')} selected` : 'No actions selected';
      const oneKind = kinds.size === 1;
      approve.disabled = !oneKind;
      reject.disabled = !oneKind;
      clear.disabled = picked.length === 0;
      if (kinds.size > 1) hint.textContent = 'Select actions of one action type';
      else if (!picked.length) hint.textContent = 'Select actions of one action type to approve or reject them together.';
      else hint.textContent = `${kindLabel([...kinds][0])}: ready to decide.`;
      bar.classList.toggle('bulkbar-mixed', kinds.size > 1);
    }

    return { el: h('div', { class: 'bulk' }, bar, alert, results), update };
  }

  // --- the table -------------------------------------------------------------
  function sortedItems() {
    const col = COLUMNS.find((c) => c.key === state.sort.key);
    if (!col) return state.items;
    const ctx = { short: state.short };
    const value = col.sortValue || ((a) => col.text(a, ctx).toLowerCase());
    const dir = state.sort.dir === 'asc' ? 1 : -1;
    return [...state.items].sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (x < y) return -dir;
      if (x > y) return dir;
      return a.id < b.id ? dir : -dir;
    });
  }

  function renderHead(cols) {
    const row = h('tr');
    if (bulk) {
      const all = h('input', { type: 'checkbox', 'aria-label': 'Select every action shown' });
      const ids = state.items.map((a) => a.id);
      const chosen = ids.filter((id) => state.selected.has(id)).length;
      all.checked = ids.length > 0 && chosen === ids.length;
      all.indeterminate = chosen > 0 && chosen < ids.length;
      all.addEventListener('change', () => {
        for (const a of state.items) {
          if (all.checked) remember(a);
          else state.selected.delete(a.id);
        }
        render();
      });
      row.append(h('th', { scope: 'col', class: 'select' }, all));
    }
    for (const col of cols) {
      const sorted = state.sort.key === col.key;
      const th = h('th', { scope: 'col', 'aria-sort': sorted ? (state.sort.dir === 'asc' ? 'ascending' : 'descending') : null });
      const button = h('button', { type: 'button', class: 'sort', dataset: { key: col.key } }, col.title,
        h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, sorted ? (state.sort.dir === 'asc' ? ' ▲' : ' ▼') : ''));
      button.addEventListener('click', () => {
        state.sort = { key: col.key, dir: sorted && state.sort.dir === 'asc' ? 'desc' : 'asc' };
        if (!sorted && (col.key === 'created' || col.key === 'wait')) state.sort.dir = 'desc';
        render();
        thead.querySelector(`button[data-key="${col.key}"]`).focus();
      });
      th.append(button);
      row.append(th);
    }
    replace(thead, row);
  }

  function remember(a) {
    state.selected.set(a.id, {
      version: a.version, kind: a.kind, category: a.category, short: state.short.get(a.id),
      label: `${kindLabel(a.kind)} ${entitySummary(a.entity)}`,
    });
  }

  function renderBody(cols) {
    const focused = document.activeElement;
    const focusRow = focused && tbody.contains(focused) ? focused.closest('tr') : null;
    const focusId = focusRow ? focusRow.dataset.id : null;
    const focusWasBox = focused && focused.type === 'checkbox';
    const ctx = { short: state.short };
    state.shown = [];
    const rows = [];
    for (const a of sortedItems()) {
      const cells = cols.map((c) => c.text(a, ctx));
      state.shown.push({ action: a, cells });
      const tr = h('tr', {
        tabindex: '0', class: 'action-row', dataset: { id: a.id },
        'aria-label': `${kindLabel(a.kind)}, ${entitySummary(a.entity)}, ${statusLabel(a.status)}`,
      });
      if (app.openActionId() === a.id) tr.classList.add('is-open');
      if (bulk) {
        const box = h('input', {
          type: 'checkbox', checked: state.selected.has(a.id),
          'aria-label': `Select ${kindLabel(a.kind)} on ${entitySummary(a.entity)}`,
        });
        box.addEventListener('change', () => {
          if (box.checked) remember(a);
          else state.selected.delete(a.id);
          tr.classList.toggle('selected', box.checked);
          renderHead(cols);
          bulk.update();
        });
        tr.append(h('td', { class: 'select' }, box));
        if (box.checked) tr.classList.add('selected');
      }
      cols.forEach((c, i) => {
        const text = cells[i];
        tr.append(h('td', { class: c.cls, title: c.key === 'comments' && text !== '—' ? text : null },
          c.cell ? c.cell(a, text) : text));
      });
      rows.push(tr);
    }
    if (!rows.length) {
      const span = cols.length + (bulk ? 1 : 0);
      rows.push(h('tr', { class: 'empty-row' }, h('td', { colspan: String(span) },
        state.loaded ? (tab === 'pending' ? 'Nothing is waiting for a decision.' : 'No actions match.') : 'Loading…')));
    }
    replace(tbody, rows);
    if (focusId) {
      const again = tbody.querySelector(`tr[data-id="${CSS.escape(focusId)}"]`);
      if (again) (focusWasBox ? again.querySelector('input') || again : again).focus();
    }
  }

  function renderPager() {
    const prev = h('button', { type: 'button', class: 'button-quiet', disabled: state.page === 0 }, '‹ Previous page');
    const next = h('button', { type: 'button', class: 'button-quiet', disabled: !state.nextCursor }, 'Next page ›');
    prev.addEventListener('click', () => {
      state.page = Math.max(0, state.page - 1);
      load();
    });
    next.addEventListener('click', () => {
      state.cursors[state.page + 1] = state.nextCursor;
      state.page += 1;
      load();
    });
    const from = state.page * state.pageSize + 1;
    const to = state.page * state.pageSize + state.items.length;
    replace(pager, prev, h('span', { class: 'pager-where' },
      state.items.length ? `Page ${state.page + 1} · ${from}–${to}` : `Page ${state.page + 1}`), next);
  }

  function render() {
    state.short = shortIds(state.items.map((a) => a.id));
    const cols = visibleColumns();
    renderHead(cols);
    renderBody(cols);
    renderPager();
    if (bulk) bulk.update();
    summary.textContent = state.loaded ? `${plural(state.items.length, 'action')} shown` : '';
  }

  // Opening a row: a click anywhere but its controls, or Enter on the row.
  tbody.addEventListener('click', (e) => {
    if (e.target.closest('a, button, input, label, select, textarea')) return;
    const tr = e.target.closest('tr[data-id]');
    if (tr) app.openAction(tr.dataset.id, tr);
  });
  tbody.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr) return;
    if (e.key === 'Enter' && e.target === tr) {
      e.preventDefault();
      app.openAction(tr.dataset.id, tr);
    } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && e.target === tr) {
      const to = e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
      if (to && to.dataset.id) {
        e.preventDefault();
        to.focus();
      }
    }
  });

  async function load() {
    const seq = ++state.seq;
    const f = state.filters;
    const days = (RANGES.find(([v]) => v === f.range) || RANGES[2])[2];
    const query = {
      limit: state.pageSize,
      cursor: state.cursors[state.page] || null,
      created_after: new Date(Date.now() - days * 86400000).toISOString(),
      kind: f.kind, category: f.category, source: f.source, investigation_id: f.investigation_id, entity: f.entity,
    };
    if (tab === 'pending') query.tab = 'pending';
    else if (f.status) query.status = f.status;
    else query.tab = 'history';
    try {
      const page = await api.get('/api/v1/actions', { query });
      if (seq !== state.seq) return;
      state.items = itemsOf(page);
      state.nextCursor = (page && page.next_cursor) || null;
      state.loaded = true;
      // A selected action that left the page (decided elsewhere) is no longer selected.
      const here = new Map(state.items.map((a) => [a.id, a]));
      for (const [id, s] of state.selected) {
        const a = here.get(id);
        if (!a || a.status !== 'pending') state.selected.delete(id);
        else s.version = a.version;
      }
      clearMessage(alertRegion);
      render();
    } catch (err) {
      if (seq !== state.seq) return;
      if (err.kind !== 'unauthenticated') showError(alertRegion, err);
    }
  }

  const el = h('section', { class: 'view', 'aria-labelledby': headingId },
    h('div', { class: 'view-head' }, h('h1', { id: headingId }, TITLES[tab]), summary,
      h('div', { class: 'toolbar toolbar-end' }, h('div', { class: 'menu-anchor' }, columnsButton, columnsMenu),
        exportButton)),
    filterForm,
    bulk && CATEGORIES.some((c) => can('approve', c)) ? bulk.el : null,
    alertRegion,
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': `${TITLES[tab]} table`, tabindex: '-1' }, table),
    pager);
  render();

  return {
    el,
    title: TITLES[tab],
    /** Loads the current page again (filters, sort, selection and focus stay). */
    refresh: load,
    /** Redraws without fetching: wait times move on. */
    redraw: render,
    focusRow(id) {
      const tr = tbody.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
      if (tr) tr.focus();
      return Boolean(tr);
    },
  };
}
