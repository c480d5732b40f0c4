"""Structured frames and exception chains from Python tracebacks."""

import functools
import itertools
import linecache
import os
import site
import sysconfig

from django.apps import apps

from ..conf import settings
from .shaping import safe_repr, to_text, truncate

#: Longest source line kept in a frame's context.
MAX_LINE_LENGTH = 300
#: How many exceptions of a ``__cause__``/``__context__`` chain are kept.
MAX_CHAIN = 10
#: Longest plain-text traceback kept.
MAX_TRACEBACK_LENGTH = 100_000
#: Frames with more variables than this (a module's globals) are read only
#: as far as the shaper keeps.
MAX_VARIABLES_READ = 1000


#: BaseException's own descriptors for the links of an exception: read
#: through them, a subclass's property or ``__getattr__`` (the host's code,
#: which may be slow) is never called, and the capture's budget holds.
_LINKS = {
    name: BaseException.__dict__[name]
    for name in ("__cause__", "__context__", "__suppress_context__", "__traceback__")
}
_GROUP_EXCEPTIONS = BaseExceptionGroup.__dict__["exceptions"]


def link(exc, name):
    """Return ``exc.<name>`` (``"__cause__"``...) as Python stores it."""
    try:
        return _LINKS[name].__get__(exc)
    except TypeError:  # not an exception at all
        return None


def contains(prefixes, value):
    """Return whether ``value`` is one of ``prefixes`` or a submodule of one."""
    if not value:
        return False
    return any(value == prefix or value.startswith(prefix + ".") for prefix in prefixes)


def get_include_paths():
    """
    Return the module prefixes that count as the application's code.

    ``SENTRY_INCLUDE_PATHS`` when set; otherwise the installed apps that are
    part of the project, not installed packages (Django's contrib apps, this
    app, other reusable apps).
    """
    paths = list(settings.INCLUDE_PATHS)
    if not paths:
        paths = [
            config.name
            for config in apps.get_app_configs()
            # This app's own frames never name the culprit, even when it is
            # installed from a checkout.
            if not is_library_path(os.path.join(config.path, ""))
            and not contains(("sentry",), config.name)
        ]
    return paths


@functools.cache
def _library_prefixes():
    paths = sysconfig.get_paths()
    prefixes = {paths[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    prefixes.update(site.getsitepackages())
    return tuple(sorted(os.path.join(p, "") for p in prefixes if p))


def is_library_path(abs_path):
    """Return whether a file belongs to Python itself or an installed package."""
    if not abs_path or abs_path.startswith("<"):
        return True
    return abs_path.startswith(_library_prefixes()) or "/site-packages/" in abs_path


def is_in_app(module, include_paths, exclude_paths):
    return contains(include_paths, module) and not contains(exclude_paths, module)


def iter_traceback_frames(tb):
    """Yield ``(frame, lineno)`` from the outermost to the innermost call."""
    seen = 0
    while tb is not None and seen < 10_000:
        frame = tb.tb_frame
        # Frames that ask to be hidden (as in Django's debug page) are skipped.
        if not _hidden(frame):
            yield frame, tb.tb_lineno
        tb = tb.tb_next
        seen += 1


def _hidden(frame):
    try:
        return bool(frame.f_locals.get("__traceback_hide__"))
    except Exception:
        return False


def get_lines(filename, module_globals, lineno, context_lines):
    """Return ``(pre_context, context_line, post_context)`` around ``lineno``."""
    try:
        lines = linecache.getlines(filename, module_globals)
    except Exception:
        lines = []
    if not lines or lineno is None or not 0 < lineno <= len(lines):
        return [], None, []
    index = lineno - 1

    def clean(line):
        return truncate(line.rstrip("\r\n"), MAX_LINE_LENGTH)

    pre = [clean(line) for line in lines[max(index - context_lines, 0) : index]]
    post = [clean(line) for line in lines[index + 1 : index + 1 + context_lines]]
    return pre, clean(lines[index]), post


class StackBuilder:
    """Build Sentry-style frame dicts, reading the settings once."""

    def __init__(self, shaper):
        self.shaper = shaper
        self.include_paths = get_include_paths()
        self.exclude_paths = list(settings.EXCLUDE_PATHS)
        self.context_lines = settings.CONTEXT_LINES
        self.include_locals = settings.INCLUDE_LOCALS
        self.max_frames = settings.MAX_FRAMES

    def frames_from_traceback(self, tb):
        """Return ``(frames, omitted)``: frame dicts, outermost first."""
        raw = list(iter_traceback_frames(tb))
        omitted = 0
        if self.max_frames and len(raw) > self.max_frames:
            # Keep both ends: where it started and where it failed.
            head = self.max_frames // 2
            tail = self.max_frames - head
            omitted = len(raw) - self.max_frames
            raw = raw[:head] + raw[-tail:]
        # The innermost frames first: where it failed gets the time budget
        # before the frames that led there.
        frames = [self.frame(frame, lineno) for frame, lineno in reversed(raw)]
        frames.reverse()
        return frames, omitted

    def frame(self, frame, lineno):
        code = frame.f_code
        f_globals = frame.f_globals
        module = f_globals.get("__name__")
        module = module if isinstance(module, str) else None
        abs_path = code.co_filename
        # The source is kept even out of time: grouping reads the line.
        pre, line, post = get_lines(abs_path, f_globals, lineno, self.context_lines)
        result = {
            "filename": _short_filename(abs_path, module),
            "abs_path": abs_path,
            "module": module,
            "function": getattr(code, "co_qualname", code.co_name),
            "lineno": lineno,
            "pre_context": pre,
            "context_line": line,
            "post_context": post,
            "in_app": is_in_app(module, self.include_paths, self.exclude_paths),
        }
        if self.include_locals:
            # Out of time, still a few steps per variable: each shown by
            # what it answered before, its value (numbers, text) or its
            # type's name (see Shaper).
            result["vars"] = self.shaper(self.local_variables(frame))
        return result

    def local_variables(self, frame):
        """Return a frame's variables (as many as are kept, when very many)."""
        try:
            variables = frame.f_locals
            names = (
                (name, value)
                for name, value in variables.items()
                # Module-level frames list the module's globals: leave out
                # the interpreter's bookkeeping.
                if not (name.startswith("__") and name.endswith("__"))
            )
            if len(variables) > MAX_VARIABLES_READ:
                # A module's globals may be many: read one more than is kept,
                # so that the shaper marks the cut (without the count).
                return dict(itertools.islice(names, self.shaper.max_list + 1))
            return dict(names)
        except Exception:
            return {}


def _short_filename(abs_path, module):
    """Return the path relative to its package root, stable across machines."""
    if module and abs_path.endswith(".py"):
        parts = module.split(".")
        # "pkg/sub/mod.py" for module "pkg.sub.mod"; packages end in __init__.py.
        path_parts = abs_path.replace("\\", "/").split("/")
        keep = len(parts) + (1 if path_parts[-1] == "__init__.py" else 0)
        return "/".join(path_parts[-keep:])
    return abs_path


def iter_exception_chain(exc_value):
    """Yield the exceptions of a chain, the oldest (root cause) first."""
    chain = []
    seen = set()
    current = exc_value
    while current is not None and id(current) not in seen and len(chain) < MAX_CHAIN:
        seen.add(id(current))
        chain.append(current)
        cause, context = link(current, "__cause__"), link(current, "__context__")
        if cause is not None:
            current = cause
        elif context is not None and not link(current, "__suppress_context__"):
            current = context
        else:
            current = None
    return reversed(chain)


def exception_values(exc_value, builder):
    """
    Return Sentry-style exception entries for ``exc_value`` and its chain.

    Entries run from the root cause to the exception that was raised, as in
    Sentry's protocol; sub-exceptions of an exception group follow their
    group, each naming its parent with ``mechanism.parent_id``.
    """
    values = []
    _append_exception(values, exc_value, builder, parent_id=None, source=None)
    return values


def _append_exception(values, exc_value, builder, parent_id, source, depth=0):
    chain = list(iter_exception_chain(exc_value))
    shaper = builder.shaper
    for position, exc in enumerate(chain):
        frames, omitted = builder.frames_from_traceback(link(exc, "__traceback__"))
        exc_type = type(exc)
        module = exc_type.__module__
        entry = {
            "type": exc_type.__qualname__,
            "value": exception_text(exc, shaper, shaper.max_string * 10),
            "module": None if module == "builtins" else module,
            "stacktrace": {"frames": frames},
            "mechanism": {"type": "generic", "handled": True},
        }
        if omitted:
            entry["stacktrace"]["frames_omitted"] = omitted
        is_last = position == len(chain) - 1
        if not is_last:
            # How the next (newer) exception is linked to this one.
            newer = chain[position + 1]
            source_name = "__cause__"
            if link(newer, "__cause__") is not exc:
                source_name = "__context__"
            entry["mechanism"]["source"] = source_name
        if is_last and parent_id is not None:
            entry["mechanism"]["parent_id"] = parent_id
            entry["mechanism"]["source"] = source
        values.append(entry)
        if is_last and issubclass(exc_type, BaseExceptionGroup) and depth < 3:
            exception_id = len(values) - 1
            entry["mechanism"]["exception_id"] = exception_id
            entry["mechanism"]["is_exception_group"] = True
            subs = _GROUP_EXCEPTIONS.__get__(exc)[: builder.shaper.max_list]
            for index, sub in enumerate(subs):
                if shaper.expired():
                    # Out of time: the group and the sub-exceptions so far.
                    break
                _append_exception(
                    values,
                    sub,
                    builder,
                    exception_id,
                    f"exceptions[{index}]",
                    depth + 1,
                )


CAUSE_LINE = (
    "\nThe above exception was the direct cause of the following exception:\n\n"
)
CONTEXT_LINE = (
    "\nDuring handling of the above exception, another exception occurred:\n\n"
)


def render_traceback(values):
    """
    Return a Python-style traceback text for Sentry-style exception entries.

    Built from the captured frames, so it costs nothing more to make and
    reads the same for events captured here and events sent by SDKs.
    """
    parts = []
    previous = None
    for value in values:
        if not isinstance(value, dict):
            continue
        mechanism = (
            value.get("mechanism") if isinstance(value.get("mechanism"), dict) else {}
        )
        if previous is not None:
            source = previous.get("source")
            if mechanism.get("parent_id") is not None and str(
                mechanism.get("source", "")
            ).startswith("exceptions["):
                parts.append(
                    f"\n(raised in the exception group, {mechanism['source']})\n\n"
                )
            elif source == "__cause__":
                parts.append(CAUSE_LINE)
            else:
                parts.append(CONTEXT_LINE)
        previous = mechanism
        stacktrace = (
            value.get("stacktrace") if isinstance(value.get("stacktrace"), dict) else {}
        )
        frames = (
            stacktrace.get("frames")
            if isinstance(stacktrace.get("frames"), list)
            else []
        )
        if frames:
            parts.append("Traceback (most recent call last):\n")
            omitted = stacktrace.get("frames_omitted")
            middle = len(frames) // 2 if omitted else -1
            for index, frame in enumerate(frames):
                if index == middle:
                    parts.append(f"  [... {omitted} frames omitted ...]\n")
                if not isinstance(frame, dict):
                    continue
                where = frame.get("abs_path") or frame.get("filename") or "?"
                parts.append(
                    f'  File "{where}", line {frame.get("lineno", "?")}, '
                    f"in {frame.get('function') or '?'}\n"
                )
                line = frame.get("context_line")
                if isinstance(line, str) and line.strip():
                    parts.append(f"    {line.strip()}\n")
        parts.append(_exception_line(value) + "\n")
    return truncate("".join(parts), MAX_TRACEBACK_LENGTH)


def _exception_line(value):
    name = str(value.get("type") or "Error")
    module = value.get("module")
    if module and module not in ("builtins", "__main__", "exceptions"):
        name = f"{module}.{name}"
    text = value.get("value")
    return f"{name}: {text}" if text not in (None, "") else name


def exception_text(exc, shaper=None, max_length=None):
    """
    Return ``str(exc)``, safe against a broken ``__str__``.

    With a ``shaper`` (a capture's), ``__str__`` is called at most once per
    exception and not past the deadline, and the text is cut to
    ``max_length``.
    """
    if shaper is not None:
        if _plain_exception(exc):
            text = exception_text(exc)
        else:
            text = shaper.ask(exc, "exception_text", exception_text)
        return truncate(text, max_length or shaper.max_string)
    try:
        text = str(exc)
    except Exception:
        return f"<unprintable {safe_repr(type(exc).__qualname__)} object>"
    return text if type(text) is str else to_text(text)


def _plain_exception(exc):
    """Return whether ``str(exc)`` runs only Python's own code."""
    return type(exc).__module__ == "builtins" and all(
        type(arg) in (str, int) for arg in exc.args
    )
