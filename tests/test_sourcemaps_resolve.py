"""
Source maps applied in the digest: which map a frame finds, what the frame
becomes, why it is left as sent otherwise, and what the event page shows.
"""

import builtins
import json
import uuid

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from sentry import queue
from sentry.digest import drain
from sentry.models import ArtifactFile, Message
from sentry.sourcemaps import resolve
from sentry.sourcemaps.resolve import display_name, join_url, url_candidates
from tests.ingest_factories import make_key, make_project
from tests.sourcemap_factories import (
    CALL_COLUMN,
    CART_JS,
    DEBUG_ID,
    MINIFIED,
    THROW_COLUMN,
    bundle,
    source_map,
    upload,
    upload_token,
)

pytestmark = pytest.mark.django_db

SCRIPT = "http://shop.example/app.min.js"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Parsed maps are kept per process: each test starts without any."""
    resolve._cache.clear()
    yield
    resolve._cache.clear()


@pytest.fixture
def staff(django_user_model):
    make_key(project_id=42)
    return django_user_model.objects.create_user("ci", is_staff=True)


@pytest.fixture
def uploaded(staff):
    """The default bundle, uploaded as sentry-cli would."""
    assert upload(Client(), upload_token(staff), bundle()).json()["state"] == "ok"


def js_event(debug_id=DEBUG_ID, release="shop@1.0", url=SCRIPT, **fields):
    """An event like @sentry/browser's for an error thrown in MINIFIED."""
    event = {
        "event_id": uuid.uuid4().hex,
        "platform": "javascript",
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "TypeError",
                    "value": "cart is empty",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": url,
                                "function": "c",
                                "lineno": 1,
                                "colno": CALL_COLUMN,
                                "in_app": True,
                            },
                            {
                                "filename": url,
                                "function": "s",
                                "lineno": 1,
                                "colno": THROW_COLUMN,
                                "in_app": True,
                            },
                        ]
                    },
                }
            ]
        },
        **fields,
    }
    if release:
        event["release"] = release
    if debug_id:
        event["debug_meta"] = {
            "images": [{"type": "sourcemap", "code_file": url, "debug_id": debug_id}]
        }
    return event


def digest(event):
    """Queue ``event`` as a key of project 42 does and digest it; return it."""
    make_project(42)
    body = json.dumps(event).encode()
    entry = queue.Entry(
        event["event_id"], queue.KIND_EVENT, body, site="shop", project_id=42
    )
    queue.enqueue("default", [entry])
    drain()
    return Message.objects.get(message_id=event["event_id"])


def frames(message):
    return message.data["exception"]["values"][-1]["stacktrace"]["frames"]


def test_a_frame_is_resolved_by_its_debug_id(uploaded):
    message = digest(js_event(release=None))

    throw = frames(message)[-1]
    assert throw["abs_path"] == "~/src/cart.js"
    assert throw["filename"] == "src/cart.js"
    assert (throw["lineno"], throw["colno"]) == (5, 3)
    assert throw["function"] == "sumPrices"
    assert throw["context_line"] == '  throw new TypeError("cart is empty");'
    assert throw["pre_context"] == CART_JS.splitlines()[:4]
    assert throw["post_context"] == ["}"]
    assert throw["sourcemap"] == {
        "minified": {
            "filename": SCRIPT,
            "function": "s",
            "lineno": 1,
            "colno": THROW_COLUMN,
        },
        "map": "~/app.min.js.map",
    }
    caller = frames(message)[0]
    assert (caller["function"], caller["lineno"], caller["colno"]) == (
        "checkout",
        2,
        10,
    )


def test_without_a_debug_id_the_release_and_url_find_the_map(uploaded):
    message = digest(js_event(debug_id=None, url=SCRIPT + "?v=3"))

    throw = frames(message)[-1]
    assert (throw["filename"], throw["lineno"], throw["function"]) == (
        "src/cart.js",
        5,
        "sumPrices",
    )


def test_the_traceback_culprit_and_group_are_those_of_the_original_code(
    uploaded, staff
):
    # The next build: other minified names, the same original code.
    build_2 = "9e1f0c3a-7b6d-4e5f-8a9b-0c1d2e3f4a5b"
    files = {
        "_/_/app.min.js": (
            "~/app.min.js",
            "minified_source",
            {"debug-id": build_2, "sourcemap": "app.min.js.map"},
            MINIFIED.replace("s(", "q(").encode(),
        ),
        "_/_/app.min.js.map": (
            "~/app.min.js.map",
            "source_map",
            {"debug-id": build_2},
            source_map(),
        ),
    }
    upload(Client(), upload_token(staff), bundle(files=files, release="shop@1.1"))
    second_event = js_event(debug_id=build_2, release="shop@1.1")
    second_event["exception"]["values"][0]["stacktrace"]["frames"][-1]["function"] = "q"

    first = digest(js_event())
    second = digest(second_event)

    assert 'File "~/src/cart.js", line 5, in sumPrices' in first.traceback
    assert 'throw new TypeError("cart is empty");' in first.traceback
    assert first.view == "sumPrices(src/cart.js)"
    assert frames(second)[-1]["sourcemap"]["minified"]["function"] == "q"
    assert first.group_id == second.group_id


@pytest.mark.parametrize("cache_size, parses", [(64 * 1024 * 1024, 1), (0, 2)])
def test_a_map_is_parsed_once_for_the_events_that_need_it(
    cache_size, parses, uploaded, monkeypatch
):
    calls = []
    parse = resolve._parse
    monkeypatch.setattr(
        resolve, "_parse", lambda *args: calls.append(args) or parse(*args)
    )

    with override_settings(SENTRY_SOURCEMAP_CACHE_SIZE=cache_size):
        first, second = digest(js_event()), digest(js_event())

    assert len(calls) == parses
    assert frames(first)[-1]["function"] == frames(second)[-1]["function"]


def test_a_frame_without_a_map_is_left_as_sent_and_says_why(uploaded):
    message = digest(js_event(debug_id=None, release="shop@2.0"))

    throw = frames(message)[-1]
    assert (throw["filename"], throw["colno"], throw["function"]) == (
        SCRIPT,
        THROW_COLUMN,
        "s",
    )
    assert throw["sourcemap"] == {
        "error": f"No source map uploaded for release shop@2.0 and URL {SCRIPT}."
    }


def test_an_unknown_debug_id_falls_back_to_the_release(uploaded):
    message = digest(js_event(debug_id=str(uuid.uuid4())))

    assert frames(message)[-1]["function"] == "sumPrices"


def test_an_event_with_neither_debug_id_nor_release_says_so():
    message = digest(js_event(debug_id=None, release=None))

    assert (
        "no debug id for this script and no release"
        in (frames(message)[-1]["sourcemap"]["error"])
    )


def test_a_broken_map_leaves_the_frame_as_sent_and_says_why(uploaded):
    ArtifactFile.objects.filter(kind="source_map").update(
        data=__import__("zlib").compress(b'{"version": 3, "mappings": 12}')
    )

    throw = frames(digest(js_event()))[-1]

    assert throw["function"] == "s"
    assert throw["sourcemap"]["error"].startswith(
        "The source map ~/app.min.js.map cannot be read: "
    )


def test_a_position_outside_the_map_says_so(uploaded):
    event = js_event()
    event["exception"]["values"][0]["stacktrace"]["frames"][-1]["lineno"] = 40

    throw = frames(digest(event))[-1]

    assert throw["lineno"] == 40
    assert throw["sourcemap"]["error"] == (
        f"Line 40, column {THROW_COLUMN} is not in the source map ~/app.min.js.map."
    )


def test_a_map_named_by_a_script_but_missing_from_its_bundle_says_so(staff):
    files = {
        "_/_/app.min.js": (
            "~/app.min.js",
            "minified_source",
            {"sourcemap": "maps/app.js.map"},
            MINIFIED.encode(),
        )
    }
    upload(Client(), upload_token(staff), bundle(files=files))

    throw = frames(digest(js_event(debug_id=None)))[-1]

    assert throw["sourcemap"]["error"] == (
        "~/app.min.js names the source map ~/maps/app.js.map, which its bundle lacks."
    )


@pytest.mark.parametrize("lineno, colno", [(1, 2**40), (2**40, 1), (-5, -5)])
def test_positions_no_map_can_hold_are_not_found(lineno, colno, uploaded):
    event = js_event()
    frame = event["exception"]["values"][0]["stacktrace"]["frames"][-1]
    frame.update(lineno=lineno, colno=colno)

    throw = frames(digest(event))[-1]

    assert "sourcemap" in throw
    if lineno > 1:
        assert "is not in the source map" in throw["sourcemap"]["error"]


@override_settings(SENTRY_MAX_FRAMES=100)
def test_the_scripts_looked_up_per_event_are_capped(uploaded):
    event = js_event(debug_id=None)
    stack = event["exception"]["values"][0]["stacktrace"]
    stack["frames"] = [
        {"filename": f"http://h/{n}.js", "function": "f", "lineno": 1, "colno": 1}
        for n in range(resolve.MAX_SCRIPTS_PER_EVENT + 1)
    ]

    last = frames(digest(event))[-1]

    assert last["sourcemap"] == {
        "error": f"Not looked up: this event names more than "
        f"{resolve.MAX_SCRIPTS_PER_EVENT} scripts."
    }


@override_settings(SENTRY_SOURCEMAP_MAX_MAPS_PER_EVENT=0)
def test_the_maps_read_per_event_are_capped(uploaded):
    throw = frames(digest(js_event()))[-1]

    assert "SENTRY_SOURCEMAP_MAX_MAPS_PER_EVENT" in throw["sourcemap"]["error"]


def test_without_the_extra_frames_are_left_as_sent_and_say_why(uploaded, monkeypatch):
    real_import = builtins.__import__

    def no_symbolic(name, *args, **kwargs):
        if name.startswith("symbolic"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_symbolic)

    throw = frames(digest(js_event()))[-1]

    assert throw["function"] == "s"
    assert throw["sourcemap"] == {"error": resolve.NOT_INSTALLED}


def test_a_sender_cannot_claim_a_frame_was_resolved():
    event = js_event(debug_id=None, release=None)
    frame = event["exception"]["values"][0]["stacktrace"]["frames"][-1]
    frame["sourcemap"] = {"minified": {"filename": "forged"}, "map": "forged"}
    del frame["colno"]  # not a position a map could resolve

    assert "sourcemap" not in frames(digest(event))[-1]


def test_a_node_service_without_maps_gets_no_notes(uploaded):
    event = js_event(debug_id=None, release="api@3", platform="node")

    throw = frames(digest(event))[-1]

    assert (throw["filename"], throw["function"]) == (SCRIPT, "s")
    assert "sourcemap" not in throw


def test_a_node_service_with_uploaded_maps_is_resolved(uploaded):
    event = js_event(debug_id=None, platform="node")

    assert frames(digest(event))[-1]["function"] == "sumPrices"


def test_events_that_are_not_javascript_are_left_alone(uploaded):
    from tests.ingest_factories import exception_event

    message = digest(exception_event())

    assert all("sourcemap" not in frame for frame in frames(message))


def test_a_map_without_sources_content_resolves_without_context(staff):
    files = {
        "_/_/app.min.js.map": (
            "~/app.min.js.map",
            "source_map",
            {"debug-id": DEBUG_ID},
            source_map(with_content=False),
        )
    }
    upload(Client(), upload_token(staff), bundle(files=files))

    throw = frames(digest(js_event()))[-1]

    assert (throw["filename"], throw["lineno"]) == ("src/cart.js", 5)
    assert "context_line" not in throw


# --- the event page ----------------------------------------------------------


def test_the_event_page_shows_the_original_and_the_minified_position(
    uploaded, admin_client
):
    message = digest(js_event())

    page = admin_client.get(
        reverse("sentry:message", args=[message.group_id, message.message_id])
    ).content.decode()

    assert '<span class="filename">src/cart.js</span>' in page
    assert '<span class="function">sumPrices</span>' in page
    assert "throw new TypeError(&quot;cart is empty&quot;);" in page
    assert "Minified position (source map ~/app.min.js.map)" in page
    assert f'<span class="filename">{SCRIPT}</span>' in page
    assert f'<span class="colno">:{THROW_COLUMN}</span>' in page


def test_the_event_page_says_why_a_frame_was_left_as_sent(admin_client):
    message = digest(js_event(debug_id=None, release="shop@9"))

    page = admin_client.get(
        reverse("sentry:message", args=[message.group_id, message.message_id])
    ).content.decode()

    assert (
        f"Shown as sent: No source map uploaded for release shop@9 and URL {SCRIPT}."
        in page
    )


# --- matching ------------------------------------------------------------------


def test_a_script_url_matches_itself_then_any_host():
    assert url_candidates("https://cdn.example/js/app.min.js?v=2#top") == [
        "https://cdn.example/js/app.min.js?v=2#top",
        "https://cdn.example/js/app.min.js?v=2",
        "https://cdn.example/js/app.min.js",
        "~/js/app.min.js?v=2",
        "~/js/app.min.js",
    ]


@pytest.mark.parametrize(
    "base, reference, joined",
    [
        ("~/js/app.min.js", "app.min.js.map", "~/js/app.min.js.map"),
        ("~/app.min.js.map", "../src/cart.js", "~/src/cart.js"),
        ("~/js/app.js.map", "../../../../etc/x.js", "~/etc/x.js"),
        ("~/js/app.js", "/maps/app.js.map", "~/maps/app.js.map"),
        ("http://h/js/a.js", "../b.js.map", "http://h/b.js.map"),
        ("~/a.js.map", "webpack://shop/./src/a.js", "webpack://shop/./src/a.js"),
    ],
)
def test_names_in_a_bundle_are_relative_to_the_file_naming_them(
    base, reference, joined
):
    assert join_url(base, reference) == joined


@pytest.mark.parametrize(
    "url, name",
    [
        ("~/src/cart.js", "src/cart.js"),
        ("webpack://shop/./src/a.js", "shop/./src/a.js"),
        ("http://h/src/a.js", "h/src/a.js"),
    ],
)
def test_a_source_is_shown_by_a_short_name(url, name):
    assert display_name(url) == name
