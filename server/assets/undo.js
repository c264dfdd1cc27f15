// The undo dialog: what the undo will restore, the other instances of the
// same file it may also apply to (exactly those listed, at the versions
// shown), a required comment, then one result per instance.

import { api, request, itemsOf, actionPath } from './api.js';
import { h, replace, field, uid } from './dom.js';
import { errorText, itemError, showError, showMessage, clearMessage } from './errors.js';
import { kindLabel, statusLabel, entitySummary, inverseKind, shortIds, plural } from './format.js';

/** `app` gives `changed()` (after the undo) and `announce(text)`. */
export function createUndoDialog(dialog, app) {
  let returnFocus = null;

  dialog.addEventListener('close', () => {
    const back = returnFocus;
    returnFocus = null;
    if (back) back();
  });
  // Escape closes the dialog only, not the flyout under it.
  dialog.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') e.stopPropagation();
  });

  /** Opens the dialog for `action` as seen at `version`; `back()` puts the focus back when it closes. */
  async function open(action, version, back) {
    const from = document.activeElement;
    returnFocus = back || (() => from && from.isConnected && from.focus());
    const inverse = inverseKind(action.kind);
    const alert = h('div', { role: 'alert', class: 'dialog-alert' });
    const instancesHolder = h('div', { class: 'undo-instances' }, h('p', { class: 'empty' }, 'Looking for other instances of this file…'));
    const comment = h('textarea', { name: 'undo-comment', rows: '3', 'aria-required': 'true', maxlength: '4096' });
    const submit = h('button', { type: 'submit', class: 'button' }, 'Undo');
    const cancel = h('button', { type: 'button', class: 'button-quiet' }, 'Cancel');
    const results = h('div', { class: 'undo-results', 'aria-live': 'polite' });
    const form = h('form', { method: 'dialog', class: 'dialog-form', novalidate: true },
      h('div', { class: 'dialog-head' }, h('h2', { id: 'undo-title' }, `Undo ${kindLabel(action.kind)}`)),
      h('p', null, `This asks the executors to run ${inverse ? `“${kindLabel(inverse)}”` : 'the inverse action'} on `,
        h('strong', null, entitySummary(action.entity)), '.'),
      instancesHolder,
      field('Comment (required)', comment, 'Say why the action is undone; it is kept in the audit trail.'),
      alert,
      results,
      h('div', { class: 'button-row' }, submit, cancel));
    replace(dialog, form);
    cancel.addEventListener('click', () => dialog.close());
    if (!dialog.open) dialog.showModal();
    comment.focus();

    let instances = [];
    let applyBox = null;
    if (action.entity && action.entity.type === 'file') {
      try {
        instances = itemsOf(await api.get(actionPath(action.id, 'undo')), 'instances');
      } catch (err) {
        showError(alert, err);
        replace(instancesHolder);
      }
    }
    if (!dialog.open) return;
    if (instances.length) {
      const short = shortIds(instances.map((i) => i.id));
      const listId = uid('instances');
      applyBox = h('input', { type: 'checkbox', name: 'apply-to-all', 'aria-describedby': listId });
      replace(instancesHolder, h('fieldset', { class: 'instances' },
        h('legend', null, 'Other instances of this file'),
        h('label', { class: 'check' }, applyBox, ' ', `Apply to ${plural(instances.length, 'more instance')} of this file`),
        h('ul', { id: listId, class: 'instance-list' }, instances.map((i) => h('li', { dataset: { id: i.id } },
          h('span', { class: 'instance-device' }, (i.entity && i.entity.device_id) || '—'), ' · ',
          h('span', { class: 'instance-path mono' }, (i.entity && i.entity.path) || '—'), ' · ',
          h('span', { class: 'instance-id mono' }, short.get(i.id)))))));
    } else if (!alert.textContent) {
      replace(instancesHolder, action.entity && action.entity.type === 'file'
        ? h('p', { class: 'hint' }, 'No other instance of this file to undo.') : null);
    }

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearMessage(alert);
      const text = comment.value.trim();
      if (!text) {
        showMessage(alert, 'A comment is required to undo an action.');
        comment.focus();
        return;
      }
      const chosen = applyBox && applyBox.checked ? instances.map((i) => ({ id: i.id, version: i.version })) : [];
      submit.disabled = true;
      try {
        const got = await request('POST', actionPath(action.id, 'undo'), {
          body: { comment: text, instances: chosen }, ifMatch: version,
        });
        const report = got.data || {};
        const main = report.action || report;
        const lines = itemsOf(report.instances || []);
        const short = shortIds([action.id, ...lines.map((r) => r.id)]);
        const byId = new Map(instances.map((i) => [i.id, i]));
        replace(results, h('h3', null, 'Results'), h('ul', { class: 'result-list' },
          h('li', { class: 'result-ok', dataset: { id: action.id } }, h('span', { class: 'result-mark', 'aria-hidden': 'true' }, '✓'),
            ' ', h('strong', null, `${short.get(action.id)} on ${entitySummary(action.entity)}`), ': ',
            statusLabel(main.status || 'undoing')),
          lines.map((r) => {
            const inst = byId.get(r.id);
            const where = inst ? entitySummary(inst.entity) : '';
            return h('li', { class: r.ok ? 'result-ok' : 'result-error', dataset: { id: r.id } },
              h('span', { class: 'result-mark', 'aria-hidden': 'true' }, r.ok ? '✓' : '✗'), ' ',
              h('strong', null, `${short.get(r.id)}${where ? ` on ${where}` : ''}`), ': ',
              r.ok ? statusLabel((r.action && r.action.status) || 'undoing') : errorText(itemError(r.error)));
          })));
        const failed = lines.filter((r) => !r.ok).length;
        app.announce(`Undo sent for ${plural(1 + lines.length - failed, 'action')}${failed ? `, ${failed} refused` : ''}`);
        submit.remove();
        cancel.textContent = 'Close';
        cancel.focus();
        app.changed();
      } catch (err) {
        showError(alert, err);
        submit.disabled = false;
      }
    });
  }

  return { open, get isOpen() { return dialog.open; } };
}
