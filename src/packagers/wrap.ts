/**
 * Description text for both formats: dpkg and apt show lines up to 79
 * columns, rpmlint refuses %description lines over 79 characters.
 */

/**
 * Wraps one line at spaces into lines shorter than `width`; long words stay
 * whole. A line that starts with a space stays whole too: dpkg, apt and rpm
 * show such lines verbatim (a table, a code sample).
 */
export function wrapLine(line: string, width: number): string[] {
  if (line.length < width || line.startsWith(' ')) return [line];
  const out: string[] = [];
  let current = '';
  for (const word of line.split(/ +/)) {
    if (current && current.length + 1 + word.length >= width) {
      out.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) out.push(current);
  return out;
}
