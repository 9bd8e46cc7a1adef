"""PEP 440 versions and specifiers (just what a consistency check needs)."""

import re


class Unsupported(ValueError):
    """A version, specifier or marker this small implementation does not evaluate."""


VERSION_RE = re.compile(r'''
    ^\s*v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?:[-_.]?(?P<pre_l>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?:-(?P<post_implicit>[0-9]+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n>[0-9]+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$''', re.VERBOSE | re.IGNORECASE)

PRE_RANK = {'a': 0, 'alpha': 0, 'b': 1, 'beta': 1, 'c': 2, 'rc': 2, 'pre': 2, 'preview': 2}


class Version(object):
    __slots__ = ('text', 'epoch', 'release', 'pre', 'post', 'dev', 'local')

    def __init__(self, text):
        m = VERSION_RE.match(text)
        if not m:
            raise Unsupported('%r is not a PEP 440 version' % text)
        self.text = text
        self.epoch = int(m.group('epoch') or 0)
        release = [int(p) for p in m.group('release').split('.')]
        self.release = tuple(release)
        self.pre = None
        if m.group('pre_l'):
            self.pre = (PRE_RANK[m.group('pre_l').lower()], int(m.group('pre_n') or 0))
        self.post = None
        if m.group('post_implicit') is not None:
            self.post = int(m.group('post_implicit'))
        elif m.group('post_l'):
            self.post = int(m.group('post_n') or 0)
        self.dev = int(m.group('dev_n') or 0) if m.group('dev_l') else None
        local = m.group('local')
        self.local = tuple(re.split(r'[-_.]', local.lower())) if local else None

    @property
    def is_prerelease(self):
        return self.pre is not None or self.dev is not None

    def base(self):
        return (self.epoch, strip_zeros(self.release))

    def key(self, with_local=True):
        if self.pre is None and self.post is None and self.dev is not None:
            pre = (-1, 0)      # 1.0.dev1 sorts before 1.0a1
        elif self.pre is None:
            pre = (3, 0)       # a final release sorts after its pre-releases
        else:
            pre = self.pre
        post = (-1, 0) if self.post is None else (0, self.post)
        dev = (1, 0) if self.dev is None else (0, self.dev)
        if self.local is None or not with_local:
            local = ((-1, ''),)
        else:
            # numeric segments sort after alphanumeric ones
            local = tuple((1, int(p), '') if p.isdigit() else (0, 0, p) for p in self.local)
        return (self.epoch, strip_zeros(self.release), pre, post, dev, local)


def strip_zeros(release):
    release = list(release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    return tuple(release)


def padded(release, length):
    return tuple(release[:length]) + (0,) * (length - len(release))


SPEC_CLAUSE_RE = re.compile(r'^\s*(~=|===|==|!=|<=|>=|<|>)\s*([^\s,;]+)\s*$')


def parse_specifier(text):
    """[(op, version text)] of a comma-separated specifier; Unsupported if malformed."""
    clauses = []
    if not text.strip():
        return clauses
    for part in text.split(','):
        m = SPEC_CLAUSE_RE.match(part)
        if not m:
            raise Unsupported('cannot read the specifier %r' % text.strip())
        clauses.append((m.group(1), m.group(2)))
    return clauses


def clause_matches(op, spec_text, candidate):
    """Does Version `candidate` satisfy `op spec_text`? Pre-releases are accepted, as pip check does."""
    if op == '===':
        return candidate.text.strip().lower() == spec_text.strip().lower()
    if op in ('==', '!=') and spec_text.endswith('.*'):
        prefix = Version(spec_text[:-2])
        if prefix.pre is not None or prefix.post is not None or prefix.dev is not None or prefix.local:
            raise Unsupported('prefix match %s%s' % (op, spec_text))
        n = len(prefix.release)
        same = candidate.epoch == prefix.epoch and padded(candidate.release, n) == prefix.release
        return same if op == '==' else not same
    spec = Version(spec_text)
    if op in ('==', '!='):
        same = candidate.key(with_local=spec.local is not None) == spec.key()
        return same if op == '==' else not same
    c, s = candidate.key(with_local=False), spec.key()
    if op == '>=':
        return c >= s
    if op == '<=':
        return c <= s
    if op == '>':
        if not c > s:
            return False
        # >1.0 admits neither 1.0.post1 (unless the specifier is itself a
        # post-release) nor a local version of the same release, like 1.0+x
        if spec.post is None and candidate.post is not None and candidate.base() == spec.base():
            return False
        return not (candidate.local is not None and candidate.base() == spec.base())
    if op == '<':
        if not c < s:
            return False
        # <2.0 does not admit 2.0rc1 unless the specifier is itself a pre-release
        return not (not spec.is_prerelease and candidate.is_prerelease and candidate.base() == spec.base())
    if op == '~=':
        if len(spec.release) < 2:
            raise Unsupported('~=%s needs at least two release segments' % spec_text)
        n = len(spec.release) - 1
        return c >= s and candidate.epoch == spec.epoch and padded(candidate.release, n) == spec.release[:n]
    raise Unsupported('operator %s' % op)


def specifier_matches(clauses, version_text):
    candidate = Version(version_text)
    return all(clause_matches(op, v, candidate) for op, v in clauses)
