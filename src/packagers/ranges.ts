/**
 * A PEP 440 version specifier (`>=1.0,<2`) as bounds on mapped package
 * versions (src/packagers/version.ts), for the relations between wheel
 * packages: both rpm and dpkg order mapped versions as PEP 440 orders the
 * originals, so each clause becomes one comparison, with these adjustments
 * for what PEP 440 excludes at the edges:
 *
 *   specifier      bounds                      why
 *   -------------  --------------------------  ------------------------------------------
 *   >=V            >= U
 *   >V  (final V)  >= U.0~                     excludes V's post-releases and local
 *                                              versions: `.0~` sorts above every `+...`
 *                                              of U and below every longer release
 *   <V  (final V)  <  U~~                      excludes V's pre- and dev-releases:
 *                                              `~~` sorts below `~~devN` and `~aN`
 *   <=V            <  U+p  (<= U if local)     admits V's local versions, not its
 *   ==V            >= U, < U+p (= U if local)  post-releases: `+local...` < `+p` < `+post...`
 *   ==P.*          >= P~~, < P'~~              P' is P with its last segment plus one
 *   ~=V            >= U, < P'~~                P is V's release without its last segment
 *   ===V           =  U                        when V is a PEP 440 version
 *   !=V            (none)                      rpm and dpkg cannot say "any but one" in
 *                                              one relation; the exact pins of the
 *                                              endpoint and pins packages exclude it
 *
 * For a non-final V (pre-, post- or dev-release), `>V` and `<V` compare with
 * U itself, which is as PEP 440 orders them but admits V's own post- and
 * local releases at the edges. test/integration/ranges.test.ts checks every rule
 * against the real version orders of version.ts.
 */
import specifier from '@renovatebot/pep440/lib/specifier.js';
import { mappedVersion } from './version.ts';

export type BoundOp = '<' | '<=' | '=' | '>=' | '>';

/** One comparison against a mapped version (epoch and upstream string, no release). */
export interface Bound {
  op: BoundOp;
  epoch: number;
  upstream: string;
}

interface Clause {
  operator: string;
  version?: string;
  prefix?: string;
  epoch?: number;
  release?: number[];
  legacy?: string;
}

/** `E!a.b.c` for a release whose last segment is raised by `bump`. */
function releaseText(epoch: number, release: number[], bump: number): string {
  const segments = [...release];
  segments[segments.length - 1] = (segments[segments.length - 1] ?? 0) + bump;
  return `${epoch}!${segments.join('.')}`;
}

function bound(op: BoundOp, pep440: string, suffix = ''): Bound {
  const v = mappedVersion(pep440);
  return { op, epoch: v.epoch, upstream: v.upstream + suffix };
}

function clauseBounds(clause: Clause): Bound[] {
  const version = clause.version ?? '';
  const epoch = clause.epoch ?? 0;
  const release = clause.release ?? [];
  switch (clause.operator) {
    case '>=':
      return [bound('>=', version)];
    case '>':
      return mappedVersion(version).final ? [bound('>=', version, '.0~')] : [bound('>', version)];
    case '<':
      return mappedVersion(version).final ? [bound('<', version, '~~')] : [bound('<', version)];
    case '<=':
      return mappedVersion(version).local ? [bound('<=', version)] : [bound('<', version, '+p')];
    case '==':
      if (clause.prefix) return [bound('>=', releaseText(epoch, release, 0), '~~'), bound('<', releaseText(epoch, release, 1), '~~')];
      return mappedVersion(version).local ? [bound('=', version)] : [bound('>=', version), bound('<', version, '+p')];
    case '~=':
      return [bound('>=', version), bound('<', releaseText(epoch, release.slice(0, -1), 1), '~~')];
    case '===':
      return clause.legacy === undefined && version ? [bound('=', version)] : [];
    default:
      return [];
  }
}

/** The bounds of a comma-separated PEP 440 specifier ('' for any version: no bounds). */
export function specifierBounds(text: string): Bound[] {
  if (!text.trim()) return [];
  const clauses = specifier.parse(text.replace(/\s+/g, '')) as Clause[] | null;
  if (!clauses) throw new Error(`internal: unparsable specifier ${JSON.stringify(text)} passed the closure check`);
  const out: Bound[] = [];
  for (const b of clauses.flatMap(clauseBounds)) {
    if (!out.some((o) => o.op === b.op && o.epoch === b.epoch && o.upstream === b.upstream)) out.push(b);
  }
  return out;
}

/** Exactly this PEP 440 version (a pin a wheel was compiled against). */
export function exactBound(pep440: string): Bound {
  const v = mappedVersion(pep440);
  return { op: '=', epoch: v.epoch, upstream: v.upstream };
}

/** `[E:]upstream`, the version of a bound as rpm and dpkg write it. */
export const boundVersion = (b: Pick<Bound, 'epoch' | 'upstream'>) => `${b.epoch > 0 ? `${b.epoch}:` : ''}${b.upstream}`;
