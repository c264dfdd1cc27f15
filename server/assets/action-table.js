// A small table of actions whose rows open the flyout (the investigation
// page, the overview's failed executions).

import { h } from './dom.js';

/**
 * `columns`: [[title, (action) => text or node]]. A click on a row, or
 * Enter on a focused row, calls `open(id, row)`.
 */
export function actionTable({ caption, columns, actions, open, empty = 'None.' }) {
  if (!actions.length) return h('p', { class: 'empty' }, empty);
  const body = h('tbody', null, actions.map((a) => h('tr', {
    tabindex: '0', class: 'action-row', dataset: { id: a.id },
  }, columns.map(([, cell]) => h('td', null, cell(a))))));
  body.addEventListener('click', (e) => {
    if (e.target.closest('a, button, input')) return;
    const tr = e.target.closest('tr[data-id]');
    if (tr) open(tr.dataset.id, tr);
  });
  body.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr && e.key === 'Enter' && e.target === tr) {
      e.preventDefault();
      open(tr.dataset.id, tr);
    }
  });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
    caption ? h('caption', null, caption) : null,
    h('thead', null, h('tr', null, columns.map(([title]) => h('th', { scope: 'col' }, title)))),
    body));
}
