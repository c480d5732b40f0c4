"""
Hostile review of source maps in the digest: which project's maps an event
may use, and what one event may cost however many frames it holds.
"""

import json
import os
import uuid

import pytest
from django.test import Client

from sentry import queue
from sentry.conf import settings as sentry_settings
from sentry.digest import drain
from sentry.models import ArtifactBundle, Message, Project
from sentry.sourcemaps import resolve
from tests.ingest_factories import make_key, make_project
from tests.sourcemap_factories import (
    CALL_COLUMN,
    DEBUG_ID,
    MINIFIED,
    THROW_COLUMN,
    assemble,
    assemble_url,
    bundle,
    post_chunks,
    source_map,
    upload_token,
)

pytestmark = pytest.mark.django_db

SCRIPT = "http://shop.example/app.min.js"


@pytest.fixture(autouse=True)
def fresh_cache():
    resolve._cache.clear()
    yield
    resolve._cache.clear()


@pytest.fixture
def token(django_user_model):
    make_key(project_id=42)
    make_key(project_id=7, label="blog")
    user = django_user_model.objects.create_user("ci", is_staff=True)
    return upload_token(user)


def upload_for(token, projects):
    """Upload the default bundle with ``--project`` naming ``projects``."""
    client = Client()
    data = bundle()
    post_chunks(client, token, [data])
    answer = assemble(client, token, data, projects=projects).json()
    assert answer["state"] == "ok", answer


def js_event(debug_id=DEBUG_ID, frames=None):
    event = {
        "event_id": uuid.uuid4().hex,
        "platform": "javascript",
        "release": "shop@1.0",
        "exception": {
            "values": [
                {
                    "type": "TypeError",
                    "value": "cart is empty",
                    "stacktrace": {
                        "frames": frames
                        or [
                            {
                                "filename": SCRIPT,
                                "function": "s",
                                "lineno": 1,
                                "colno": THROW_COLUMN,
                            }
                        ]
                    },
                }
            ]
        },
    }
    if debug_id:
        event["debug_meta"] = {
            "images": [{"type": "sourcemap", "code_file": SCRIPT, "debug_id": debug_id}]
        }
    return event


def digest(event, project_id):
    """Queue ``event`` as a key of ``project_id`` does and digest it."""
    body = json.dumps(event).encode()
    entry = queue.Entry(
        event["event_id"], queue.KIND_EVENT, body, site="shop", project_id=project_id
    )
    queue.enqueue("default", [entry])
    drain()
    return Message.objects.get(message_id=event["event_id"])


def stack(message):
    return message.data["exception"]["values"][-1]["stacktrace"]["frames"]


# --- projects ------------------------------------------------------------------


@pytest.mark.parametrize("debug_id", [DEBUG_ID, None], ids=["debug-id", "release"])
def test_a_bundle_of_one_project_does_not_resolve_another_projects_events(
    debug_id, token
):
    upload_for(token, ["42"])

    other = stack(digest(js_event(debug_id), project_id=7))[-1]
    own = stack(digest(js_event(debug_id), project_id=42))[-1]

    assert other["filename"] == SCRIPT
    assert "context_line" not in other
    assert other["sourcemap"]["error"].startswith("No source map uploaded for ")
    assert own["filename"] == "src/cart.js"
    assert own["context_line"] == '  throw new TypeError("cart is empty");'


def test_a_bundle_uploaded_for_a_project_slug_resolves_that_project(token):
    make_project(9, slug="shop-web")
    upload_for(token, ["shop-web"])

    assert stack(digest(js_event(), project_id=9))[-1]["filename"] == "src/cart.js"
    assert stack(digest(js_event(), project_id=42))[-1]["filename"] == SCRIPT


def test_a_bundle_of_several_projects_resolves_each(token):
    make_project(142)
    upload_for(token, ["142", "7"])

    for project_id in (7, 142):
        frame = stack(digest(js_event(), project_id=project_id))[-1]
        assert frame["filename"] == "src/cart.js", project_id
    # "42" is a part of "142", not one of the bundle's projects.
    assert stack(digest(js_event(), project_id=42))[-1]["filename"] == SCRIPT


def test_a_bundle_uploaded_without_a_project_resolves_every_project(token):
    upload_for(token, [])

    for project_id in (7, 42):
        frame = stack(digest(js_event(), project_id=project_id))[-1]
        assert frame["filename"] == "src/cart.js", project_id


def test_a_release_of_another_project_does_not_make_a_service_expect_maps(token):
    upload_for(token, ["42"])
    event = js_event(debug_id=None)
    del event["platform"]  # a Node.js service of project 7, same release name

    frame = stack(digest(event, project_id=7))[-1]

    assert "sourcemap" not in frame


# --- cost per event ------------------------------------------------------------


def test_an_event_of_countless_frames_looks_up_only_the_frames_kept(token, monkeypatch):
    """
    Each lookup may scan a long minified line: a 1 MB event holds some 20,000
    frames, and only MAX_FRAMES of a stack are kept.
    """
    upload_for(token, [])
    from symbolic.sourcemap import SourceMapView

    lookups = []
    real = SourceMapView.lookup

    def counted(self, *args):
        lookups.append(args[:2])
        return real(self, *args)

    monkeypatch.setattr(SourceMapView, "lookup", counted)
    many = [
        {"filename": SCRIPT, "function": "c", "lineno": 1, "colno": CALL_COLUMN}
    ] * 5000
    last = {"filename": SCRIPT, "function": "s", "lineno": 1, "colno": THROW_COLUMN}

    frames = stack(digest(js_event(frames=[*many, last]), project_id=42))

    assert len(frames) == sentry_settings.MAX_FRAMES
    assert all(frame["filename"] == "src/cart.js" for frame in frames)
    assert frames[-1]["context_line"] == '  throw new TypeError("cart is empty");'
    assert len(lookups) <= sentry_settings.MAX_FRAMES


def test_the_frames_looked_up_per_event_are_capped_across_exceptions(
    token, monkeypatch
):
    upload_for(token, [])
    from symbolic.sourcemap import SourceMapView

    lookups = []
    real = SourceMapView.lookup

    def counted(self, *args):
        lookups.append(args[:2])
        return real(self, *args)

    monkeypatch.setattr(SourceMapView, "lookup", counted)
    event = js_event()
    entry = event["exception"]["values"][0]
    event["exception"]["values"] = [entry] * 2000

    digest(event, project_id=42)

    assert len(lookups) <= resolve.MAX_FRAMES_PER_EVENT


def test_each_source_line_is_read_once_per_event(token, monkeypatch):
    """
    A source may be one line of megabytes (a minified dependency): read for
    every frame, 250 frames would copy it 250 times.
    """
    upload_for(token, [])
    from symbolic.sourcemap import SourceView

    reads = []
    real = SourceView.__getitem__

    def counted(self, index):
        if not isinstance(index, slice):
            reads.append(index)
        return real(self, index)

    monkeypatch.setattr(SourceView, "__getitem__", counted)
    throw = {"filename": SCRIPT, "function": "s", "lineno": 1, "colno": THROW_COLUMN}

    frames = stack(digest(js_event(frames=[throw] * 40), project_id=42))

    assert all(frame["lineno"] == 5 for frame in frames)
    for frame in frames:
        assert frame["pre_context"][-1] == "function sumPrices(items) {"
    assert sorted(reads) == sorted(set(reads))


# --- memory of parsed maps -----------------------------------------------------


def _rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _map(**fields):
    return json.dumps({"version": 3, "names": [], "mappings": "AAAA", **fields})


#: Maps whose parsed form is many times their JSON (symbolic's structs per
#: token, name and source), and an ordinary one.
SHAPES = {
    "tokens": lambda n: _map(sources=["a.js"], mappings="A" + ",C" * n),
    "names": lambda n: _map(sources=["a.js"], names=[""] * n),
    "sources": lambda n: _map(sources=[""] * n),
    "null-contents": lambda n: _map(sources=["a"] * n, sourcesContent=[None] * n),
    "contents": lambda n: _map(sources=["a.js"], sourcesContent=["x;\n" * n]),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_map_cache_counts_what_a_parsed_map_holds_in_memory(shape):
    """
    SENTRY_SOURCEMAP_CACHE_SIZE bounds memory: a map charged by its JSON
    bytes alone could hold 16 times the setting.
    """
    from symbolic.sourcemap import SourceMapView

    data = SHAPES[shape](1_000_000).encode()
    before = _rss()
    views = [SourceMapView.from_json_bytes(data) for _ in range(4)]
    held = (_rss() - before) / len(views)

    assert resolve.parsed_size(views[0], data) >= held


def test_a_minified_script_is_counted_with_its_line_index():
    from symbolic.sourcemap import SourceView

    code = b"\n" * 4_000_000
    before = _rss()
    views = [SourceView.from_bytes(code) for _ in range(4)]
    for view in views:
        len(view)  # builds the line index
    held = (_rss() - before) / len(views)

    assert resolve.parsed_size(None, b"", code) >= held


# --- projects named at upload ---------------------------------------------------


def test_projects_too_many_to_record_are_refused_not_cut(token):
    """Cut to the column, the last id "123456789" would become project 1234's."""
    ids = [100000001 + n for n in range(6)] + [123456789, 1234]
    for number in ids:
        make_project(number)
    client = Client()
    data = bundle()
    post_chunks(client, token, [data])

    answer = assemble(client, token, data, projects=[str(n) for n in ids[:-1]])

    assert answer.status_code == 400
    assert answer.json()["detail"] == (
        "projects: too many to record (64 characters of ids joined by commas)."
    )
    assert stack(digest(js_event(), project_id=1234))[-1]["filename"] == SCRIPT


def test_bundles_stored_are_capped_so_a_leaked_token_cannot_fill_the_disk(
    token, settings
):
    upload_for(token, [])
    stored = ArtifactBundle.objects.get().size
    settings.SENTRY_SOURCEMAP_MAX_STORED_SIZE = stored + 100
    client = Client()
    other = bundle(release="shop@2.0")
    post_chunks(client, token, [other])

    answer = assemble(client, token, other, projects=[])

    assert answer.status_code == 413
    assert answer.json() == {
        "detail": f"Stored bundles would take more than {stored + 100} bytes "
        "(SENTRY_SOURCEMAP_MAX_STORED_SIZE): delete old ones in the admin.",
        "state": "error",
        "missingChunks": [],
    }
    assert ArtifactBundle.objects.count() == 1


def test_an_assemble_body_nested_too_deeply_is_a_400(token):
    answer = Client().post(
        assemble_url(),
        "[" * 200_000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert answer.status_code == 400
    assert answer.json() == {"detail": "The body is nested too deeply."}


@pytest.mark.parametrize(
    "text", ["shop\x00@1.0", "shop\ud800@1.0"], ids=["nul", "surrogate"]
)
def test_a_release_no_text_column_can_hold_is_a_400(text, token):
    client = Client()
    data = bundle(release="shop@1.0")
    post_chunks(client, token, [data])

    answer = assemble(client, token, data, projects=[], version=text)

    assert answer.status_code == 400
    assert answer.json()["detail"] == (
        "The release holds a NUL character or a lone surrogate."
    )
    assert not ArtifactBundle.objects.exists()


@pytest.mark.parametrize(
    "field, detail",
    [
        ("url", "manifest.json: the URL of '_/_/app.min.js'"),
        ("sourcemap", "manifest.json: the Sourcemap of '_/_/app.min.js'"),
        ("release", "The release"),
        ("dist", "The dist"),
    ],
)
@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"], ids=["nul", "surrogate"])
def test_manifest_texts_no_text_column_can_hold_are_a_400(field, detail, text, token):
    """Both a 500 before (PostgreSQL refuses NUL, UTF-8 lone surrogates)."""
    entry = {
        "url": "~/app.min.js",
        "type": "minified_source",
        "headers": {"Sourcemap": "app.min.js.map"},
    }
    manifest = {"release": "shop@1.0", "files": {"_/_/app.min.js": entry}}
    if field == "url":
        entry["url"] = text
    elif field == "sourcemap":
        entry["headers"]["Sourcemap"] = text
    else:
        manifest[field] = text
    files = {"_/_/app.min.js": ("", "", {}, b"x")}
    client = Client()
    data = bundle(files=files, manifest=manifest)
    post_chunks(client, token, [data])

    answer = assemble(client, token, data, projects=[], version="")

    assert answer.status_code == 400
    assert answer.json()["detail"] == (
        f"{detail} holds a NUL character or a lone surrogate."
    )
    assert not ArtifactBundle.objects.exists()


def test_a_bundle_is_uploaded_only_for_projects_the_tokens_user_may_see(
    token, monkeypatch
):
    """visible_projects() is where projects get restricted to some users."""
    from sentry import projects

    seen = []

    def only_project_7(user):
        seen.append(user.username)
        return Project.objects.filter(pk=7)

    monkeypatch.setattr(projects, "visible_projects", only_project_7)
    client = Client()
    data = bundle()
    post_chunks(client, token, [data])

    refused = assemble(client, token, data, projects=["42"])
    accepted = assemble(client, token, data, projects=["7"])

    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("Unknown project '42'")
    assert accepted.json()["state"] == "ok"
    assert ArtifactBundle.objects.get().project == "7"
    assert set(seen) == {"ci"}


def test_the_maps_one_event_holds_parsed_are_bounded_by_the_cache_size(token, settings):
    """Five maps of 32 MB of tokens each would hold 2.5 GB for one event."""
    second_id = "5f3a1b2c-0d5e-4f60-8a7b-9c0d1e2f3a4b"
    files = {}
    for name, debug_id in (("app", DEBUG_ID), ("vendor", second_id)):
        files[f"_/_/{name}.min.js"] = (
            f"~/{name}.min.js",
            "minified_source",
            {"debug-id": debug_id, "Sourcemap": f"{name}.min.js.map"},
            MINIFIED.encode(),
        )
        files[f"_/_/{name}.min.js.map"] = (
            f"~/{name}.min.js.map",
            "source_map",
            {"debug-id": debug_id},
            source_map(),
        )
    client = Client()
    data = bundle(files=files)
    post_chunks(client, token, [data])
    assert assemble(client, token, data, projects=[]).json()["state"] == "ok"
    from symbolic.sourcemap import SourceMapView, SourceView

    one = resolve.parsed_size(
        SourceMapView.from_json_bytes(source_map()), source_map(), MINIFIED.encode()
    )
    assert SourceView.from_bytes(MINIFIED.encode())
    settings.SENTRY_SOURCEMAP_CACHE_SIZE = one + one // 2
    vendor = "http://shop.example/vendor.min.js"
    event = js_event(
        frames=[
            {"filename": SCRIPT, "function": "s", "lineno": 1, "colno": THROW_COLUMN},
            {"filename": vendor, "function": "s", "lineno": 1, "colno": THROW_COLUMN},
        ]
    )
    event["debug_meta"]["images"].append(
        {"type": "sourcemap", "code_file": vendor, "debug_id": second_id}
    )

    first, second = stack(digest(event, project_id=42))

    assert first["filename"] == "src/cart.js"
    assert second["filename"] == vendor
    assert second["sourcemap"]["error"] == (
        "Not applied: the source maps this event needs take more than "
        f"{one + one // 2} bytes once parsed (SENTRY_SOURCEMAP_CACHE_SIZE)."
    )
