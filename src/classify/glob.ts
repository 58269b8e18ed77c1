// Path globs for path rules (`/srv/data/finance/**`): `**` spans directories, `*` and `?` stay
// within one path segment, `{a,b}` alternates, `[...]` is a character class. A glob without
// wildcards also matches everything under it, as a directory.

function escape(c: string): string {
  return /[\\^$.+()|{}[\]*?]/.test(c) ? '\\' + c : c;
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += escape(c);
  }
  if (braces > 0) throw new Error(`unbalanced '{' in glob ${glob}`);
  const plain = !/[*?[{]/.test(glob);
  return new RegExp('^' + re.replace(/\/$/, '') + (plain ? '(?:/.*)?' : '') + '$');
}
