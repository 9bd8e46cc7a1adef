/**
 * PEP 508 environment markers: parsing and evaluation against a target's
 * environment (never the host's).
 */
import pep440 from '@renovatebot/pep440';

export type MarkerVariable =
  | 'python_version'
  | 'python_full_version'
  | 'os_name'
  | 'sys_platform'
  | 'platform_release'
  | 'platform_system'
  | 'platform_version'
  | 'platform_machine'
  | 'platform_python_implementation'
  | 'implementation_name'
  | 'implementation_version'
  | 'extra';

const VARIABLES = new Set<string>([
  'python_version',
  'python_full_version',
  'os_name',
  'sys_platform',
  'platform_release',
  'platform_system',
  'platform_version',
  'platform_machine',
  'platform_python_implementation',
  'implementation_name',
  'implementation_version',
  'extra',
]);

/** Pre-PEP 508 spellings that still appear in old metadata. */
const ALIASES: Record<string, MarkerVariable> = {
  'os.name': 'os_name',
  'sys.platform': 'sys_platform',
  'platform.version': 'platform_version',
  'platform.machine': 'platform_machine',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
};

export type MarkerEnvironment = Record<Exclude<MarkerVariable, 'extra'>, string>;

type Operand = { kind: 'var'; name: MarkerVariable } | { kind: 'str'; value: string };
export type Marker =
  | { kind: 'cmp'; left: Operand; op: string; right: Operand }
  | { kind: 'and' | 'or'; left: Marker; right: Marker };

export class MarkerSyntaxError extends Error {}

const TOKEN = /\s*(?:(\()|(\))|('[^']*'|"[^"]*")|(===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)|(and\b|or\b)|([A-Za-z_][A-Za-z0-9_.]*))/y;

type Token = { type: 'lp' | 'rp' | 'str' | 'op' | 'bool' | 'ident'; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(source);
    if (!m) throw new MarkerSyntaxError(`unexpected text at ${JSON.stringify(source.slice(at).trim())}`);
    at = TOKEN.lastIndex;
    if (m[1]) tokens.push({ type: 'lp', text: '(' });
    else if (m[2]) tokens.push({ type: 'rp', text: ')' });
    else if (m[3]) tokens.push({ type: 'str', text: m[3].slice(1, -1) });
    else if (m[4]) tokens.push({ type: 'op', text: m[4].replace(/\s+/, ' ') });
    else if (m[5]) tokens.push({ type: 'bool', text: m[5] });
    else if (m[6]) tokens.push({ type: 'ident', text: m[6] });
  }
  return tokens;
}

export function parseMarker(source: string): Marker {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = () => {
    const t = tokens[pos++];
    if (!t) throw new MarkerSyntaxError('marker ends too early');
    return t;
  };

  const operand = (): Operand => {
    const t = take();
    if (t.type === 'str') return { kind: 'str', value: t.text };
    if (t.type === 'ident') {
      const name = ALIASES[t.text] ?? t.text;
      if (!VARIABLES.has(name)) throw new MarkerSyntaxError(`unknown marker variable ${JSON.stringify(t.text)}`);
      return { kind: 'var', name: name as MarkerVariable };
    }
    throw new MarkerSyntaxError(`expected a marker variable or a quoted string, got ${JSON.stringify(t.text)}`);
  };

  const atom = (): Marker => {
    if (peek()?.type === 'lp') {
      take();
      const inner = orExpr();
      if (take().type !== 'rp') throw new MarkerSyntaxError('missing ")"');
      return inner;
    }
    const left = operand();
    const op = take();
    if (op.type !== 'op') throw new MarkerSyntaxError(`expected a comparison operator, got ${JSON.stringify(op.text)}`);
    const right = operand();
    return { kind: 'cmp', left, op: op.text, right };
  };

  const andExpr = (): Marker => {
    let left = atom();
    while (peek()?.type === 'bool' && peek()?.text === 'and') {
      take();
      left = { kind: 'and', left, right: atom() };
    }
    return left;
  };

  function orExpr(): Marker {
    let left = andExpr();
    while (peek()?.type === 'bool' && peek()?.text === 'or') {
      take();
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  }

  const marker = orExpr();
  if (pos !== tokens.length) throw new MarkerSyntaxError(`unexpected ${JSON.stringify(tokens[pos]?.text)}`);
  return marker;
}

const VERSION_VARIABLES = new Set(['python_version', 'python_full_version', 'implementation_version']);

function compareValues(left: string, op: string, right: string, versionish: boolean): boolean {
  if (op === 'in') return right.includes(left);
  if (op === 'not in') return !right.includes(left);
  if (versionish && pep440.valid(left) && pep440.validRange(`${op}${right}`)) {
    return pep440.satisfies(left, `${op}${right}`, { prereleases: true });
  }
  switch (op) {
    case '==':
    case '===':
      return left === right;
    case '!=':
      return left !== right;
    default:
      // PEP 508: ordering operators on non-versions fall back to Python's string order.
      if (op === '<') return left < right;
      if (op === '<=') return left <= right;
      if (op === '>') return left > right;
      if (op === '>=') return left >= right;
      throw new MarkerSyntaxError(`operator ${op} needs versions, got ${JSON.stringify(left)} and ${JSON.stringify(right)}`);
  }
}

/**
 * Evaluates a marker. `extras` is the set of extras requested for the
 * distribution whose metadata holds the marker (normalized names); with none,
 * `extra == "x"` is false.
 */
export function evaluateMarker(marker: Marker, env: MarkerEnvironment, extras: ReadonlySet<string> = new Set()): boolean {
  if (marker.kind !== 'cmp') {
    const left = evaluateMarker(marker.left, env, extras);
    return marker.kind === 'and' ? left && evaluateMarker(marker.right, env, extras) : left || evaluateMarker(marker.right, env, extras);
  }
  const { left, op, right } = marker;
  const isExtra = (o: Operand) => o.kind === 'var' && o.name === 'extra';
  if (isExtra(left) || isExtra(right)) {
    const other = isExtra(left) ? right : left;
    if (other.kind !== 'str') return false;
    const wanted = normalizeExtra(other.value);
    const present = extras.has(wanted);
    if (op === '==' || op === '===') return present;
    if (op === '!=') return !present;
    throw new MarkerSyntaxError(`operator ${op} cannot be used with "extra"`);
  }
  const value = (o: Operand) => (o.kind === 'str' ? o.value : env[o.name as Exclude<MarkerVariable, 'extra'>]);
  const versionish = [left, right].some((o) => o.kind === 'var' && VERSION_VARIABLES.has(o.name));
  return compareValues(value(left), op, value(right), versionish);
}

export function normalizeExtra(extra: string): string {
  return extra.replace(/[-_.]+/g, '-').toLowerCase();
}
