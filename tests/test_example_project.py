"""
The example project runs end to end and records real errors.

``manage.py migrate`` (of both databases: the site's and the ingest
queue's), ``demo_setup`` (twice: it must be safe to run again) and ``check``
run in subprocesses, in ``example_project/``, against temporary SQLite
files; the tests then read the main one with the ``sqlite3`` module to see
what django-sentry stored.
"""

import os
import pickle
import re
import sqlite3
import subprocess
import sys
import tomllib
import zlib
from contextlib import closing
from pathlib import Path

import pytest
from picklefield.fields import dbsafe_decode

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parent.parent / "example_project"

#: Must match ``SIGNUP_PASSWORD`` in ``shop/management/commands/demo_setup.py``.
SIGNUP_PASSWORD = "hunter2-demo-Sekr1t"


def manage(db_path, *args):
    """Run ``manage.py *args`` for the example project; return the result."""
    env = {
        **os.environ,
        # pytest-django exported the suite's settings module; replace it.
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "EXAMPLE_DB_PATH": str(db_path),
        # As in the suite: a warning is an error.
        "PYTHONWARNINGS": "error",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} exited with {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Set the demo up in a fresh database; return its path and the output."""
    db_path = tmp_path_factory.mktemp("example_project") / "demo.sqlite3"
    manage(db_path, "migrate", "--noinput")
    manage(db_path, "migrate", "--noinput", "--database", "queue")
    first = manage(db_path, "demo_setup")
    groups_after_first = count_rows(db_path, "sentry_groupedmessage")
    second = manage(db_path, "demo_setup")
    check = manage(db_path, "check")
    return {
        "db_path": db_path,
        "first": first,
        "second": second,
        "check": check,
        "groups_after_first": groups_after_first,
    }


def query(db_path, sql, params=()):
    with closing(sqlite3.connect(db_path)) as connection:
        return connection.execute(sql, params).fetchall()


def unpack(db_path, value):
    """Read a packed occurrence column as stored (see sentry.packing), by hand."""
    value = bytes(value)
    if value[0] == 0:
        return value[1:]
    if value[0] == 1:
        return zlib.decompress(value[1:])
    assert value[0] == 2, value[:1]
    number = shift = 0
    index = 1
    while True:
        byte = value[index]
        number |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            break
        shift += 7
    [(dictionary,)] = query(
        db_path, "SELECT data FROM sentry_compressiondictionary WHERE id = ?", [number]
    )
    return zlib.decompressobj(zdict=dictionary).decompress(value[index:])


def unpack_data(db_path, value):
    return pickle.loads(unpack(db_path, value))


def count_rows(db_path, table):
    return query(db_path, f"SELECT COUNT(*) FROM {table}")[0][0]


def tables(db_path):
    rows = query(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return {name for (name,) in rows if not name.startswith("sqlite_")}


def test_the_ingest_queue_has_a_file_of_its_own(demo):
    queue_path = demo["db_path"].with_name("demo-queue.sqlite3")

    assert tables(queue_path) == {"django_migrations", "sentry_queuedevent"}
    assert "sentry_queuedevent" not in tables(demo["db_path"])


def test_demo_setup_prints_login_and_dashboard(demo):
    for result in (demo["first"], demo["second"]):
        assert "http://127.0.0.1:8000/sentry/" in result.stdout
        assert "demo / demo" in result.stdout
    assert "System check identified no issues" in demo["check"].stdout


def test_demo_setup_says_first_in_one_line_what_it_recorded_and_where(demo):
    first_lines = [demo[run].stdout.splitlines()[:2] for run in ("first", "second")]
    pattern = re.compile(
        r"Recorded (\d+) occurrences of the shop's and the billing worker's "
        r"errors \((\d+) groups\): see them at http://127\.0\.0\.1:8000/sentry/ "
        r"\(log in as demo / demo\) once the server runs\."
    )
    matches = [pattern.fullmatch(line) for line, _ in first_lines]
    stored = count_rows(demo["db_path"], "sentry_message")

    assert all(matches), first_lines
    # Each run says what it added; the groups are the same errors again.
    assert sum(int(match[1]) for match in matches) == stored
    assert int(matches[0][2]) == demo["groups_after_first"]
    # The shop's logged warnings print on the console: say they are meant.
    assert "WARNING shop.inventory: supplier feed" in demo["first"].stderr
    for _, second_line in first_lines:
        assert "WARNING lines printed above are some of those errors" in second_line


def test_make_demo_installs_only_what_the_demo_needs(tmp_path):
    venv = tmp_path / "venv"
    dry_run = subprocess.run(
        ["make", "-n", "demo", f"VENV={venv}"],
        cwd=PROJECT_DIR.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    installs = [line for line in dry_run.stdout.splitlines() if " install " in line]

    assert dry_run.returncode == 0, dry_run.stderr
    assert installs == [
        f"{venv}/bin/pip install --quiet --upgrade pip",
        f'{venv}/bin/pip install --quiet -e ".[demo]"',
    ]
    with open(PROJECT_DIR.parent / "pyproject.toml", "rb") as file:
        extras = tomllib.load(file)["project"]["optional-dependencies"]
    # The billing worker's sentry-sdk, and no test, docs or lint tool.
    assert extras["demo"] == ["sentry-sdk>=2.20"]


def test_the_shop_records_a_missing_page_but_not_the_favicon(tmp_path):
    db_path = tmp_path / "404.sqlite3"
    manage(db_path, "migrate", "--noinput")
    manage(db_path, "migrate", "--noinput", "--database", "queue")
    code = (
        "from django.test import Client; browser = Client(); "
        "[browser.get(path) for path in "
        "('/favicon.ico', '/robots.txt', '/no-such-page/')]"
    )
    manage(db_path, "shell", "-c", code)

    rows = query(db_path, "SELECT logger, url FROM sentry_message")
    assert rows == [("http404", "http://testserver/no-such-page/")]


def test_demo_user_is_a_staff_superuser(demo):
    rows = query(
        demo["db_path"],
        "SELECT is_staff, is_superuser, is_active FROM auth_user WHERE username = ?",
        ("demo",),
    )
    assert rows == [(1, 1, 1)]


def test_errors_are_grouped(demo):
    groups = count_rows(demo["db_path"], "sentry_groupedmessage")
    assert groups >= 6
    # Running again adds occurrences to the same groups, not new groups.
    assert groups == demo["groups_after_first"]
    class_names = {
        name
        for (name,) in query(
            demo["db_path"], "SELECT class_name FROM sentry_groupedmessage"
        )
    }
    assert {
        "ZeroDivisionError",
        "KeyError",
        "ValueError",
        "IntegrityError",
        "JSONDecodeError",
        "AttributeError",
    } <= class_names


def test_zero_division_group_was_seen_several_times(demo):
    rows = query(
        demo["db_path"],
        "SELECT times_seen, view FROM sentry_groupedmessage "
        "WHERE class_name = 'ZeroDivisionError' AND project_id = 1",
    )
    assert len(rows) == 1
    times_seen, view = rows[0]
    assert times_seen > 1
    assert view == "shop.views.average_order_value"


def test_varying_messages_share_a_group(demo):
    rows = query(
        demo["db_path"],
        "SELECT group_id, message FROM sentry_message "
        "WHERE class_name = 'KeyError' AND view = 'shop.views.cart_add_one'",
    )
    assert len({group_id for group_id, _ in rows}) == 1
    assert {"'GIFT-CARD'", "'SAUCER-9'"} <= {message for _, message in rows}


def test_chained_exception_is_stored(demo):
    rows = query(
        demo["db_path"],
        "SELECT traceback, data FROM sentry_message "
        "WHERE class_name = 'ValueError' AND message = 'could not price order' "
        "AND url LIKE '%sku=MUG-002%'",
    )
    assert rows
    traceback, data = rows[0]
    traceback = unpack(demo["db_path"], traceback).decode()
    assert "InvalidOperation" in traceback
    assert "The above exception was the direct cause" in traceback
    values = unpack_data(demo["db_path"], data)["exception"]["values"]
    assert [value["type"] for value in values] == ["InvalidOperation", "ValueError"]


def test_logged_warning_is_stored(demo):
    rows = query(
        demo["db_path"],
        "SELECT level, message FROM sentry_message WHERE logger = 'shop.views'",
    )
    assert (30, "stock low for MUG-002") in rows


def test_posted_password_is_never_stored(demo):
    db_path = demo["db_path"]
    for table in (
        "sentry_message",
        "sentry_groupedmessage",
        "sentry_compressiondictionary",
    ):
        columns = [
            name for _, name, *_ in query(db_path, f"PRAGMA table_info({table})")
        ]
        assert "data" in columns
        for row in query(db_path, f"SELECT {', '.join(columns)} FROM {table}"):
            for name, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else repr(value)
                assert SIGNUP_PASSWORD not in text, (table, name)
                if table == "sentry_message" and name in ("data", "traceback"):
                    unpacked = unpack(db_path, value)
                    assert SIGNUP_PASSWORD.encode() not in unpacked, (table, name)
                    assert SIGNUP_PASSWORD not in repr(
                        pickle.loads(unpacked) if name == "data" else unpacked
                    )
                elif table == "sentry_groupedmessage" and name == "data":
                    decoded = repr(dbsafe_decode(value, compress_object=True))
                    assert SIGNUP_PASSWORD not in decoded, (table, name)

    # The POST was recorded, with the password masked rather than dropped.
    rows = query(db_path, "SELECT data FROM sentry_message WHERE url LIKE '%/signup/'")
    assert rows
    for (data,) in rows:
        posted = unpack_data(db_path, data)["request"]["POST"]
        assert posted["username"] == "newcustomer"
        assert posted["password"] == "********"


ERROR_PAGE_CHECK = """
from django.test import Client
from sentry.models import Message

response = Client(raise_request_exception=False).get("/customers/stats/?customer=carol")
error_id = response["X-Sentry-ID"]
assert response.status_code == 500, response.status_code
assert error_id.encode() in response.content, "the 500 page quotes the id"
assert Message.objects.filter(message_id=error_id).exists()
missing_id = Client().get("/no-such-page/")["X-Sentry-ID"]
assert Message.objects.filter(message_id=missing_id, logger="http404").exists()
print("ok", error_id)
"""


def test_the_500_page_quotes_the_recorded_error_id(demo):
    result = manage(demo["db_path"], "shell", "-c", ERROR_PAGE_CHECK)
    assert "\nok " in "\n" + result.stdout


def printed_send_command(stdout):
    """Return the one-line sentry-sdk command ``demo_setup`` printed."""
    lines = stdout.splitlines()
    return lines[
        lines.index("Once the server runs, send it an event with sentry-sdk:") + 1
    ]


def test_demo_setup_prints_a_dsn_of_a_key_it_reuses(demo):
    dsns = [
        line.split()[-1]
        for result in (demo["first"], demo["second"])
        for line in result.stdout.splitlines()
        if line.startswith("  DSN:")
    ]
    keys = query(
        demo["db_path"],
        "SELECT public_key, label, project_id, is_active FROM sentry_projectkey "
        "WHERE project_id = 1",
    )

    assert len(keys) == 1
    public_key, label, project_id, active = keys[0]
    assert (label, project_id, active) == ("demo-sdk", 1, 1)
    assert dsns == [f"http://{public_key}@127.0.0.1:8000/sentry/1"] * 2
    assert "  Set-up:    http://127.0.0.1:8000/sentry/setup/1/" in demo["first"].stdout
    assert f'sentry_sdk.init("{dsns[0]}")' in printed_send_command(demo["first"].stdout)


def billing_project(db_path):
    [row] = query(
        db_path,
        "SELECT id, name, platform FROM sentry_project WHERE slug = 'billing-worker'",
    )
    return row


def test_the_demo_has_a_billing_worker_project_with_its_own_key(demo):
    project_id, name, platform = billing_project(demo["db_path"])
    keys = query(
        demo["db_path"],
        "SELECT public_key, label, is_active FROM sentry_projectkey "
        "WHERE project_id = ?",
        [project_id],
    )

    assert (name, platform) == ("Billing worker", "python")
    assert project_id != 1
    # Made once: the second run reused the project and its key.
    assert len(keys) == 1
    public_key, label, active = keys[0]
    assert (label, active) == ("billing-worker", 1)
    for result in (demo["first"], demo["second"]):
        assert (
            f"  Billing:   http://{public_key}@127.0.0.1:8000/sentry/{project_id}"
            in result.stdout
        )
        assert (
            "  Project:   Billing worker (billing-worker, id "
            f"{project_id}): 3 groups" in result.stdout
        )
        assert (
            "  Settings:  http://127.0.0.1:8000/sentry/projects/billing-worker/"
            "settings/" in result.stdout
        )


def test_the_billing_worker_reports_to_its_project_with_sentry_sdk(demo):
    db_path = demo["db_path"]
    project_id, _, _ = billing_project(db_path)
    groups = query(
        db_path,
        "SELECT class_name, view, level, times_seen FROM sentry_groupedmessage "
        "WHERE project_id = ? ORDER BY class_name",
        [project_id],
    )
    occurrences = query(
        db_path,
        "SELECT m.site, m.server_name, m.data FROM sentry_message m "
        "JOIN sentry_groupedmessage g ON g.id = m.group_id WHERE g.project_id = ?",
        [project_id],
    )

    # Two runs of demo_setup: each error twice, in the same three groups.
    assert groups == [
        (None, "", 30, 2),
        ("KeyError", "shop.billing.charge", 40, 2),
        ("ZeroDivisionError", "shop.views.average_order_value", 40, 2),
    ]
    assert len(occurrences) == 6
    for site, server_name, data in occurrences:
        assert (site, server_name) == ("billing-worker", "billing-1")
        data = unpack_data(db_path, data)
        assert data["sdk"]["name"] == "sentry.python"
        assert data["release"] == "billing@1.4.0"


def test_the_same_error_in_two_projects_is_two_groups(demo):
    rows = query(
        demo["db_path"],
        "SELECT p.slug FROM sentry_groupedmessage g "
        "JOIN sentry_project p ON p.id = g.project_id "
        "WHERE g.class_name = 'ZeroDivisionError' ORDER BY p.id",
    )

    assert rows == [("example-shop",), ("billing-worker",)]


def test_the_printed_command_sends_a_real_event_to_runserver(tmp_path):
    from tests.processes import Process, free_port, listening, wait_for

    # A database of its own: the other tests count the demo's occurrences.
    db_path = tmp_path / "demo.sqlite3"
    manage(db_path, "migrate", "--noinput")
    manage(db_path, "migrate", "--noinput", "--database", "queue")
    port = free_port()
    url = f"http://127.0.0.1:{port}/sentry/"
    command = printed_send_command(manage(db_path, "demo_setup", "--url", url).stdout)
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_DIR.parent),
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "EXAMPLE_DB_PATH": str(db_path),
    }
    # As `make demo` serves it: Django's runserver (sentry-sdk sends a
    # Content-Length, which is all runserver can read).
    server = Process(
        [
            sys.executable,
            str(PROJECT_DIR / "manage.py"),
            "runserver",
            "--noreload",
            "--insecure",
            f"127.0.0.1:{port}",
        ],
        env,
    )
    try:
        listening(server, port)
        sent = subprocess.run(
            ["bash", "-c", command],
            env={k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sent.returncode == 0, sent.stderr

        def stored():
            return query(
                db_path,
                "SELECT logger, level, site FROM sentry_message WHERE message = ?",
                ("Hello from sentry-sdk",),
            )

        # The demo digests in a thread of the server: wait for the row.
        assert wait_for(lambda: stored(), timeout=30), server.stderr()
        assert stored() == [("root", 20, "demo-sdk")]
        assert '"POST /sentry/api/1/envelope/ HTTP/1.1" 200' in server.stderr()
    finally:
        server.close()
