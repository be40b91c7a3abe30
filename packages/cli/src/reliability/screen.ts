/**
 * What a terminal shows after `text`: the few controls a progress bar writes (CR, LF, ESC 7 / ESC 8
 * save and restore the cursor, CSI n G column, CSI K / 2K erase; others are dropped), LF read as
 * CR LF as a tty's line discipline writes it. Lines of the
 * screen, trailing blanks trimmed: what the user reads, not the bytes.
 */
export function screen(text: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const line = () => (lines[row] ??= []);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\r') col = 0;
    else if (c === '\n') {
      // a terminal's line discipline turns LF into CR LF (onlcr)
      row++;
      col = 0;
      line();
    } else if (c === '\x1b') {
      const m = /^(?:(7|8)|\[(\??)(\d*)([A-Za-z]))/.exec(text.slice(i + 1)); // what follows ESC
      if (!m) continue;
      i += m[0].length;
      if (m[1] === '7') saved = { row, col };
      else if (m[1] === '8') ({ row, col } = saved);
      else if (m[2] === '' && m[4] === 'G') col = Math.max(0, Number(m[3] || 1) - 1);
      else if (m[2] === '' && m[4] === 'K') {
        if (m[3] === '2') lines[row] = [];
        else line().length = Math.min(line().length, col);
      }
    } else {
      line()[col++] = c;
    }
  }
  return lines.map((l) => Array.from(l, (c) => c ?? ' ').join('').trimEnd());
}
