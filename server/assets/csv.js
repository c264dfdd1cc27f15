// CSV of exactly what a table shows, safe to open in a spreadsheet.

/**
 * One cell: a cell starting with = + - or @ is prefixed with ' so a
 * spreadsheet does not run it as a formula (OWASP "CSV injection"); a cell
 * with a quote, comma or line break is quoted, its quotes doubled.
 */
export function csvCell(value) {
  let text = value == null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text)) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

/** Header and rows, CRLF line ends (RFC 4180). */
export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/**
 * Saves `text` as a download named `filename`, built in the page: nothing
 * leaves the browser. A byte order mark first, so spreadsheets read UTF-8.
 */
export function download(filename, text) {
  const blob = new Blob(['\uFEFF', text], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
