"""
Apply source maps to an event's minified JavaScript frames, in the digest.

:func:`resolve_payload` runs on an event's payload as the digest reads it,
before it is mapped and grouped: the traceback text, the culprit and the
group checksum are then those of the original code, which stay the same from
one build to the next while minified positions do not. A frame is looked up
by the debug id its script was given (``debug_meta.images``) first, then by
the event's release (and dist) and the script's URL, ``~/path`` matching any
host as in Sentry. Only the bundles uploaded for the event's project (or
for no project) are searched: a debug id or a release name an event gives
never reaches another project's code. A resolved frame keeps its minified position under
``sourcemap.minified``; a frame that could not be resolved is left as sent,
with ``sourcemap.error`` saying why. The work per event is bounded: at most
``SENTRY_SOURCEMAP_MAX_MAPS_PER_EVENT`` maps are read, each no larger than
the upload caps allowed, and only the frames the event keeps are looked up
(``SENTRY_MAX_FRAMES`` of each stack, :data:`MAX_FRAMES_PER_EVENT` in all).
"""

import posixpath
import threading
import zlib
from collections import OrderedDict
from urllib.parse import urlsplit

from django.db.models import Q

from ..conf import settings
from ..ingest.mapping import _listed, integer
from .bundles import normalize_debug_id
from .models import MINIFIED_SOURCE, SOURCE_MAP, ArtifactBundle, ArtifactFile
from .resolution import Resolution

#: Where the minified position of a resolved frame is kept.
KEY = "sourcemap"
#: Different script URLs looked up for one event at most: each costs a few
#: queries, and a hostile event may name a new one in every frame.
MAX_SCRIPTS_PER_EVENT = 50
#: Frames looked up for one event at most: a lookup may scan a long
#: minified line, and a 1 MB event holds some 20,000 frames.
MAX_FRAMES_PER_EVENT = 250
#: Positions past this are in no map (symbolic takes 32-bit numbers).
MAX_POSITION = 2**32 - 1

NOT_INSTALLED = (
    "Source maps are not applied: the sourcemaps extra is not installed "
    "(pip install django-sentry[sourcemaps])."
)


def resolve_payload(payload, project_id=None):
    """
    Resolve the JavaScript frames of a Sentry event payload, in place, with
    the maps of project ``project_id`` (``None``: the site's own).
    """
    frames = [frame for frame in _frames(payload) if _is_minified(frame)]
    if not frames:
        return
    if project_id is None:
        from ..projects import default_project_id

        project_id = default_project_id()
    resolver = Resolver(payload, project_id)
    if not resolver.expects_maps(payload):
        # A Node.js or other service that uploads no maps: its frames are
        # its own code, and need no note that no map was found.
        return
    try:
        from symbolic.sourcemap import SourceMapView  # noqa: F401
    except ImportError:
        for frame in frames:
            frame[KEY] = Resolution(error=NOT_INSTALLED)
        return
    for count, frame in enumerate(frames):
        if count < MAX_FRAMES_PER_EVENT:
            resolver.resolve(frame)
        else:
            frame[KEY] = Resolution(
                error=f"Not looked up: this event has more than "
                f"{MAX_FRAMES_PER_EVENT} frames."
            )


def _frames(payload):
    """
    Yield the frame dicts of a payload (exceptions, stacktrace, threads) that
    the event keeps: both ends of a stack longer than ``SENTRY_MAX_FRAMES``,
    as :mod:`sentry.utils.eventdata` cuts it.
    """
    stacks = []
    for entry in _listed(payload.get("exception")):
        if isinstance(entry, dict):
            stacks.append(entry.get("stacktrace"))
    stacks.append(payload.get("stacktrace"))
    for thread in _listed(payload.get("threads")):
        if isinstance(thread, dict):
            stacks.append(thread.get("stacktrace"))
    for stack in stacks:
        if isinstance(stack, dict) and isinstance(stack.get("frames"), list):
            frames = [frame for frame in stack["frames"] if isinstance(frame, dict)]
            max_frames = settings.MAX_FRAMES
            if max_frames and len(frames) > max_frames:
                head = max_frames // 2
                frames = frames[:head] + frames[len(frames) - (max_frames - head) :]
            yield from frames


def _is_minified(frame):
    """Return whether a frame is a script position a map may resolve."""
    return (
        isinstance(_url(frame), str)
        and integer(frame.get("lineno")) is not None
        and integer(frame.get("colno")) is not None
    )


def _url(frame):
    url = frame.get("abs_path") or frame.get("filename")
    return url if isinstance(url, str) and len(url) <= 1000 else None


def url_candidates(url):
    """
    Return the artifact URLs a script URL matches, best first.

    The URL itself, without its query and fragment, then ``~/path`` (any
    host), with and without the query.
    """
    parts = urlsplit(url)
    bare = url.split("#", 1)[0]
    candidates = [url, bare, bare.split("?", 1)[0]]
    if parts.scheme and parts.netloc:
        path = parts.path or "/"
        if parts.query:
            candidates.append(f"~{path}?{parts.query}")
        candidates.append(f"~{path}")
    return list(dict.fromkeys(candidates))


def join_url(base, reference):
    """Return ``reference`` (a map or source name) relative to ``base``'s URL."""
    if reference.startswith("~/") or urlsplit(reference).scheme:
        return reference
    parts = urlsplit(base)
    if base.startswith("~/"):
        root, path = "~", base[1:]
    elif parts.scheme and parts.netloc:
        root, path = f"{parts.scheme}://{parts.netloc}", parts.path or "/"
    else:
        root, path = "", base
    if not reference.startswith("/"):
        reference = posixpath.join(posixpath.dirname(path), reference)
    if root:
        # A name above the root stays at the root, as a browser does it.
        return root + posixpath.normpath("/" + reference.lstrip("/"))
    return posixpath.normpath(reference)


def display_name(url):
    """Return the short file name shown for a source URL."""
    if url.startswith("~/"):
        return url[2:]
    parts = urlsplit(url)
    if parts.scheme in ("webpack", "file") or parts.netloc:
        return (parts.netloc + parts.path).lstrip("/")
    return url


class Resolver:
    """Resolve the frames of one event; reads each map once, and few."""

    def __init__(self, payload, project_id):
        self.bundles = of_project(project_id)
        self.release = _short_text(payload.get("release"), 200)
        self.dist = _short_text(payload.get("dist"), 64)
        self.debug_ids = {}
        meta = payload.get("debug_meta")
        images = meta.get("images") if isinstance(meta, dict) else None
        for image in images if isinstance(images, list) else []:
            if not isinstance(image, dict) or image.get("type") != "sourcemap":
                continue
            code_file = image.get("code_file")
            debug_id = normalize_debug_id(image.get("debug_id"))
            if isinstance(code_file, str) and debug_id:
                self.debug_ids[code_file] = debug_id
        #: Map file id -> (SourceMapView or None, error text or None).
        self.maps = {}
        #: Bytes the maps in self.maps hold once parsed (see parsed_size).
        self.held = 0
        #: Script URL -> (map row or None, why none).
        self.found = {}
        #: (map file id, source id, line) -> context lines around it.
        self.context = {}

    def expects_maps(self, payload):
        """
        Return whether the event's frames should have maps: a browser's
        event, one that names debug ids, or one of a release with bundles.
        """
        if payload.get("platform") == "javascript" or self.debug_ids:
            return True
        return bool(self.release) and (
            ArtifactBundle.objects.filter(self.bundles, release=self.release).exists()
        )

    def resolve(self, frame):
        url = _url(frame)
        if url not in self.found:
            if len(self.found) >= MAX_SCRIPTS_PER_EVENT:
                frame[KEY] = Resolution(
                    error=f"Not looked up: this event names more than "
                    f"{MAX_SCRIPTS_PER_EVENT} scripts."
                )
                return
            self.found[url] = self.find_map(url)
        row, script, why = self.found[url]
        if row is None:
            frame[KEY] = Resolution(error=why)
            return
        view, minified, problem = self.load(row, script)
        if view is None:
            frame[KEY] = Resolution(error=problem)
            return
        lineno, colno = integer(frame.get("lineno")), integer(frame.get("colno"))
        line = min(max(lineno - 1, 0), MAX_POSITION)
        column = min(max(colno - 1, 0), MAX_POSITION)
        function = frame.get("function")
        if minified is not None and isinstance(function, str) and function:
            # With the minified source, symbolic finds the original name of
            # the function the position is in.
            token = view.lookup(line, column, function[:200], minified)
        else:
            token = view.lookup(line, column)
        # symbolic answers with the nearest token before the position, even
        # on an earlier line: a line the map does not cover is not found.
        if token is None or token.src is None or token.dst_line != line:
            frame[KEY] = Resolution(
                error=f"Line {lineno}, column {colno} is not in the source map "
                f"{row.url}."
            )
            return
        self.apply(frame, row, view, token)

    def find_map(self, url):
        """Return ``(map, script, None)`` rows for a URL, or ``(None, None, why)``."""
        debug_id = self.debug_ids.get(url)
        if debug_id:
            rows = (
                ArtifactFile.objects.filter(
                    debug_id=debug_id, kind__in=(SOURCE_MAP, MINIFIED_SOURCE)
                )
                .filter(bundle__in=ArtifactBundle.objects.filter(self.bundles))
                .select_related("bundle")
                .defer("data")
            )
            row = (
                rows.filter(kind=SOURCE_MAP).order_by("-bundle__created", "-pk").first()
            )
            if row is not None:
                script = rows.filter(kind=MINIFIED_SOURCE, bundle=row.bundle_id).first()
                return row, script, None
        if self.release:
            files = (
                ArtifactFile.objects.filter(
                    bundle__in=ArtifactBundle.objects.filter(
                        self.bundles, release=self.release, dist=self.dist
                    )
                )
                .select_related("bundle")
                .defer("data")
            )
            candidates = url_candidates(url)
            scripts = {
                row.url: row
                for row in files.filter(
                    kind=MINIFIED_SOURCE, url__in=candidates
                ).order_by("bundle__created", "pk")
            }
            script = next((scripts[u] for u in candidates if u in scripts), None)
            if script is not None:
                reference = script.sourcemap or posixpath.basename(script.url) + ".map"
                map_url = join_url(script.url, reference)
                row = files.filter(
                    bundle=script.bundle_id, kind=SOURCE_MAP, url=map_url
                ).first()
                if row is not None:
                    return row, script, None
                return (
                    None,
                    None,
                    (
                        f"{script.url} names the source map {map_url}, which its "
                        "bundle lacks."
                    ),
                )
        wanted = []
        if debug_id:
            wanted.append(f"debug id {debug_id}")
        if self.release:
            dist = f", dist {self.dist}" if self.dist else ""
            wanted.append(f"release {self.release}{dist} and URL {url}")
        if not wanted:
            return (
                None,
                None,
                (
                    "No source map: the event names no debug id for this script and "
                    "no release."
                ),
            )
        return None, None, "No source map uploaded for " + " or ".join(wanted) + "."

    def load(self, row, script):
        """Return ``(map view, minified view, None)``, or ``(None, None, why)``."""
        if row.pk in self.maps:
            return self.maps[row.pk]
        if len(self.maps) >= settings.SOURCEMAP_MAX_MAPS_PER_EVENT:
            return (
                None,
                None,
                (
                    f"Not applied: this event needs more than "
                    f"{settings.SOURCEMAP_MAX_MAPS_PER_EVENT} source maps "
                    "(SENTRY_SOURCEMAP_MAX_MAPS_PER_EVENT)."
                ),
            )
        # The bundle's SHA-1 names its content: a key no reused row id, nor
        # another database, can make ambiguous.
        key = (row.bundle.checksum, row.url, script.url if script else None)
        limit = settings.SOURCEMAP_CACHE_SIZE
        cached = _cache.get(key)
        if cached is None:
            result, size = _parse(row, script)
            _cache.put(key, result, size, limit)
        else:
            result, size = cached
        if self.maps and self.held + size > limit:
            # The first map is always applied; more are held for this
            # event only within what the process keeps for all events.
            result = (
                None,
                None,
                (
                    "Not applied: the source maps this event needs take more "
                    f"than {limit} bytes once parsed (SENTRY_SOURCEMAP_CACHE_SIZE)."
                ),
            )
            size = 0
        self.held += size
        self.maps[row.pk] = result
        return result

    def apply(self, frame, row, view, token):
        minified = {
            name: frame[name]
            for name in ("abs_path", "filename", "function", "lineno", "colno")
            if name in frame
        }
        source = join_url(row.url, token.src)
        frame["abs_path"] = source
        frame["filename"] = display_name(source)
        frame["lineno"] = token.src_line + 1
        frame["colno"] = token.src_col + 1
        function = token.function_name
        if function:
            frame["function"] = function
        if "node_modules/" in source:
            frame["in_app"] = False
        for name in ("context_line", "pre_context", "post_context"):
            frame.pop(name, None)
        key = (row.pk, token.src_id, token.src_line)
        if key not in self.context:
            # Once per line and event: a source may be one line of megabytes,
            # which every frame in it would copy again.
            self.context[key] = _context(view, token)
        if self.context[key] is not None:
            pre, line, post = self.context[key]
            frame["pre_context"] = list(pre)
            frame["context_line"] = line
            frame["post_context"] = list(post)
        frame[KEY] = Resolution(minified=minified, map=row.url)


def _context(view, token):
    """Return ``(pre, line, post)`` around a token's source line, or ``None``."""
    lines = view.get_sourceview(token.src_id) if token.src_id is not None else None
    if lines is None or token.src_line >= len(lines):
        return None
    around = settings.CONTEXT_LINES
    first = max(token.src_line - around, 0)
    pre = lines[first : token.src_line]
    post = lines[token.src_line + 1 : token.src_line + 1 + around]
    if post and post[-1] == "" and token.src_line + len(post) == len(lines) - 1:
        # The "line" after a file's last newline.
        post.pop()
    return pre, lines[token.src_line], post


def of_project(project_id):
    """
    Return the filter of the bundles uploaded for project ``project_id``:
    those whose ``--project`` named it, and those uploaded for no project.
    """
    # ArtifactBundle.project holds the ids joined by commas ("7", "7,42").
    number = str(project_id)
    return (
        Q(project="")
        | Q(project=number)
        | Q(project__startswith=f"{number},")
        | Q(project__endswith=f",{number}")
        | Q(project__contains=f",{number},")
    )


def _parse(row, script):
    """Return ``((map view, minified view, why), bytes read)`` for a map row."""
    from symbolic.sourcemap import SourceMapView, SourceView

    data = _content(row)
    try:
        view = SourceMapView.from_json_bytes(data)
    except Exception as exc:
        # symbolic raises an error of its own for each way a map is broken.
        return (None, None, f"The source map {row.url} cannot be read: {exc}"), 0
    minified, code = None, b""
    if script is not None:
        try:
            code = _content(script)
            minified = SourceView.from_bytes(code)
        except Exception:
            # Positions still resolve; only function names are lost.
            minified, code = None, b""
    return (view, minified, None), parsed_size(view, data, code)


def parsed_size(view, data, code=b""):
    """
    Return about how many bytes a parsed map (and its minified script) hold.

    Not the JSON's size: symbolic keeps a struct per token (28 bytes), a
    string per name and source (about 60 bytes each, however short) and an
    index entry per line of a script (16 bytes), so a map of tokens, names
    or sources alone takes up to 16 times its JSON. Every name and source is
    a JSON string: its quotes count them, over-counting the escaped quotes
    of a source's content, which errs on the safe side.
    """
    size = len(data) + 32 * data.count(b'"') + len(code) + 16 * code.count(b"\n")
    if view is not None:
        size += 32 * len(view) + 128 * view.source_count
    return size


class _MapCache:
    """
    Parsed maps, most recently used kept, at most ``limit`` bytes of them.

    Parsing a map costs more than the rest of an event's digest (a 2 MB map:
    about 25 ms, inflating included), and an error from a broken build
    arrives by the hundred with the same map. Stored files never change:
    a cached map is never stale, only forgotten.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.items = OrderedDict()
        self.size = 0

    def get(self, key):
        with self.lock:
            item = self.items.get(key)
            if item is None:
                return None
            self.items.move_to_end(key)
            return item

    def put(self, key, value, size, limit):
        if size > limit:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = (value, size)
            self.size += size
            while self.size > limit:
                _, (_, freed) = self.items.popitem(last=False)
                self.size -= freed

    def clear(self):
        with self.lock:
            self.items.clear()
            self.size = 0


_cache = _MapCache()


def _content(row):
    """Return a stored file's bytes (as large as the upload caps allowed)."""
    data = ArtifactFile.objects.values_list("data", flat=True).get(pk=row.pk)
    return zlib.decompress(bytes(data))


def _short_text(value, limit):
    return value[:limit] if isinstance(value, str) else ""
