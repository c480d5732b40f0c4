"""
Artifact bundles: put the uploaded chunks together, check them, store files.

An artifact bundle is a zip that ``sentry-cli`` builds: a ``manifest.json``
lists each file's URL, kind and headers (``debug-id``, ``sourcemap``). It
comes from a build machine, but a leaked upload token puts it in anyone's
hands, so every step is bounded: the zip's size, the number of its entries,
the manifest's size, each file's and all files' size once inflated (read
block by block, whatever the zip's headers claim), and how much a file may
inflate (zip bombs). Zip member names are never used as paths on disk: the
files go to the database. Every refusal is a :class:`BundleError` whose text
the client sees.
"""

import hashlib
import json
import re
import tempfile
import zipfile
import zlib

from django.db import transaction

from ..conf import settings
from .models import KINDS, ArtifactBundle, ArtifactFile, UploadChunk

#: Bytes read from a zip member at a time.
BLOCK = 64 * 1024
#: Inflated bytes a file may always reach, whatever its compression ratio:
#: small, very regular files compress far better than bombs need to.
RATIO_FLOOR = 1024 * 1024
#: Bytes of the central directory one file may take: the fixed part, a name
#: as long as :func:`_safe_name` allows and room for extra fields.
DIRECTORY_ENTRY_BYTES = 46 + 1000 + 1024
#: What starts each entry of a zip's central directory.
DIRECTORY_SIGNATURE = b"PK\x01\x02"
_UUID_RE = re.compile(
    r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"
)


class BundleError(ValueError):
    """A bundle that cannot be stored; the text says why, for the client."""


def normalize_debug_id(value):
    """Return a debug id as a lowercase UUID with dashes, or ``""``."""
    if not isinstance(value, str):
        return ""
    match = _UUID_RE.match(value.strip().lower())
    if not match:
        return ""
    hexes = match.group(0).replace("-", "")
    return "-".join((hexes[:8], hexes[8:12], hexes[12:16], hexes[16:20], hexes[20:32]))


def spool():
    """Return a temporary file for a bundle: on disk past a few megabytes."""
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)


def join_chunks(checksum, chunks, out):
    """
    Write the bundle put together from its chunks to the file ``out``.

    Raise :class:`BundleError` when it is too large, lacks a chunk or its
    SHA-1 is not ``checksum``.
    """
    limit = settings.SOURCEMAP_MAX_BUNDLE_SIZE
    digest = hashlib.sha1()
    size = 0
    rows = UploadChunk.objects.filter(checksum__in=set(chunks)).only("checksum")
    ids = {row.checksum: row.pk for row in rows}
    for checksum_of_chunk in chunks:
        if checksum_of_chunk not in ids:
            raise BundleError(f"Chunk {checksum_of_chunk} was never uploaded.")
        # One chunk in memory at a time.
        data = bytes(UploadChunk.objects.get(pk=ids[checksum_of_chunk]).data)
        size += len(data)
        if size > limit:
            raise BundleError(
                f"The bundle is larger than {limit} bytes "
                "(SENTRY_SOURCEMAP_MAX_BUNDLE_SIZE)."
            )
        digest.update(data)
        out.write(data)
    if digest.hexdigest() != checksum:
        raise BundleError(
            f"The chunks put together have SHA-1 {digest.hexdigest()}, not {checksum}."
        )
    out.seek(0)


def store_bundle(fileobj, checksum, project="", release="", dist=""):
    """Check the zip in ``fileobj`` and store it; return the bundle."""
    size = fileobj.seek(0, 2)
    fileobj.seek(0)
    _check_directory(fileobj)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BundleError(f"The bundle is not a zip file ({exc}).") from None
    with archive:
        members = _members(archive)
        manifest = _manifest(archive, members)
        files = manifest.get("files")
        if not isinstance(files, dict):
            raise BundleError("manifest.json lists no files.")
        if len(files) > settings.SOURCEMAP_MAX_FILES:
            raise BundleError(
                f"The bundle has more than {settings.SOURCEMAP_MAX_FILES} files "
                "(SENTRY_SOURCEMAP_MAX_FILES)."
            )
        release = _text(release or manifest.get("release"), 200, "The release")
        dist = _text(dist or manifest.get("dist"), 64, "The dist")
        budget = [settings.SOURCEMAP_MAX_UNPACKED_SIZE]
        with transaction.atomic(using=ArtifactBundle.objects.db):
            bundle = ArtifactBundle.objects.create(
                checksum=checksum,
                project=project[:64],
                release=release,
                dist=dist,
                size=size,
            )
            count = 0
            for name, entry in files.items():
                row = _file_row(archive, members, name, entry, budget)
                if row is not None:
                    row.bundle = bundle
                    row.save()
                    count += 1
            bundle.file_count = count
            bundle.save(update_fields=["file_count"])
    return bundle


def _check_directory(fileobj):
    """
    Refuse a zip whose central directory lists more files than a bundle may
    hold, before :mod:`zipfile` reads it: it makes an object per entry, and
    a 60 MB bundle of 1.3 million entries took 7 s and 400 MB.
    """
    # zipfile's own reader of the end record (private, unchanged since
    # Python 2): None when there is none, and ZipFile says why.
    end = zipfile._EndRecData(fileobj)
    fileobj.seek(0)
    if end is None:
        return
    most = settings.SOURCEMAP_MAX_FILES + 1
    size, location = end[zipfile._ECD_SIZE], end[zipfile._ECD_LOCATION]
    if size > most * DIRECTORY_ENTRY_BYTES:
        raise _too_many_files()
    # Each entry zipfile reads starts with the signature: counting them
    # (and a few bytes more, for a zip64 end record) bounds the entries.
    start = max(location - size - 128, 0)
    fileobj.seek(start)
    directory = fileobj.read(location - start)
    fileobj.seek(0)
    if directory.count(DIRECTORY_SIGNATURE) > most:
        raise _too_many_files()


def _too_many_files():
    return BundleError(
        f"The bundle has more than {settings.SOURCEMAP_MAX_FILES} files "
        "(SENTRY_SOURCEMAP_MAX_FILES)."
    )


def _text(value, limit, what):
    """
    Return ``value`` cut to ``limit`` (``""`` if it is no text); refuse what
    no text column holds: a NUL (PostgreSQL) or a lone surrogate (UTF-8),
    which JSON's ``\\u0000`` and ``\\ud800`` escapes can carry.
    """
    if not isinstance(value, str):
        return ""
    value = value[:limit]
    if "\x00" in value or not _encodable(value):
        raise BundleError(f"{what} holds a NUL character or a lone surrogate.")
    return value


def _encodable(text):
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _members(archive):
    infos = archive.infolist()
    # The manifest, and at most one entry per file it may list.
    if len(infos) > settings.SOURCEMAP_MAX_FILES + 1:
        raise _too_many_files()
    members = {}
    for info in infos:
        name = info.filename
        if not _safe_name(name):
            raise BundleError(f"The bundle holds a file with an unsafe name: {name!r}.")
        if info.flag_bits & 0x1:
            raise BundleError(f"{name!r} is encrypted.")
        members[name] = info
    return members


def _safe_name(name):
    """Return whether a member name is a plain relative path."""
    if not name or len(name) > 1000 or "\\" in name or "\x00" in name:
        return False
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in name.split("/")


def _manifest(archive, members):
    info = members.get("manifest.json")
    if info is None:
        raise BundleError("The bundle has no manifest.json.")
    limit = settings.SOURCEMAP_MAX_MANIFEST_SIZE
    data = _read(archive, info, limit, "manifest.json", "SOURCEMAP_MAX_MANIFEST_SIZE")
    try:
        manifest = json.loads(data)
    except RecursionError:
        raise BundleError("manifest.json is nested too deeply.") from None
    except ValueError:
        raise BundleError("manifest.json is not JSON.") from None
    if not isinstance(manifest, dict):
        raise BundleError("manifest.json is not a JSON object.")
    return manifest


def _file_row(archive, members, name, entry, budget):
    """Return the unsaved row of a manifest entry (None: a kind not kept)."""
    if not isinstance(entry, dict):
        raise BundleError(f"manifest.json: the entry of {name!r} is not an object.")
    kind = entry.get("type")
    if kind not in KINDS:
        # indexed_ram_bundle and kinds to come: not applied here.
        return None
    info = members.get(name)
    if info is None:
        raise BundleError(f"manifest.json lists {name!r}, which the bundle lacks.")
    url = entry.get("url")
    if not isinstance(url, str) or not url or len(url) > 1000:
        raise BundleError(f"manifest.json: {name!r} has no URL (or one too long).")
    url = _text(url, 1000, f"manifest.json: the URL of {name!r}")
    headers = entry.get("headers")
    headers = headers if isinstance(headers, dict) else {}
    headers = {str(key).lower(): value for key, value in headers.items()}
    sourcemap = headers.get("sourcemap") or headers.get("x-sourcemap")
    limit = min(settings.SOURCEMAP_MAX_FILE_SIZE, budget[0])
    data = _read(archive, info, limit, name, "SOURCEMAP_MAX_FILE_SIZE")
    budget[0] -= len(data)
    return ArtifactFile(
        url=url,
        kind=kind,
        debug_id=normalize_debug_id(headers.get("debug-id")),
        sourcemap=_text(sourcemap, 1000, f"manifest.json: the Sourcemap of {name!r}"),
        size=len(data),
        data=zlib.compress(data, 6),
    )


def _read(archive, info, limit, name, setting):
    """
    Return a member's bytes, inflated block by block and never past the caps.

    The sizes in the zip's headers are the sender's word: what counts is what
    comes out.
    """
    ratio_limit = max(info.compress_size * settings.SOURCEMAP_MAX_RATIO, RATIO_FLOOR)
    parts, size = [], 0
    try:
        with archive.open(info) as member:
            while True:
                block = member.read(BLOCK)
                if not block:
                    break
                size += len(block)
                if size > ratio_limit:
                    raise BundleError(
                        f"{name!r} inflates more than "
                        f"{settings.SOURCEMAP_MAX_RATIO} times its size "
                        "(SENTRY_SOURCEMAP_MAX_RATIO): refused as a zip bomb."
                    )
                if size > limit:
                    raise BundleError(
                        f"{name!r} is larger than {limit} bytes once inflated "
                        f"(SENTRY_{setting}, SENTRY_SOURCEMAP_MAX_UNPACKED_SIZE)."
                    )
                parts.append(block)
    except BundleError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
        ValueError,
    ) as exc:
        raise BundleError(f"{name!r} cannot be read ({exc}).") from None
    return b"".join(parts)
