"""Installed distributions and their consistency (a `pip check` of our own)."""

import os
import sys

from .util import HelperError, show
from .pep440 import Unsupported, parse_specifier, specifier_matches
from .pep508 import Requirement, evaluate_marker, marker_environment, normalize_name


class InstalledDist(object):
    __slots__ = ('name', 'key', 'version', 'requires', 'requires_python', 'extras', 'path')


def read_metadata(path):
    """The headers of a METADATA file as an email.message.Message."""
    import email.parser
    import email.policy
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)


def header_text(value):
    return ' '.join(str(value).split()) if value is not None else None


def installed_dists(site_dirs):
    """{normalized name: InstalledDist} for every *.dist-info under the given directories."""
    dists = {}
    seen_dirs = set()
    for site in site_dirs:
        real = os.path.realpath(site)
        if real in seen_dirs or not os.path.isdir(site):
            continue
        seen_dirs.add(real)
        for entry in sorted(os.listdir(site)):
            if not entry.endswith(b'.dist-info'):
                continue
            meta_path = os.path.join(site, entry, b'METADATA')
            if not os.path.isfile(meta_path):
                continue
            msg = read_metadata(meta_path)
            d = InstalledDist()
            d.name = header_text(msg.get('Name')) or entry[:-len(b'.dist-info')].decode('utf-8', 'replace')
            d.key = normalize_name(d.name)
            d.version = header_text(msg.get('Version')) or ''
            d.requires = [header_text(r) for r in (msg.get_all('Requires-Dist') or [])]
            d.requires_python = header_text(msg.get('Requires-Python'))
            d.extras = set(normalize_name(header_text(e)) for e in (msg.get_all('Provides-Extra') or []))
            d.path = os.path.join(site, entry)
            if d.key in dists:
                raise HelperError('%s and %s are both installed in %s' % (
                    show(dists[d.key].path), show(d.path), show(site)))
            dists[d.key] = d
    return dists


def check_consistency(dists):
    """(problems, notes, number of requirements checked): every Requires-Dist satisfied.

    Markers are evaluated for this interpreter with extra == '' and, for a
    distribution required with extras, with each of those extras.
    """
    env = marker_environment()
    problems, notes = [], []
    checked = 0
    python_version = '%d.%d.%d' % sys.version_info[:3]
    pending = [(key, ()) for key in sorted(dists)]
    done = set()
    seen = set()
    while pending:
        key, extras = pending.pop(0)
        if (key, extras) in done:
            continue
        done.add((key, extras))
        d = dists[key]
        label = '%s %s' % (d.name, d.version)
        if not extras and d.requires_python:
            try:
                if not specifier_matches(parse_specifier(d.requires_python), python_version):
                    problems.append('%s requires Python %s, this is %s' % (label, d.requires_python, python_version))
            except Unsupported as e:
                notes.append('%s: Requires-Python not checked (%s)' % (label, e))
        for extra in extras:
            if extra not in d.extras:
                notes.append('%s has no extra %r' % (label, extra))
        for text in d.requires:
            try:
                req = Requirement(text)
                if (key, text) in seen:
                    continue
                if req.marker:
                    applies = False
                    for extra in extras or ('',):
                        env['extra'] = extra
                        if evaluate_marker(req.marker, env):
                            applies = True
                            break
                    if not applies:
                        continue
                elif extras:
                    continue  # unconditional requirements were checked without extras
            except Unsupported as e:
                notes.append('%s: requirement %r not checked (%s)' % (label, text, e))
                continue
            seen.add((key, text))
            checked += 1
            target = dists.get(normalize_name(req.name))
            if target is None:
                problems.append('%s requires %s, which is not installed' % (label, req.short()))
                continue
            if req.specifier:
                try:
                    ok = specifier_matches(parse_specifier(req.specifier), target.version)
                except Unsupported as e:
                    notes.append('%s: version of %s not checked (%s)' % (label, req.short(), e))
                    ok = True
                if not ok:
                    problems.append('%s requires %s, but %s %s is installed' % (
                        label, req.short(), target.name, target.version))
            if req.extras:
                pending.append((target.key, tuple(sorted(set(normalize_name(e) for e in req.extras)))))
    return problems, notes, checked
