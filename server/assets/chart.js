// Bar charts drawn as inline SVG, each with a <title> per bar and the same
// figures as a table under it for those who do not see the chart.

import { h, svg } from './dom.js';

/** The smallest of 1, 2, 5 x 10^k at or above `value` (at least 1). */
export function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

const DURATION_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/**
 * Axis ticks from 0 to at least `max`, about four steps: whole numbers for
 * counts, round minutes, hours or days for durations.
 */
export function ticks(max, unit = 'count') {
  const want = Math.max(max, unit === 'seconds' ? 60 : 1) / 4;
  let step;
  if (unit === 'seconds') step = DURATION_STEPS.find((s) => s >= want) || niceCeiling(want / 86400) * 86400;
  else step = Math.max(1, niceCeiling(want));
  const top = Math.max(step, Math.ceil(max / step) * step);
  const out = [];
  for (let v = 0; v <= top + step / 2; v += step) out.push(v);
  return out;
}

function dataTable(caption, categoryTitle, categories, series, format) {
  return h('details', { class: 'chart-data' },
    h('summary', null, 'Show the figures as a table'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact' },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, categoryTitle),
        series.map((s) => h('th', { scope: 'col' }, s.name)))),
      h('tbody', null, categories.map((c, i) => h('tr', null, h('th', { scope: 'row' }, c),
        series.map((s) => h('td', { class: 'num' }, format(s.values[i])))))))));
}

function legend(series) {
  if (series.length < 2) return null;
  return h('ul', { class: 'legend', 'aria-hidden': 'true' }, series.map((s) => h('li', null,
    h('span', { class: `swatch ${s.cls}` }), s.name)));
}

/**
 * Vertical bars, one group per category, one bar per series.
 * `series`: [{name, cls, values}]; `format` turns a value into words.
 */
export function columnChart({
  title, categoryTitle, categories, series, format = String, axisFormat = format, unit = 'count', empty,
}) {
  const width = 640;
  const height = 260;
  const margin = { top: 16, right: 12, bottom: 46, left: 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const axis = ticks(Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v != null))), unit);
  const max = axis[axis.length - 1];
  const titleId = `chart-${Math.random().toString(36).slice(2)}`;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-labelledby': titleId,
    preserveAspectRatio: 'xMidYMid meet',
  }, svg('title', { id: titleId }, title));
  const y = (v) => margin.top + plotH - (v / max) * plotH;
  for (const v of axis) {
    root.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v), class: 'gridline' }),
      svg('text', { x: margin.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis-label' }, axisFormat(v)));
  }
  const n = Math.max(1, categories.length);
  const band = plotW / n;
  const barW = Math.max(2, Math.min(40, (band * 0.8) / series.length));
  const labelEvery = Math.ceil(n / 12);
  categories.forEach((c, i) => {
    const groupX = margin.left + i * band + (band - barW * series.length) / 2;
    series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const top = y(v);
      root.append(svg('rect', {
        x: groupX + j * barW, y: top, width: Math.max(1, barW - 1), height: Math.max(0, margin.top + plotH - top),
        class: `bar ${s.cls}`,
      }, svg('title', null, `${c} · ${s.name}: ${format(s.values[i])}`)));
    });
    if (i % labelEvery === 0) {
      root.append(svg('text', {
        x: margin.left + i * band + band / 2, y: height - margin.bottom + 16, 'text-anchor': 'middle', class: 'axis-label',
      }, c));
    }
  });
  root.append(
    svg('line', { x1: margin.left, x2: width - margin.right, y1: margin.top + plotH, y2: margin.top + plotH, class: 'axis' }),
    svg('text', { x: margin.left + plotW / 2, y: height - 6, 'text-anchor': 'middle', class: 'axis-title' }, categoryTitle));
  return h('figure', { class: 'chart-figure' },
    h('figcaption', null, title),
    categories.length ? root : h('p', { class: 'empty' }, empty || 'Nothing to show.'),
    legend(series),
    categories.length ? dataTable(title, categoryTitle, categories, series, format) : null);
}

/** Horizontal bars: one per category, its value at its end. */
export function barChart({ title, categoryTitle, valueTitle, categories, values, cls = 'bar-main', format = String, empty }) {
  const width = 640;
  const rowH = 26;
  const margin = { top: 8, right: 48, bottom: 8, left: 210 };
  const height = margin.top + margin.bottom + rowH * Math.max(1, categories.length);
  const plotW = width - margin.left - margin.right;
  const max = niceCeiling(Math.max(0, ...values));
  const titleId = `chart-${Math.random().toString(36).slice(2)}`;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-labelledby': titleId,
  }, svg('title', { id: titleId }, title));
  categories.forEach((c, i) => {
    const top = margin.top + i * rowH;
    const w = (values[i] / max) * plotW;
    root.append(
      svg('text', { x: margin.left - 8, y: top + rowH / 2 + 4, 'text-anchor': 'end', class: 'axis-label' }, c),
      svg('rect', { x: margin.left, y: top + 4, width: Math.max(1, w), height: rowH - 8, class: `bar ${cls}` },
        svg('title', null, `${c}: ${format(values[i])}`)),
      svg('text', { x: margin.left + w + 6, y: top + rowH / 2 + 4, class: 'bar-value' }, format(values[i])));
  });
  root.append(svg('line', { x1: margin.left, x2: margin.left, y1: margin.top, y2: height - margin.bottom, class: 'axis' }));
  return h('figure', { class: 'chart-figure' },
    h('figcaption', null, title),
    categories.length ? root : h('p', { class: 'empty' }, empty || 'Nothing to show.'),
    categories.length
      ? dataTable(title, categoryTitle, categories, [{ name: valueTitle, values }], format) : null);
}
