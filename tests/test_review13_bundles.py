"""Hostile review of artifact bundles: what a zip costs before it is refused."""

import io
import struct
import zipfile

import pytest

from sentry.conf import settings
from sentry.sourcemaps.bundles import BundleError, store_bundle

pytestmark = pytest.mark.django_db


def directory_only_zip(entries):
    """A zip of nothing but a central directory of ``entries`` one-byte names."""
    record = struct.pack(
        zipfile.structCentralDir,
        b"PK\x01\x02",
        20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0,  # versions, flags, method, time, crc, sizes
        1, 0, 0, 0, 0, 0, 0,  # name length ... local header offset
    )  # fmt: skip
    directory = (record + b"a") * entries
    end = struct.pack(
        zipfile.structEndArchive,
        b"PK\x05\x06",
        0,
        0,
        min(entries, 0xFFFF),
        min(entries, 0xFFFF),
        len(directory),
        0,
        0,
    )
    return io.BytesIO(directory + end)


@pytest.mark.parametrize("entries", [40_000, 100_000])
def test_a_zip_listing_countless_files_is_refused_before_its_directory_is_read(
    entries, monkeypatch
):
    """
    zipfile reads the whole central directory when it opens a zip: a 60 MB
    bundle of 1.3 million entries took 7 s and 400 MB before the file count
    was checked.
    """
    made = []
    real = zipfile.ZipInfo.__init__

    def counted(self, *args, **kwargs):
        made.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipInfo, "__init__", counted)

    with pytest.raises(BundleError) as refused:
        store_bundle(directory_only_zip(entries), "0" * 40)

    assert str(refused.value) == (
        f"The bundle has more than {settings.SOURCEMAP_MAX_FILES} files "
        "(SENTRY_SOURCEMAP_MAX_FILES)."
    )
    assert len(made) <= settings.SOURCEMAP_MAX_FILES + 1


def test_a_zip_with_a_comment_and_data_before_it_is_still_read():
    out = io.BytesIO()
    out.write(b"#!/bin/sh\n" * 10)
    with zipfile.ZipFile(out, "a") as archive:
        archive.comment = b"built by CI"
        archive.writestr("manifest.json", '{"files": {}}')

    bundle = store_bundle(io.BytesIO(out.getvalue()), "1" * 40)

    assert bundle.file_count == 0


def test_a_manifest_nested_too_deeply_is_refused_not_a_crash():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", "[" * 200_000 + "]" * 200_000)

    with pytest.raises(BundleError) as refused:
        store_bundle(io.BytesIO(out.getvalue()), "2" * 40)

    assert str(refused.value) == "manifest.json is nested too deeply."
