/** PEP 508 dependency specifiers: `name[extra1,extra2] (>=1.0,<2) ; marker`. */
import pep440 from '@renovatebot/pep440';
import { type Marker, MarkerSyntaxError, normalizeExtra, parseMarker } from './markers.ts';
import { isValidName, normalizeName } from './names.ts';

export interface Requirement {
  /** As written. */
  name: string;
  /** PEP 503 normalized. */
  key: string;
  extras: string[];
  /** Comma-separated specifier, '' for any version. */
  specifier: string;
  url?: string;
  marker?: Marker;
  markerText?: string;
}

export class RequirementSyntaxError extends Error {}

const HEAD = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*/;

/** Splits at the first `;` that is outside quotes (a URL may not contain one before the marker). */
function splitMarker(text: string): [string, string | undefined] {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ';') return [text.slice(0, i), text.slice(i + 1)];
  }
  return [text, undefined];
}

export function parseRequirement(text: string): Requirement {
  const [main, markerText] = splitMarker(text);
  const head = HEAD.exec(main);
  if (!head?.[1] || !isValidName(head[1])) throw new RequirementSyntaxError(`not a valid requirement: ${JSON.stringify(text.trim())}`);
  const name = head[1];
  const extras = (head[2] ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const extra of extras) {
    if (!isValidName(extra)) throw new RequirementSyntaxError(`invalid extra ${JSON.stringify(extra)} in ${JSON.stringify(text.trim())}`);
  }
  let rest = main.slice(head[0].length).trim();
  let url: string | undefined;
  if (rest.startsWith('@')) {
    url = rest.slice(1).trim();
    if (!url) throw new RequirementSyntaxError(`missing URL after "@" in ${JSON.stringify(text.trim())}`);
    rest = '';
  }
  if (rest.startsWith('(') && rest.endsWith(')')) rest = rest.slice(1, -1).trim();
  const specifier = rest.replace(/\s+/g, '');
  if (specifier && !pep440.validRange(specifier)) {
    throw new RequirementSyntaxError(`invalid version specifier ${JSON.stringify(rest)} in ${JSON.stringify(text.trim())}`);
  }
  const requirement: Requirement = {
    name,
    key: normalizeName(name),
    extras: extras.map(normalizeExtra),
    specifier,
    url,
  };
  if (markerText !== undefined) {
    try {
      requirement.marker = parseMarker(markerText);
      requirement.markerText = markerText.trim();
    } catch (error) {
      if (error instanceof MarkerSyntaxError) {
        throw new RequirementSyntaxError(`invalid marker in ${JSON.stringify(text.trim())}: ${error.message}`);
      }
      throw error;
    }
  }
  return requirement;
}

/** The version a `==X` / `===X` specifier pins, or undefined when it is not an exact pin. */
export function exactPin(specifier: string): string | undefined {
  const m = /^(===?)([^,*]+)$/.exec(specifier);
  if (!m?.[2]) return undefined;
  if (m[1] === '===') return m[2];
  return pep440.valid(m[2]) ?? undefined;
}
