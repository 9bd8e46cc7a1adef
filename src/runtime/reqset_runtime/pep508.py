"""PEP 508 requirements and environment markers."""

import os
import re
import sys

from .pep440 import Unsupported, Version, clause_matches


def normalize_name(name):
    return re.sub(r'[-_.]+', '-', name).lower()


REQUIREMENT_RE = re.compile(r'^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*'
                            r'(?:\[(?P<extras>[^\]]*)\])?\s*(?P<rest>.*)$', re.DOTALL)


class Requirement(object):
    __slots__ = ('text', 'name', 'extras', 'specifier', 'url', 'marker')

    def __init__(self, text):
        self.text = text
        m = REQUIREMENT_RE.match(text)
        if not m:
            raise Unsupported('cannot read the requirement %r' % text)
        self.name = m.group('name')
        extras = m.group('extras') or ''
        self.extras = [e.strip() for e in extras.split(',') if e.strip()]
        rest = m.group('rest').strip()
        self.url = None
        self.marker = None
        self.specifier = ''
        if rest.startswith('@'):
            found = re.search(r'\s;', rest)
            self.url = (rest[1:found.start()] if found else rest[1:]).strip()
            if found:
                self.marker = rest[found.end():].strip()
        else:
            spec, sep, marker = rest.partition(';')
            spec = spec.strip()
            if spec.startswith('(') and spec.endswith(')'):
                spec = spec[1:-1].strip()
            self.specifier = spec
            if sep:
                self.marker = marker.strip()

    def short(self):
        """The requirement without its marker, for messages."""
        text = self.name
        if self.extras:
            text += '[%s]' % ','.join(self.extras)
        if self.url:
            return text + ' @ ' + self.url
        return text + self.specifier.replace(' ', '')


MARKER_TOKEN_RE = re.compile(r'''\s*(?:
      (?P<lparen>\()|(?P<rparen>\))
    | (?P<op>===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)
    | (?P<bool>and\b|or\b)
    | '(?P<sq>[^']*)'|"(?P<dq>[^"]*)"
    | (?P<var>[A-Za-z_][A-Za-z0-9_.]*)
    )''', re.VERBOSE)

MARKER_ALIASES = {
    'os.name': 'os_name', 'sys.platform': 'sys_platform', 'platform.version': 'platform_version',
    'platform.machine': 'platform_machine', 'platform.python_implementation': 'platform_python_implementation',
    'python_implementation': 'platform_python_implementation',
}


def marker_environment():
    """The PEP 508 marker variables of the running interpreter (the target's Python)."""
    import platform
    iv = sys.implementation.version
    impl_version = '%d.%d.%d' % (iv.major, iv.minor, iv.micro)
    if iv.releaselevel != 'final':
        impl_version += iv.releaselevel[0] + str(iv.serial)
    return {
        'implementation_name': sys.implementation.name,
        'implementation_version': impl_version,
        'os_name': os.name,
        'platform_machine': platform.machine(),
        'platform_python_implementation': platform.python_implementation(),
        'platform_release': platform.release(),
        'platform_system': platform.system(),
        'platform_version': platform.version(),
        'python_full_version': platform.python_version(),
        'python_version': '%d.%d' % sys.version_info[:2],
        'sys_platform': sys.platform,
    }


def tokenize_marker(text):
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = MARKER_TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise Unsupported('cannot read the marker %r' % text)
        pos = m.end()
        kind = m.lastgroup
        if kind in ('sq', 'dq'):
            tokens.append(('str', m.group(kind)))
        elif kind == 'op':
            tokens.append(('op', ' '.join(m.group('op').split())))
        elif kind == 'bool':
            tokens.append(('bool', m.group('bool')))
        elif kind == 'var':
            tokens.append(('var', m.group('var')))
        else:
            tokens.append((kind, None))
    return tokens


def evaluate_marker(text, env):
    """True or False; Unsupported for what cannot be evaluated."""
    tokens = tokenize_marker(text)
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else (None, None)

    def take():
        token = peek()
        pos[0] += 1
        return token

    def value():
        kind, v = take()
        if kind == 'str':
            return v, False
        if kind == 'var':
            name = MARKER_ALIASES.get(v, v)
            if name == 'extra':
                return env.get('extra', ''), True
            if name not in env:
                raise Unsupported('unknown marker variable %r' % v)
            return env[name], False
        raise Unsupported('cannot read the marker %r' % text)

    def atom():
        if peek()[0] == 'lparen':
            take()
            result = disjunction()
            if take()[0] != 'rparen':
                raise Unsupported('unbalanced parentheses in the marker %r' % text)
            return result
        lhs, lhs_extra = value()
        kind, op = take()
        if kind != 'op':
            raise Unsupported('cannot read the marker %r' % text)
        rhs, rhs_extra = value()
        if lhs_extra or rhs_extra:
            lhs, rhs = normalize_name(lhs), normalize_name(rhs)
        return compare_marker(lhs, op, rhs)

    def conjunction():
        result = atom()
        while peek() == ('bool', 'and'):
            take()
            right = atom()
            result = result and right
        return result

    def disjunction():
        result = conjunction()
        while peek() == ('bool', 'or'):
            take()
            right = conjunction()
            result = result or right
        return result

    result = disjunction()
    if pos[0] != len(tokens):
        raise Unsupported('cannot read the marker %r' % text)
    return result


def compare_marker(lhs, op, rhs):
    if op == 'in':
        return lhs in rhs
    if op == 'not in':
        return lhs not in rhs
    try:
        return clause_matches(op, rhs, Version(lhs))
    except Unsupported:
        pass
    if op == '==' or op == '===':
        return lhs == rhs
    if op == '!=':
        return lhs != rhs
    raise Unsupported('cannot compare %r %s %r' % (lhs, op, rhs))
