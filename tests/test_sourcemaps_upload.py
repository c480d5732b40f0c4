"""
The upload endpoints sentry-cli speaks: who gets in, what is stored, and
every cap an attacker with a leaked upload token runs into, answered with a
JSON 4xx.
"""

import gzip
import io
import json
import zipfile

import pytest
from django.test import Client, override_settings

from sentry.api.tokens import EVENT_READ, EVENT_WRITE, FEED_READ, UPLOAD, ApiToken
from sentry.models import ArtifactBundle, ArtifactFile, UploadChunk
from tests.ingest_factories import make_key
from tests.sourcemap_factories import (
    DEBUG_ID,
    MINIFIED,
    assemble,
    bundle,
    chunk_url,
    post_chunks,
    sha1,
    source_map,
    upload,
    upload_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("ci", is_staff=True)


@pytest.fixture
def token(staff):
    make_key(project_id=42)
    return upload_token(staff)


@pytest.fixture
def client():
    return Client()


def test_the_chunk_upload_options_are_what_sentry_cli_reads(client, token):
    response = client.get(chunk_url(), headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {
        "url": "http://testserver/api/0/organizations/django-sentry/chunk-upload/",
        "chunkSize": 1024 * 1024,
        "chunksPerRequest": 16,
        "maxFileSize": 64 * 1024 * 1024,
        "maxRequestSize": 16 * 1024 * 1024 + 64 * 1024,
        "concurrency": 1,
        "hashAlgorithm": "sha1",
        "compression": ["gzip"],
        "accept": ["artifact_bundles"],
    }


@pytest.mark.parametrize("org", ["django-sentry", "acme", "my.org", "sentry_1"])
def test_any_organisation_is_accepted(org, client, token):
    response = client.get(
        f"/api/0/organizations/{org}/chunk-upload/",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200


def test_a_bundle_is_assembled_from_its_chunks_and_stored(client, token):
    data = bundle()
    half = len(data) // 2
    chunks = [data[:half], data[half:]]

    first = assemble(client, token, data, chunks=[sha1(c) for c in chunks])
    uploaded = post_chunks(client, token, chunks)
    second = assemble(client, token, data, chunks=[sha1(c) for c in chunks])

    assert first.json() == {
        "state": "not_found",
        "missingChunks": sorted(sha1(c) for c in chunks),
    }
    assert uploaded.status_code == 200
    assert second.json() == {"state": "ok", "missingChunks": [], "detail": None}
    stored = ArtifactBundle.objects.get()
    assert (stored.checksum, stored.release, stored.project) == (
        sha1(data),
        "shop@1.0",
        "42",
    )
    assert stored.file_count == 2
    files = {row.url: row for row in ArtifactFile.objects.all()}
    assert set(files) == {"~/app.min.js", "~/app.min.js.map"}
    script = files["~/app.min.js"]
    assert (script.kind, script.debug_id, script.sourcemap) == (
        "minified_source",
        DEBUG_ID,
        "app.min.js.map",
    )
    assert files["~/app.min.js.map"].size == len(source_map())
    # Assembled chunks are not kept.
    assert not UploadChunk.objects.exists()


def test_assembling_twice_is_harmless(client, token):
    data = bundle()
    upload(client, token, data)

    again = assemble(client, token, data)

    assert again.json()["state"] == "ok"
    assert ArtifactBundle.objects.count() == 1


def test_plain_chunks_are_accepted_too(client, token):
    data = bundle()

    post_chunks(client, token, [data], gzipped=False)

    assert assemble(client, token, data).json()["state"] == "ok"


# --- who may upload ------------------------------------------------------------


@pytest.mark.parametrize(
    "scopes",
    [(FEED_READ,), (EVENT_READ,), (EVENT_WRITE,), (FEED_READ, EVENT_READ, EVENT_WRITE)],
    ids=["feed", "read", "write", "legacy"],
)
@pytest.mark.parametrize("endpoint", ["options", "chunks", "assemble"])
def test_only_upload_tokens_may_upload(endpoint, scopes, client, staff):
    other = ApiToken.objects.create_token(staff, scopes=scopes)[1]
    headers = {"Authorization": f"Bearer {other}"}
    data = bundle()

    if endpoint == "options":
        response = client.get(chunk_url(), headers=headers)
    elif endpoint == "chunks":
        response = post_chunks(client, other, [data])
    else:
        response = assemble(client, other, data)

    assert response.status_code == 403
    assert response.json() == {"detail": "This API token lacks the upload scope."}
    assert not UploadChunk.objects.exists()


@pytest.mark.parametrize("header", [None, "Bearer sntr_" + "x" * 43, "Basic a:b"])
def test_no_or_an_unknown_token_is_refused(header, client):
    headers = {"Authorization": header} if header else {}

    response = client.get(chunk_url(), headers=headers)

    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_dashboard_session_is_not_enough(client, staff):
    client.force_login(staff)

    assert client.get(chunk_url()).status_code == 401


def test_the_token_of_a_user_who_may_not_change_the_dashboard_is_refused(
    client, django_user_model
):
    viewer = django_user_model.objects.create_user("viewer")
    token = upload_token(viewer)

    response = client.get(chunk_url(), headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403


@pytest.mark.parametrize(
    "name",
    ["api-groups", "api-group", "api-occurrences", "api-occurrence", "api-resolve"],
)
def test_an_upload_token_reads_and_changes_nothing(name, client, staff):
    from django.urls import reverse

    from sentry.client.models import client as sentry_client
    from sentry.models import Message

    message = Message.objects.get(message_id=sentry_client.create_from_text("boom"))
    token = upload_token(staff)
    args = {
        "api-groups": [],
        "api-occurrence": [message.message_id],
    }.get(name, [message.group_id])
    api = Client(headers={"Authorization": f"Bearer {token}"})
    url = reverse(f"sentry:{name}", args=args)

    response = api.post(url) if name == "api-resolve" else api.get(url)

    assert response.status_code == 403
    feed = Client().get(reverse("sentry:feed-groups"), {"token": token})
    assert feed.status_code == 403


def test_the_command_creates_upload_tokens(staff):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sentry_createtoken", "ci", "--scope", UPLOAD, stdout=out, stderr=out)

    assert ApiToken.objects.get().scope_list() == [UPLOAD]


# --- requests that are refused ---------------------------------------------------


def test_a_chunk_whose_bytes_do_not_match_its_name_is_refused(client, token):
    response = post_chunks(client, token, [b"abc"], names={0: "0" * 40})

    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"Chunk {'0' * 40}: its bytes have SHA-1 {sha1(b'abc')}."
    )
    assert not UploadChunk.objects.exists()


def test_a_chunk_not_named_by_a_sha1_is_refused(client, token):
    response = post_chunks(client, token, [b"abc"], names={0: "../../etc/passwd"})

    assert response.status_code == 400
    assert "SHA-1" in response.json()["detail"]


@override_settings(SENTRY_SOURCEMAP_CHUNK_SIZE=1000)
def test_a_chunk_that_inflates_past_the_chunk_size_is_refused(client, token):
    bomb = b"\0" * 10_000_000  # 10 MB of zeros: a 10 kB gzip body

    response = post_chunks(client, token, [bomb])

    assert response.status_code == 413
    assert "SENTRY_SOURCEMAP_CHUNK_SIZE" in response.json()["detail"]


def test_a_chunk_that_is_not_gzip_is_refused(client, token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        chunk_url(),
        {"file_gzip": SimpleUploadedFile(sha1(b"x"), b"not gzip")},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 400
    assert "gzip" in response.json()["detail"]


def test_a_request_over_the_announced_size_is_refused_before_it_is_read(client, token):
    with override_settings(
        SENTRY_SOURCEMAP_CHUNK_SIZE=10, SENTRY_SOURCEMAP_CHUNKS_PER_REQUEST=1
    ):
        response = post_chunks(client, token, [b"x" * 70_000], gzipped=False)

    assert response.status_code == 413


@override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=5)
def test_a_body_of_countless_parts_is_a_json_400(client, token):
    response = post_chunks(client, token, [bytes([i]) for i in range(6)])

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed multipart body")


@override_settings(SENTRY_SOURCEMAP_CHUNKS_PER_REQUEST=2)
def test_too_many_chunks_at_once_are_refused(client, token):
    response = post_chunks(client, token, [b"a", b"b", b"c"])

    assert response.status_code == 400
    assert "More than 2 chunks" in response.json()["detail"]


@override_settings(SENTRY_SOURCEMAP_MAX_PENDING_SIZE=5)
def test_chunks_waiting_to_be_assembled_are_capped(client, token):
    assert post_chunks(client, token, [b"abc"]).status_code == 200

    response = post_chunks(client, token, [b"def"])

    assert response.status_code == 413
    assert "SENTRY_SOURCEMAP_MAX_PENDING_SIZE" in response.json()["detail"]


@override_settings(SENTRY_SOURCEMAP_MAX_PENDING_SIZE=5)
def test_chunks_never_assembled_are_dropped_after_their_time(client, token):
    import datetime as dt

    from django.utils import timezone

    post_chunks(client, token, [b"abc"])
    UploadChunk.objects.update(created=timezone.now() - dt.timedelta(seconds=3601))

    response = post_chunks(client, token, [b"def"])

    assert response.status_code == 200
    assert list(UploadChunk.objects.values_list("checksum", flat=True)) == [
        sha1(b"def")
    ]


def test_chunks_never_uploaded_are_asked_for_not_assembled(client, token):
    data = bundle()

    response = assemble(client, token, data)

    assert response.status_code == 200
    assert response.json() == {"state": "not_found", "missingChunks": [sha1(data)]}
    assert not ArtifactBundle.objects.exists()


def test_a_checksum_unlike_the_chunks_is_refused(client, token):
    data = bundle()
    post_chunks(client, token, [data])

    response = client.post(
        "/api/0/organizations/x/artifactbundle/assemble/",
        json.dumps({"checksum": "1" * 40, "chunks": [sha1(data)]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 400
    assert response.json()["state"] == "error"
    assert "SHA-1" in response.json()["detail"]
    assert not ArtifactBundle.objects.exists()


@pytest.mark.parametrize(
    "body, detail",
    [
        ("[]", "not a JSON object"),
        ("{", "not JSON"),
        ('{"checksum": "x", "chunks": []}', "checksum"),
        ('{"checksum": "' + "a" * 40 + '", "chunks": "abc"}', "chunks"),
        (
            '{"checksum": "' + "a" * 40 + '", "chunks": ["' + "a" * 40 + '"], '
            '"projects": ["shop"]}',
            "Unknown project 'shop': --project takes a project's id",
        ),
        (
            '{"checksum": "' + "a" * 40 + '", "chunks": ["' + "a" * 40 + '"], '
            '"projects": ["7"]}',
            "Unknown project '7'",
        ),
        (
            '{"checksum": "' + "a" * 40 + '", "chunks": ["' + "a" * 40 + '"], '
            '"projects": ["x\\u0000y"]}',
            "Unknown project",
        ),
    ],
)
def test_malformed_assemble_requests_are_400(body, detail, client, token):
    response = client.post(
        "/api/0/organizations/x/artifactbundle/assemble/",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 400
    assert detail in response.json()["detail"]


@override_settings(SENTRY_SOURCEMAP_MAX_BUNDLE_SIZE=10 * 1024 * 1024)
def test_a_bundle_of_too_many_chunks_is_refused(client, token):
    chunks = [f"{i:040x}" for i in range(11)]

    response = client.post(
        "/api/0/organizations/x/artifactbundle/assemble/",
        json.dumps({"checksum": "a" * 40, "chunks": chunks}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 413


# --- bundles that are refused ------------------------------------------------------


def refused(client, token, data):
    response = upload(client, token, data)
    assert response.status_code == 400, response.content
    assert response.json()["state"] == "error"
    assert not ArtifactBundle.objects.exists()
    assert not ArtifactFile.objects.exists()
    return response.json()["detail"]


def test_a_zip_bomb_is_refused(client, token):
    bomb = b"\0" * (50 * 1024 * 1024)
    files = {"_/_/bomb.js": ("~/bomb.js", "minified_source", {}, bomb)}

    detail = refused(client, token, bundle(files=files))

    assert "refused as a zip bomb" in detail


@override_settings(
    SENTRY_SOURCEMAP_MAX_FILE_SIZE=1000, SENTRY_SOURCEMAP_MAX_RATIO=10**6
)
def test_a_file_over_the_file_size_is_refused(client, token):
    files = {"_/_/big.js": ("~/big.js", "source_map", {}, b"x" * 1001)}

    assert "SENTRY_SOURCEMAP_MAX_FILE_SIZE" in refused(
        client, token, bundle(files=files)
    )


@override_settings(SENTRY_SOURCEMAP_MAX_UNPACKED_SIZE=1500)
def test_files_over_the_total_size_are_refused(client, token):
    files = {
        f"_/_/{i}.js": (f"~/{i}.js", "source", {}, bytes([65 + i]) * 1000)
        for i in range(2)
    }

    detail = refused(client, token, bundle(files=files))

    assert "SENTRY_SOURCEMAP_MAX_UNPACKED_SIZE" in detail


@override_settings(SENTRY_SOURCEMAP_MAX_FILES=3)
def test_too_many_files_are_refused(client, token):
    files = {f"_/_/{i}.js": (f"~/{i}.js", "source", {}, b"x") for i in range(5)}

    assert "SENTRY_SOURCEMAP_MAX_FILES" in refused(client, token, bundle(files=files))


@override_settings(SENTRY_SOURCEMAP_MAX_MANIFEST_SIZE=100)
def test_a_huge_manifest_is_refused(client, token):
    assert "manifest.json" in refused(client, token, bundle())


@pytest.mark.parametrize(
    "name", ["../evil.js", "/etc/passwd", "a/../../b.js", "C:/x.js", "a\\b.js"]
)
def test_member_names_that_leave_the_bundle_are_refused(name, client, token):
    files = {name: ("~/x.js", "source", {}, b"x")}

    assert "unsafe name" in refused(client, token, bundle(files=files))


def test_a_manifest_naming_a_missing_file_is_refused(client, token):
    manifest = {"files": {"nothere.js": {"url": "~/a.js", "type": "source"}}}

    detail = refused(client, token, bundle(files={}, manifest=manifest))

    assert "lacks" in detail


@pytest.mark.parametrize(
    "data, detail",
    [
        (b"not a zip", "not a zip"),
        (b"PK\x05\x06" + b"\0" * 18, "manifest.json"),
    ],
)
def test_what_is_not_a_bundle_is_refused(data, detail, client, token):
    assert detail in refused(client, token, data)


def test_a_manifest_that_is_not_json_is_refused(client, token):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("manifest.json", "{oops")

    assert "not JSON" in refused(client, token, out.getvalue())


def test_a_file_whose_gzip_chunk_matches_is_stored_byte_for_byte(client, token):
    data = bundle()
    upload(client, token, data)

    row = ArtifactFile.objects.get(kind="minified_source")

    import zlib

    assert zlib.decompress(bytes(row.data)) == MINIFIED.encode()
    assert gzip  # imported for the chunk helpers' format
