/** What commands print: aligned columns for people, JSON (`--json`) for scripts. */

/** A cell's value: nothing prints as "-", an object as JSON. */
export type CellValue = string | number | boolean | object | null | undefined;

export interface Column<T> {
  header: string;
  value: (row: T) => CellValue;
}

function cell(value: CellValue): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Rows under a header line, each column as wide as its widest cell. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => cell(c.value(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  return cells.map((line) => line.map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i]))).join('  ')).join('\n');
}

/** One object as `name  value` lines, the names aligned. */
export function record(fields: Record<string, CellValue>): string {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
}

export interface OutputOptions {
  json?: boolean;
}

/** Prints `value` as JSON with --json, else what `human` makes of it. */
export function emit<T>(options: OutputOptions, value: T, human: (value: T) => string): void {
  process.stdout.write(`${options.json ? JSON.stringify(value, null, 2) : human(value)}\n`);
}
