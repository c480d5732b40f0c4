"""The full-text index of free words: what it finds, what it refuses, kept in step."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from sentry.client.models import client as sentry_client
from sentry.digest import drain
from sentry.models import GroupedMessage, Message, Project
from sentry.search import apply_to_groups, parse
from sentry.search import index as search_index
from sentry.search.text import free_text_filter
from tests.complexity import assert_linear
from tests.dashboard_factories import make_group, staff_client
from tests.ingest_factories import (
    exception_event,
    frame,
    make_key,
    message_event,
    post_events,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return make_key()


def js_frame(function, lineno, context_line, path):
    return {
        **frame(function, lineno, context_line),
        "abs_path": path,
        "filename": path.rsplit("/", 1)[-1],
        "module": None,
    }


def discount_event(**fields):
    """A JavaScript-like error: identifiers with underscores, dots, colons, humps."""
    return exception_event(
        exception={
            "values": [
                {
                    "type": "Acc::ConfigError",
                    "value": "coupon table missing",
                    "stacktrace": {
                        "frames": [
                            js_frame(
                                "checkoutSubmit",
                                12,
                                "const total = computeGrandTotal(cart);",
                                "https://shop.example/static/app.bundle.js",
                            ),
                            js_frame(
                                "apply_discount",
                                40,
                                "return ledger.reconcileVoucher(code);",
                                "https://shop.example/static/pricing.js",
                            ),
                        ]
                    },
                }
            ]
        },
        transaction="pricing/apply",
        **fields,
    )


@pytest.fixture
def shop(client, key):
    """Two errors sent through the SDK endpoint: one with a stack trace, one without."""
    post_events(
        client,
        key,
        [discount_event(), message_event("Payment gateway timed out")],
    )
    assert GroupedMessage.objects.count() == 2


def found(text):
    groups = apply_to_groups(GroupedMessage.objects.all(), parse(text))
    return sorted(groups.values_list("message", flat=True))


def found_words(*words):
    groups = GroupedMessage.objects.filter(free_text_filter(list(words)))
    return sorted(groups.values_list("message", flat=True))


DISCOUNT = "Acc::ConfigError: coupon table missing"


def indexed_ids():
    column = "rowid" if connection.vendor == "sqlite" else "group_id"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM sentry_groupsearch")
        return {row[0] for row in cursor.fetchall()}


def test_the_database_of_the_tests_has_the_index():
    # Else every other test here would test the fallback scan.
    assert search_index.has_index(connection)
    assert "sentry_groupsearch" in connection.introspection.table_names()


@pytest.mark.parametrize(
    "word",
    [
        "coupon",  # the message
        "ConfigError",  # the type
        "pricing/apply",  # the culprit (the transaction)
        "apply_discount",  # a frame's function
        "checkoutSubmit",
        "app.bundle.js",  # a frame's file
        "pricing.js",
        "computeGrandTotal",  # a context line
        "reconcileVoucher",
    ],
)
def test_a_word_of_the_message_type_culprit_or_stack_trace_finds_its_error(shop, word):
    assert found(word) == [DISCOUNT]


@pytest.mark.parametrize(
    "word",
    [
        "discount",  # apply_discount
        "bundle",  # app.bundle.js
        "configerror",
        "Error",  # ConfigError's hump
        "Voucher",  # reconcileVoucher
        "grand",  # computeGrandTotal
        "GrandTotal",
        "APPLY_DISCOUNT",  # case is ignored
        "static/app",  # in a path
    ],
)
def test_a_part_of_an_identifier_finds_its_error(shop, word):
    assert found(word) == [DISCOUNT]


@pytest.mark.parametrize("word", ["disc", "apply_disc", "reconcileVou"])
def test_the_last_word_is_a_prefix(shop, word):
    assert found(word) == [DISCOUNT]


def test_a_type_with_colons_is_found_as_free_text(shop):
    # In the search box "Acc::ConfigError" is the tag "Acc" (any name is a tag
    # key); as free text, and in quotes, it is the type.
    assert found_words("Acc::ConfigError") == [DISCOUNT]
    assert found_words("Acc::Conf") == [DISCOUNT]
    assert found('"Acc::ConfigError"') == [DISCOUNT]


@pytest.mark.parametrize(
    "word",
    ["discount_apply", "bundle.app", "iscount", "coupons", "total.grand"],
)
def test_parts_must_follow_one_another_and_start_a_word(shop, word):
    assert found(word) == []


def test_every_word_must_be_found(shop):
    assert found("coupon gateway") == []
    assert found("coupon discount") == [DISCOUNT]
    assert found('"coupon table"') == [DISCOUNT]
    assert found('"table coupon"') == []
    assert found("gateway timed") == ["Payment gateway timed out"]


@pytest.mark.parametrize(
    "word",
    [
        '"',
        '""',
        "*",
        "NEAR",
        "NEAR(a b)",
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        ":",
        "^",
        "words:coupon",
        "parts : coupon",
        "coupon*",
        '"coupon',
        "coupon\"'\\",
        "'",
        "\\",
        "-",
        "+",
        "{words parts}: coupon",
        "a" * 5000,
        "x" * 63 + "y" * 10000,
    ],
)
def test_a_hostile_word_is_text_never_syntax(shop, word):
    # Never an error, never everything: each is looked for as text. The
    # message-only error has none of these characters or words.
    assert "Payment gateway timed out" not in found_words(word)


@pytest.mark.parametrize(
    "word", ["coupon:", "coupon*", '"coupon', "(coupon)", "coupon\"'\\", "^coupon"]
)
def test_a_word_with_syntax_characters_still_finds_its_words(shop, word):
    assert found_words(word) == [DISCOUNT]


def test_a_word_without_letters_or_digits_is_a_substring(shop):
    assert found_words("::") == [DISCOUNT]
    assert found_words(";") == [DISCOUNT]
    assert found_words("::", "gateway") == []


@pytest.mark.parametrize(
    "query", ['"', "*", "NEAR(", "AND OR", ":", "^", "(", '"x" OR "y"', "a\\"]
)
def test_a_hostile_query_in_the_stream_is_a_page_never_a_500(shop, query):
    response = staff_client().get(reverse("sentry:index"), {"q": query})
    assert response.status_code in (200, 302)


def test_an_error_from_the_in_process_client_is_found_by_its_stack_trace():
    def reconcile_ledger_entries():
        raise LookupError("no open period")

    try:
        reconcile_ledger_entries()
    except LookupError:
        assert sentry_client.create_from_exception() is not None
    assert found("reconcile_ledger_entries") == ["no open period"]
    assert found("ledger") == ["no open period"]
    assert found("LookupError") == ["no open period"]
    # The file the function is in: tests/test_search_index.py.
    assert found("test_search_index.py") == ["no open period"]


@override_settings(SENTRY_DIGEST="worker", SENTRY_THRASHING_LIMIT=0)
def test_errors_stored_by_the_digest_are_indexed_in_their_batch(client, key):
    post_events(
        client,
        key,
        [discount_event(), message_event("Payment gateway timed out")],
    )
    assert found("discount") == []  # queued, not stored yet
    drain()
    assert found("discount") == [DISCOUNT]
    assert found("gateway") == ["Payment gateway timed out"]
    assert indexed_ids() == set(GroupedMessage.objects.values_list("pk", flat=True))


def test_a_group_made_with_the_orm_is_indexed_and_its_edits_too():
    group = make_group("Stock level below zero", class_name="InventoryError")
    assert found("inventory") == ["Stock level below zero"]
    group.message = "Stock count drifted"
    group.save()
    assert found("drifted") == ["Stock count drifted"]
    assert found("zero") == []
    group.save(update_fields=["status"])  # no text: not reindexed, still found
    assert found("drifted") == ["Stock count drifted"]


def test_a_deleted_group_leaves_no_index_row(shop):
    kept, deleted = GroupedMessage.objects.order_by("pk")
    deleted.delete()
    assert indexed_ids() == {kept.pk}
    Project.objects.filter(pk=kept.project_id).delete()
    assert indexed_ids() == set()


def test_cleanup_removes_the_index_rows_of_the_groups_it_deletes(shop):
    old = timezone.now() - dt.timedelta(days=40)
    GroupedMessage.objects.filter(message=DISCOUNT).update(last_seen=old)
    Message.objects.filter(message=DISCOUNT).update(datetime=old)
    recent = GroupedMessage.objects.get(message="Payment gateway timed out")
    call_command("cleanup_sentry", days=30, verbosity=0)
    assert list(GroupedMessage.objects.values_list("pk", flat=True)) == [recent.pk]
    assert indexed_ids() == {recent.pk}
    assert found("discount") == []


def test_the_index_follows_a_group_whose_first_occurrence_is_deleted():
    # The group's text is its first occurrence's; when cleanup deletes that
    # one, the group takes the next one's text (sentry.packing), and so does
    # the index: the deleted text is neither found nor kept.
    def fail(word):
        try:
            raise LookupError(word)
        except LookupError:
            return sentry_client.create_from_exception()

    first = fail("quarantined pallet")
    fail("released pallet")
    Message.objects.filter(message_id=first).update(
        datetime=timezone.now() - dt.timedelta(days=60)
    )
    assert found("quarantined") == ["quarantined pallet"]

    call_command("cleanup_sentry", days=30, verbosity=0)

    assert found("quarantined") == []
    assert found("released") == ["released pallet"]
    assert "quarantined" not in indexed_text()


def indexed_text():
    column = "words || parts" if connection.vendor == "sqlite" else "words::text"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM sentry_groupsearch")
        return " ".join(row[0] for row in cursor.fetchall())


def test_a_group_changed_with_update_is_found_by_its_new_text_once_reindexed():
    group = make_group("Cache warmed")
    GroupedMessage.objects.filter(pk=group.pk).update(message="Cache stampede")
    assert found("stampede") == []  # update() writes no index row
    search_index.reindex("default", [group.pk])
    assert found("stampede") == ["Cache stampede"]
    assert found("warmed") == []


def test_a_database_without_the_index_finds_substrings(shop, monkeypatch):
    monkeypatch.setattr(search_index, "has_index", lambda connection: False)
    assert found_words("iscount") == [DISCOUNT]  # inside a word: a substring
    assert found_words("gateway", "timed") == ["Payment gateway timed out"]
    assert found_words("discount", "gateway") == []


def test_a_new_group_under_a_reused_id_is_not_found_by_the_old_text():
    group = make_group("Quota exceeded for tenant")
    group_id = group.pk
    group.delete()
    make_group("Disk nearly full", id=group_id)
    assert found("quota") == []
    assert found("disk") == ["Disk nearly full"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_indexes_existing_groups_and_goes_back():
    executor = MigrationExecutor(connection)
    before = [("sentry", "0018_group_users")]
    try:
        executor.migrate(before)
        assert "sentry_groupsearch" not in connection.introspection.table_names()
        with connection.cursor() as cursor:
            for group_id in (1, 2):
                cursor.execute(
                    "INSERT INTO sentry_groupedmessage (id, project_id, short_id, "
                    "logger, class_name, level, message, traceback, "
                    f"{connection.ops.quote_name('view')}, checksum, data, status, "
                    "times_seen, first_seen, last_seen, score, users) VALUES "
                    "(%s, 1, %s, 'root', 'E', 40, %s, %s, 'v', %s, NULL, 0, 1, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0, 0)",
                    [
                        group_id,
                        group_id,
                        f"error number {group_id}",
                        f'  File "/srv/app/billing.py", line 3, in charge_{group_id}',
                        str(group_id) * 32,
                    ],
                )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        assert found("charge_2") == ["error number 2"]
        assert found("billing") == ["error number 1", "error number 2"]

        executor = MigrationExecutor(connection)
        executor.migrate(before)  # and back: the table and triggers go
        assert "sentry_groupsearch" not in connection.introspection.table_names()
        with connection.cursor() as cursor:  # no trigger left to fail
            cursor.execute("DELETE FROM sentry_groupedmessage WHERE id = 1")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        # What the migrate command does after migrating (post_migrate).
        search_index.ensure_trigger(connection.alias)
    assert found("charge_2") == ["error number 2"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite remakes tables")
@pytest.mark.django_db(transaction=True)
def test_a_migration_that_remakes_the_group_table_keeps_deletes_reaching_the_index():
    # 0020 alters the group table, which SQLite does by making it anew and
    # so drops its triggers; post_migrate (ensure_trigger) makes it again.
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("sentry", "0019_search_index")])
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name = 'sentry_groupsearch_forget'"
            )
            assert cursor.fetchone()[0] == 0  # what SQLite did
    finally:
        search_index.ensure_trigger(connection.alias)
    kept = make_group("Stock level below zero")
    deleted = make_group("Stock count drifted")
    deleted.delete()
    assert indexed_ids() == {kept.pk}


def test_cutting_a_big_stack_trace_into_words_is_linear():
    line = '  File "/srv/app/orders.py", line 12, in applyDiscountToCartTotal\n'

    def make(n):
        return line * n

    assert_linear(search_index.columns, make, 64)


def test_the_indexed_text_is_bounded():
    text = search_index.group_text("m", "E", "v", "x " * search_index.MAX_TEXT)
    assert len(text) == search_index.MAX_TEXT
    words, parts = search_index.columns("a" * 10_000 + " b")
    assert words == "a" * search_index.MAX_WORD + " b"
