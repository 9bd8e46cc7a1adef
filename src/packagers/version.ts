/**
 * PEP 440 versions -> RPM and Debian versions that `rpm`/`dnf` and `dpkg`/`apt`
 * order exactly as PEP 440 orders the originals, and that compare equal when the
 * originals are equal (`1.0 == 1.0.0`, `1.0RC1 == 1.0rc1`, `1.0+abc.05 == 1.0+abc.5`).
 *
 * One upstream string serves both formats (only the epoch is rendered
 * differently: RPM's `Epoch:` tag, Debian's `N:` prefix):
 *
 *   PEP 440 part            upstream string           why
 *   ----------------------  ------------------------  -----------------------------------------
 *   release 1.2.3           1.2.3                      trailing zeros dropped, then padded to two
 *   release 1 / 1.0 / 1.0.0 1.0                        segments (`2.0.0` -> `2.0`): equal PEP 440
 *                                                      releases map to one string, and rpm/dpkg
 *                                                      would order `1.0 < 1.0.0`
 *   .devN (alone)           ~~devN                     below every a/b/rc pre-release
 *   aN / bN / rcN           ~aN / ~bN / ~rcN           `~` sorts before the end of the string
 *   .devN after pre/post    ~devN                      `1.0a1.dev2 < 1.0a1`, `1.0.post1.dev2 < 1.0.post1`
 *   .postN                  +postN                     above the end of the string, below `.N`
 *   +local                  +local<segments>           above the public version, below its
 *                                                      post-releases and `.N`
 *     numeric segment 05    .5                         compared as a number
 *     alphanumeric cu118    +cuBBI~                    digits spelt A..J so both tools compare
 *                                                      the segment character by character;
 *                                                      `~` ends it (`ab` < `abc`)
 *
 * e.g. `1!2.0rc1.post2.dev3+Cu118.5` -> RPM Epoch 1, Version `2.0~rc1+post2~dev3+local+cuBBI~.5`,
 * Debian `1:2.0~rc1+post2~dev3+local+cuBBI~.5-1`.
 *
 * Why this orders correctly. rpm splits a version into `~`, `^`, letter runs and
 * digit runs (any other character only separates) and, at the first difference,
 * ranks: `~` < end of string < letters (strcmp) < digits (numeric). dpkg compares
 * characters outside digit runs with `~` < end < letters (ASCII) < other
 * characters (ASCII: `+` < `.`) and digit runs numerically. So in both:
 *   - `~` opens everything that sorts *below* what precedes it (pre- and
 *     dev-releases); the second `~` of `~~dev` ranks a lone dev release below
 *     `~a`; the tags compare `a` < `b` < `rc` (strcmp and ASCII agree);
 *   - `+` opens everything that sorts *above* what precedes it but below a
 *     further release segment (rpm: letters < digits; dpkg: `+` < `.`); the two
 *     `+` tags compare `local` < `post` (strcmp and ASCII agree), so local labels
 *     sort below the post-releases of the same public version;
 *   - local segments: an alphanumeric one opens with `+`, a numeric one with `.`
 *     (rpm: letters < digits; dpkg: `+` < `.`), matching PEP 440's
 *     "alphanumeric < numeric"; a missing segment ends the string, which sorts
 *     below both ("shorter < longer"). Alphanumeric segments compare
 *     lexicographically in PEP 440 (`cu118 < cu12`), while rpm and dpkg compare
 *     digit runs as numbers, so their digits are spelt as capitals `0`->`A` ..
 *     `9`->`J` (capitals sort below small letters, as digits do in ASCII).
 *     The closing `~` makes `ab` sort below `abc` in dpkg, which ranks the
 *     following `+`/`.` above letters.
 * No `^` (caret) is used: el8's rpm 4.14 predates it, and packages using it
 * would need `rpmlib(CaretInVersions)`. test/integration/version-order.test.ts
 * checks all of this against the real rpm, dpkg and apt.
 *
 * Rejected (InputError): strings that are not PEP 440 versions, epochs above
 * 2147483647 (dpkg's and RPM's limit), and numbers above 2^53-1 in the release,
 * pre-, post- or dev-release (they cannot be parsed or compared exactly here).
 */
import { parse } from '@renovatebot/pep440';
import { InputError } from '../errors.ts';

export interface RpmVersion {
  /** RPM `Epoch:` (0 when the PEP 440 version has none). */
  epoch: number;
  /** RPM `Version:`. */
  version: string;
  /** RPM `Release:`, e.g. "1". */
  release: string;
}

/** Largest epoch both dpkg (INT_MAX) and RPM (Epoch tag) accept. */
export const MAX_EPOCH = 2147483647;

/** Release segments are padded with zeros to at least this many (`2` -> `2.0`). */
const MIN_RELEASE_SEGMENTS = 2;

/** Pre-release tags. Their order (a < b < rc) must hold under strcmp and ASCII. */
export const PRE_RELEASE_TAGS = { a: 'a', b: 'b', rc: 'rc' } as const;
/** Tag of a dev release without pre- or post-release: `~~` sorts below `~a`. */
export const DEV_ONLY_TAG = '~~dev';
/** Tag of a dev release of a pre- or post-release. */
export const DEV_TAG = '~dev';
/** Post-release tag; `post` must sort above LOCAL_TAG's letters. */
export const POST_TAG = '+post';
/** Local version label marker; `local` must sort below POST_TAG's letters. */
export const LOCAL_TAG = '+local';

/** What rpm (Version:, no `-`, no `..`) and dpkg (upstream_version) both accept, restricted to what we emit. */
const UPSTREAM_PATTERN = /^[0-9][A-Za-z0-9.+~]*$/;
const RPM_RELEASE_PATTERN = /^[A-Za-z0-9._+~]+$/;
const DEBIAN_REVISION_PATTERN = /^[A-Za-z0-9.+~]+$/;

interface Parsed {
  epoch: number;
  release: number[];
  pre: [string, number] | null;
  post: number | null;
  dev: number | null;
  /** Normalized local label segments (lowercase, as written), or null. */
  local: string[] | null;
}

function fail(input: string, why: string): never {
  throw new InputError(`cannot map version "${input}" to an RPM/Debian version: ${why}`);
}

function checkNumber(input: string, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(input, `its ${what} is larger than ${Number.MAX_SAFE_INTEGER} and cannot be compared exactly`);
  }
  return value;
}

function parsePep440(input: string): Parsed {
  const text = input.trim();
  const raw = parse(text) as unknown as {
    epoch: number;
    release: number[];
    pre: (string | number)[] | null;
    post: (string | number)[] | null;
    dev: (string | number)[] | null;
  } | null;
  if (!raw) fail(input, 'it is not a valid PEP 440 version');

  const epoch = raw.epoch;
  if (!Number.isSafeInteger(epoch) || epoch > MAX_EPOCH) {
    fail(input, `its epoch ${epoch} is larger than ${MAX_EPOCH}, the largest rpm and dpkg accept`);
  }
  const release = raw.release.map((n) => checkNumber(input, 'release segment', n));

  let pre: [string, number] | null = null;
  if (raw.pre) {
    const [letter, n] = raw.pre;
    pre = [String(letter), checkNumber(input, 'pre-release number', n)];
  }
  const post = raw.post ? checkNumber(input, 'post-release number', raw.post[1]) : null;
  const dev = raw.dev ? checkNumber(input, 'dev-release number', raw.dev[1]) : null;

  // The local label is taken from the text (the pattern allows "+" nowhere
  // else), so that segments keep their digits exactly and are classified as
  // PEP 440 says: numeric when all digits, alphanumeric otherwise.
  const plus = text.indexOf('+');
  const local = plus < 0 ? null : text.slice(plus + 1).toLowerCase().split(/[-_.]/);
  return { epoch, release, pre, post, dev, local };
}

function upstream(parsed: Parsed): string {
  const release = [...parsed.release];
  while (release.length > 0 && release[release.length - 1] === 0) release.pop();
  while (release.length < MIN_RELEASE_SEGMENTS) release.push(0);
  let out = release.join('.');

  if (parsed.pre) {
    const [letter, n] = parsed.pre;
    const tag = PRE_RELEASE_TAGS[letter as keyof typeof PRE_RELEASE_TAGS];
    if (!tag) throw new Error(`internal: unexpected pre-release tag ${letter}`);
    out += `~${tag}${n}`;
  } else if (parsed.dev !== null && parsed.post === null) {
    out += `${DEV_ONLY_TAG}${parsed.dev}`;
  }
  if (parsed.post !== null) out += `${POST_TAG}${parsed.post}`;
  if (parsed.dev !== null && (parsed.pre || parsed.post !== null)) out += `${DEV_TAG}${parsed.dev}`;

  if (parsed.local) {
    out += LOCAL_TAG;
    for (const segment of parsed.local) {
      if (/^[0-9]+$/.test(segment)) {
        out += `.${segment.replace(/^0+(?=[0-9])/, '')}`;
      } else {
        out += `+${segment.replace(/[0-9]/g, (d) => String.fromCharCode(65 + Number(d)))}~`;
      }
    }
  }

  if (!UPSTREAM_PATTERN.test(out) || out.includes('..')) {
    throw new Error(`internal: mapped version "${out}" is not a valid RPM/Debian version`);
  }
  return out;
}

/**
 * The RPM epoch, version and release for a PEP 440 version.
 * Throws InputError for versions that are invalid or cannot be mapped, and for
 * a release that is not a valid RPM release.
 */
export function toRpmVersion(pep440: string, release = '1'): RpmVersion {
  if (!RPM_RELEASE_PATTERN.test(release) || release.includes('..')) {
    throw new InputError(`invalid RPM release "${release}": it may only contain letters, digits and . _ + ~ (no "..")`);
  }
  const parsed = parsePep440(pep440);
  return { epoch: parsed.epoch, version: upstream(parsed), release };
}

/**
 * The full Debian version `[epoch:]upstream-revision` for a PEP 440 version,
 * e.g. `1!2.0rc1` -> `1:2.0~rc1-1`. Throws InputError like toRpmVersion.
 */
export function toDebianVersion(pep440: string, revision = '1'): string {
  if (!DEBIAN_REVISION_PATTERN.test(revision)) {
    throw new InputError(`invalid Debian revision "${revision}": it may only contain letters, digits and . + ~`);
  }
  const parsed = parsePep440(pep440);
  return `${parsed.epoch > 0 ? `${parsed.epoch}:` : ''}${upstream(parsed)}-${revision}`;
}

/**
 * `E:V-R`, as used in `Requires: name = E:V-R`, with `0:` omitted: rpm and
 * libsolv (dnf) treat a missing epoch as 0, and rpm prints EVRs that way.
 */
export function rpmEVR(v: RpmVersion): string {
  if (!Number.isSafeInteger(v.epoch) || v.epoch < 0 || v.epoch > MAX_EPOCH) {
    throw new Error(`internal: invalid RPM epoch ${v.epoch}`);
  }
  if (!v.version || /[-\s]/.test(v.version) || !v.release || /[-\s]/.test(v.release)) {
    throw new Error(`internal: invalid RPM version "${v.version}" or release "${v.release}"`);
  }
  return `${v.epoch > 0 ? `${v.epoch}:` : ''}${v.version}-${v.release}`;
}

/** A PEP 440 version as both formats write it in a relation: epoch and upstream string, no release. */
export interface MappedVersion {
  epoch: number;
  upstream: string;
  /** A final release: no pre-, post-, dev-release or local label. */
  final: boolean;
  local: boolean;
}

/** The epoch and upstream string of a PEP 440 version. Throws InputError like toRpmVersion. */
export function mappedVersion(pep440: string): MappedVersion {
  const parsed = parsePep440(pep440);
  const local = parsed.local !== null;
  const final = !parsed.pre && parsed.post === null && parsed.dev === null && !local;
  return { epoch: parsed.epoch, upstream: upstream(parsed), final, local };
}
