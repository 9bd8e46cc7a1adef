/**
 * Index URLs as pip users keep them: `${VAR}` in requirement files, expanded
 * as pip expands it, and credentials that never leave the process. Every
 * text that may hold an index URL (a progress line, a log, an error, the
 * manifest) goes through `redact` first.
 */

/** pip's rule (req_file.py): `${NAME}` with NAME of upper-case letters, digits and `_`; unset variables stay as written. */
const VARIABLE = /\$\{([A-Z0-9_]+)\}/g;

export interface Expanded {
  text: string;
  /** The values substituted into a URL: treated as secrets (a token in a path, a password). */
  secrets: string[];
}

/** Expands `${VAR}` like pip; what it substitutes into a text holding a URL is a secret. */
export function expandVariables(text: string, env: Record<string, string | undefined>): Expanded {
  const values: string[] = [];
  const expanded = text.replace(VARIABLE, (written, name: string) => {
    const value = env[name];
    if (!value) return written;
    values.push(value);
    return value;
  });
  return { text: expanded, secrets: /[a-z][a-z0-9+.-]*:\/\//i.test(expanded) ? values : [] };
}

/** Values shorter than this cannot hold a credential and would blank unrelated text. */
const SHORTEST_SECRET = 4;

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"<>]+@/gi;

/**
 * A text with every URL's user information (`user:password@`, `token@`)
 * replaced by `****@`, and every secret value (see `expandVariables`) by `****`.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let result = text.replace(USERINFO, '$1****@');
  // A secret may appear percent-encoded, as in a URL pip prints.
  const forms = secrets.flatMap((s) => [s, encodeURIComponent(s)]).filter((s) => s.length >= SHORTEST_SECRET);
  for (const secret of [...new Set(forms)].sort((a, b) => b.length - a.length)) result = result.split(secret).join('****');
  return result;
}
