// The anomaly table: the top-scoring events as rows, stable sorting by any column, and its rendering into a
// <table> whose header cells sort on click (again to reverse).
import { FIELD_COLUMNS, fieldReader } from './fields.ts';

/** One event in the table. */
export interface TableRow {
  /** Position of the event in the file (0-based). */
  index: number;
  /** 1 = highest score in the file. */
  rank: number;
  uid: string;
  score: number;
  anomaly: boolean;
  /** The fields that make the event unusual (empty when nothing stands out or there is no run). */
  why: string;
  fields: Record<string, string>;
}

/** A table column. */
export interface Column {
  key: string;
  label: string;
  numeric: boolean;
  value(row: TableRow): string | number;
  maxLength?: number;
}

/** Which column the table is sorted by, and which way. */
export interface SortState {
  key: string;
  descending: boolean;
}

/** The table's columns: rank, uid, score, why the event is unusual, then the key event fields. */
export const COLUMNS: readonly Column[] = [
  { key: 'rank', label: '#', numeric: true, value: (r) => r.rank },
  { key: 'uid', label: 'uid', numeric: false, value: (r) => r.uid },
  { key: 'score', label: 'score', numeric: true, value: (r) => r.score },
  { key: 'why', label: 'why unusual', numeric: false, value: (r) => r.why, maxLength: 160 },
  ...FIELD_COLUMNS.map(
    (c): Column => ({
      key: c.key,
      label: c.label,
      numeric: false,
      value: (r) => r.fields[c.key] ?? '',
      ...(c.maxLength !== undefined && { maxLength: c.maxLength }),
    }),
  ),
];

/** The `limit` highest-scoring events, highest first (ties keep file order). */
export function topRows(
  records: readonly object[],
  uids: readonly string[],
  scores: ArrayLike<number>,
  isAnomaly: ArrayLike<number>,
  limit: number,
  why: readonly string[] = [],
): TableRow[] {
  const order = Array.from({ length: records.length }, (_, i) => i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const read = fieldReader();
  return order.slice(0, limit).map((index, i) => ({
    index,
    rank: i + 1,
    uid: uids[index]!,
    score: scores[index]!,
    anomaly: isAnomaly[index] === 1,
    why: why[index] ?? '',
    fields: read(records[index]!),
  }));
}

/** Rows sorted by `state` (a copy; stable, so equal values keep their current order). */
export function sortRows(rows: readonly TableRow[], state: SortState): TableRow[] {
  const column = COLUMNS.find((c) => c.key === state.key);
  if (!column) throw new RangeError(`no column '${state.key}'`);
  const sign = state.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return sign * c;
  });
}

/** Sorting by the same column again reverses it; a new column starts descending for scores, else ascending. */
export function nextSort(state: SortState, key: string): SortState {
  if (state.key === key) return { key, descending: !state.descending };
  return { key, descending: key === 'score' };
}

function cut(text: string, max: number | undefined): string {
  return max !== undefined && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A button that copies `text` (a uid the cell shows cut short); it adds no text to the cell. */
function copyButton(doc: Document, text: string): HTMLButtonElement {
  const button = doc.createElement('button');
  button.type = 'button';
  button.className = 'copy';
  button.title = `copy ${text}`;
  button.ariaLabel = 'copy the uid';
  button.addEventListener('click', (ev) => {
    ev.stopPropagation();
    const done = () => {
      button.classList.add('copied');
      setTimeout(() => button.classList.remove('copied'), 1200);
    };
    doc.defaultView?.navigator.clipboard?.writeText(text).then(done, () => {
      // No clipboard access (an insecure origin, say): select the uid so that Ctrl-C copies it.
      const range = doc.createRange();
      range.selectNodeContents(button.parentElement!);
      doc.getSelection()?.removeAllRanges();
      doc.getSelection()?.addRange(range);
    });
  });
  return button;
}

/**
 * Renders `rows` sorted by `state` into `table` (header and body). Clicking a header calls `onSort` with
 * its key; clicking a row calls `onSelect` with its event's index.
 */
export function renderTable(
  table: HTMLTableElement,
  rows: readonly TableRow[],
  state: SortState,
  onSort: (key: string) => void,
  onSelect: (index: number) => void,
  selected: number | null = null,
): void {
  const doc = table.ownerDocument;
  const head = doc.createElement('tr');
  for (const column of COLUMNS) {
    const th = doc.createElement('th');
    th.scope = 'col';
    th.dataset.key = column.key;
    if (column.numeric) th.className = 'num';
    const button = doc.createElement('button');
    button.type = 'button';
    const arrow = state.key === column.key ? (state.descending ? ' ▼' : ' ▲') : '';
    button.textContent = column.label + arrow;
    button.addEventListener('click', () => onSort(column.key));
    th.append(button);
    if (state.key === column.key) th.ariaSort = state.descending ? 'descending' : 'ascending';
    head.append(th);
  }
  table.tHead?.remove();
  table.createTHead().append(head);

  const body = doc.createElement('tbody');
  for (const row of sortRows(rows, state)) {
    const tr = doc.createElement('tr');
    tr.dataset.index = String(row.index);
    if (row.anomaly) tr.classList.add('anomaly');
    if (row.index === selected) tr.classList.add('selected');
    tr.addEventListener('click', () => onSelect(row.index));
    for (const column of COLUMNS) {
      const td = doc.createElement('td');
      const value = column.value(row);
      const shown = typeof value === 'number' && column.key === 'score' ? value.toFixed(4) : String(value);
      td.textContent = cut(shown, column.maxLength);
      if (column.key === 'uid' || shown.length > (column.maxLength ?? Number.POSITIVE_INFINITY))
        td.title = shown;
      if (column.numeric) td.className = 'num';
      if (column.key === 'uid') {
        td.className = 'uid';
        td.prepend(copyButton(doc, shown));
      }
      tr.append(td);
    }
    body.append(tr);
  }
  for (const old of Array.from(table.tBodies)) old.remove();
  table.append(body);
}
