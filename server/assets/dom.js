// Building the page from nodes. Text always goes in as text nodes, never
// as markup: names, paths and comments come from anyone who can propose an
// action, and may hold "<script>" or terminal escapes.

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'indeterminate', 'open']);

/** Appends children: strings and numbers as text, nodes as they are; null, undefined and false are skipped. */
export function append(parent, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

function setProps(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** An HTML element: `h('button', {type: 'button', onclick: f}, 'Approve')`. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  return append(el, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, attributes only (presentation attributes are allowed by the CSP). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value != null) el.setAttribute(key, String(value));
  }
  return append(el, children);
}

/** Empties a node and fills it again. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let uniqueCounter = 0;
/** An id for pairing a label with its control. */
export function uid(prefix = 'id') {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

/** A labelled form field: the label above the control. */
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid('f');
  const parts = [h('label', { for: control.id }, labelText), control];
  if (hint) {
    const hintEl = h('span', { class: 'hint', id: uid('hint') }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
    parts.push(hintEl);
  }
  return h('div', { class: 'field' }, parts);
}

/** A `<select>` of `[value, label]` pairs. */
export function select(options, value, props) {
  const el = h('select', props);
  for (const [v, label] of options) el.append(h('option', { value: v, selected: v === value }, label));
  el.value = value;
  return el;
}

/** A definition list from `[term, description]` pairs; descriptions may be nodes. Empty ones are left out. */
export function definitions(pairs, cls = 'fields') {
  const dl = h('dl', { class: cls });
  for (const [term, desc] of pairs) {
    if (desc == null || desc === '') continue;
    dl.append(h('dt', null, term), h('dd', null, desc));
  }
  return dl;
}

/** A plain table: `columns` are titles, `rows` arrays of cells (text or nodes). */
export function simpleTable(caption, columns, rows, props) {
  const table = h('table', { class: 'grid', ...props });
  if (caption) table.append(h('caption', null, caption));
  table.append(h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))));
  const body = h('tbody');
  for (const row of rows) body.append(h('tr', null, row.map((cell) => h('td', null, cell))));
  table.append(body);
  return h('div', { class: 'table-wrap' }, table);
}
