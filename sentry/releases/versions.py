"""
How two releases are ordered: by semantic version when both names read as
one, else by the time each was first seen.

A name reads as a semantic version when it is, after an optional package
prefix (``shop@``) and an optional ``v``: one to four dot-separated numbers,
an optional pre-release (``-rc.1``) and optional build metadata (``+b7``,
ignored). ``1.2.3``, ``v1.2.3``, ``1.2.3-rc.1``, ``shop@1.2.3+b7`` and
``2.0`` read; ``2026 winter``, ``abc123`` (a commit) do not. Two versions
of different packages are not compared by number. The parser reads a name
once, left to right (no regular expression): linear in its length, which is
at most 200 characters anyway (the column's size).
"""

#: Most numbers in a version: major.minor.patch and one more (1.2.3.4).
MAX_NUMBERS = 4
#: Most digits of one number (longer: not a version, not compared).
MAX_DIGITS = 30
#: Longest name read as a version (the column's size).
MAX_LENGTH = 200

_DIGITS = frozenset("0123456789")
_IDENTIFIER = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
)


def parse(name):
    """
    Return the sort key of a version name, or None if it is not one.

    The key is ``(package, numbers, pre-release)``: numbers padded to
    :data:`MAX_NUMBERS`; a release sorts after its pre-releases, and
    pre-release identifiers compare as semantic versioning says (numbers
    numerically and before words).
    """
    if not isinstance(name, str) or not name or len(name) > MAX_LENGTH:
        return None
    package, at, version = name.rpartition("@")
    if not at:
        package = ""
    if version[:1] in ("v", "V"):
        version = version[1:]
    version, plus, build = version.partition("+")
    if plus and not _identifiers(build):
        return None
    version, dash, pre = version.partition("-")
    parts = version.split(".")
    if not 1 <= len(parts) <= MAX_NUMBERS:
        return None
    numbers = []
    for part in parts:
        if not part or len(part) > MAX_DIGITS or not _DIGITS.issuperset(part):
            return None
        numbers.append(int(part))
    numbers += [0] * (MAX_NUMBERS - len(numbers))
    if not dash:
        # A release comes after all of its pre-releases.
        return (package, tuple(numbers), (1,))
    identifiers = _identifiers(pre)
    if not identifiers:
        return None
    prerelease = tuple(
        (0, int(part), "") if _DIGITS.issuperset(part) else (1, 0, part)
        for part in identifiers
    )
    return (package, tuple(numbers), (0, prerelease))


def _identifiers(text):
    """Return the dot-separated identifiers of ``text``, or None if one is bad."""
    parts = text.split(".")
    for part in parts:
        if not part or len(part) > MAX_DIGITS * 2 or not _IDENTIFIER.issuperset(part):
            return None
    return parts


def is_newer(candidate, than):
    """
    Return whether release ``candidate`` is newer than release ``than``.

    Both are ``(name, first_seen)`` pairs (``first_seen`` may be None when
    unknown). Semantic versions of one package compare by number; any other
    pair by first-seen time. Equal ones, and pairs that cannot be compared
    (a time unknown), are not newer: an event is never taken for a newer
    release on a doubt.
    """
    name, seen = candidate
    other, other_seen = than
    if name == other:
        return False
    key, other_key = parse(name), parse(other)
    if key is not None and other_key is not None and key[0] == other_key[0]:
        return key > other_key
    if seen is None or other_seen is None:
        return False
    return seen > other_seen
