/** One benchmark figure: a ratio against an alternative measured in the same run. */
export interface Row {
  measure: string;
  value: string;
  baseline: string;
  ratio: number;
  goal?: string;
}

export function printTable(rows: Row[]): void {
  const header = ['measure', 'value', 'baseline', 'ratio', 'goal'];
  const cells = rows.map((r) => [r.measure, r.value, r.baseline, r.ratio.toFixed(3), r.goal ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}
