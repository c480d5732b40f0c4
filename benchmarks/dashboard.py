"""
Time the dashboard's pages on a large database.

    python benchmarks/dashboard.py                       # SQLite, 1,000,000 occurrences
    python benchmarks/dashboard.py --db postgresql       # PostgreSQL at 127.0.0.1:5432
    python benchmarks/dashboard.py --quick               # small data, a few seconds

The script makes a database of its own (a temporary SQLite file, or a
PostgreSQL database ``sentry_bench_<pid>`` that it creates and drops), fills
it with bulk inserts -- groups whose sizes follow a long tail (the busiest
error has about a tenth of all occurrences) dealt out in turn to 10 projects,
their occurrences spread over 30 days, and the counters the app keeps
(per-minute counts, per-project hourly counts, per-group values, filter
choices) -- then requests each page with Django's test client as a
logged-in staff user and prints the median and 95th percentile of the time
per request and the number of queries each page ran.

SQLite is used as an embedded site would use it: no ``ANALYZE`` is run.
PostgreSQL is vacuumed and analysed after loading, as autovacuum would do.
"""

import argparse
import collections
import datetime as dt
import hashlib
import math
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOGGERS = [f"app.module{i}" for i in range(20)]
SERVERS = [f"web-{i}" for i in range(20)]
SITES = ["shop", "blog", "api"]
CLASSES = [
    "ValueError",
    "KeyError",
    "TypeError",
    "ZeroDivisionError",
    "AttributeError",
    "IntegrityError",
    "OperationalError",
    "TimeoutError",
    "PermissionError",
    "RuntimeError",
]
LEVELS = [40] * 6 + [30] * 2 + [50, 20]
ENVIRONMENTS = ["production"] * 6 + ["staging"] * 3 + ["development"]
BROWSERS = ["Chrome 131", "Firefox 133", "Safari 18", "Edge 131", "Chrome 130"]
#: Distinct releases (the issue's "200 distinct tag values").
RELEASES = 200
DAYS = 30
TRACEBACK = """Traceback (most recent call last):
  File "/srv/app/app/views/view_{view}.py", line {line}, in handle_{view}
    response = checkout_service.submit(request, cart_id={index})
  File "/srv/app/app/services/pricing.py", line 88, in apply_discount_{index}
    total = computeGrandTotal(cart, rules=PricingRules.for_tenant(tenant))
  File "/srv/app/app/services/rules.py", line 12, in for_tenant
    return RULES[tenant.code]
{class_name}: something failed in step {index}"""


def group_traceback(index, class_name):
    """Return the stack trace text of group ``index`` (what the search indexes)."""
    return TRACEBACK.format(
        view=index % 500, line=10 + index % 90, index=index, class_name=class_name
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--occurrences", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=40, help="requests per page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sqlite-path",
        help="keep the SQLite database in this file, and reuse it when it exists",
    )
    parser.add_argument(
        "--pg-database",
        help="keep the PostgreSQL data in this database, and reuse it when it exists",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="50 groups, 2,000 occurrences, 3 requests per page",
    )
    args = parser.parse_args(argv)
    if args.projects < 1:
        parser.error("--projects must be at least 1")
    if args.quick:
        args.groups, args.occurrences, args.repeat = 50, 2_000, 3
    return args


# --- Django set-up -----------------------------------------------------------


def configure(engine, name):
    import django
    from django.conf import settings

    if engine == "sqlite":
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
        }
    else:
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "CONN_MAX_AGE": None,
        }
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-only",
        ALLOWED_HOSTS=["testserver"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DATABASES={"default": database},
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.staticfiles",
            "sentry",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        ROOT_URLCONF="benchmarks.dashboard_urls",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                    ]
                },
            }
        ],
        STATIC_URL="/static/",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        SENTRY_NAME="bench",
    )
    django.setup()


def create_postgresql_database(name):
    import psycopg

    with psycopg.connect(_pg_dsn("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def postgresql_database_exists(name):
    import psycopg

    with psycopg.connect(_pg_dsn("postgres"), autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    return found is not None


def drop_postgresql_database(name):
    import psycopg

    with psycopg.connect(_pg_dsn("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_dsn(dbname):
    return (
        f"host={os.environ.get('PGHOST', '127.0.0.1')} "
        f"port={os.environ.get('PGPORT', '5432')} "
        f"user={os.environ.get('PGUSER', 'postgres')} dbname={dbname}"
    )


# --- Data --------------------------------------------------------------------


def event_blobs(count):
    """Return ``count`` packed ``data`` values, typical of captured errors."""
    from sentry import packing

    blobs = []
    for index in range(count):
        frames = [
            {
                "filename": f"app/module{n}.py",
                "abs_path": f"/srv/app/app/module{n}.py",
                "module": f"app.module{n}",
                "function": f"handler_{n}",
                "lineno": 10 + n,
                "pre_context": [f"    line {k} of the code" for k in range(3)],
                "context_line": f"    result = compute(order_{index}, {n})",
                "post_context": [f"    line {k} after" for k in range(3)],
                "in_app": n % 3 != 0,
                "vars": {
                    "order": f"<Order: {index}>",
                    "items": [f"item-{k}" for k in range(5)],
                    "total": 12.5 * n,
                    "user": "<User: jane>",
                },
            }
            for n in range(6)
        ]
        data = {
            "exception": {
                "values": [
                    {
                        "type": CLASSES[index % len(CLASSES)],
                        "value": f"something failed for order {index}",
                        "module": None,
                        "mechanism": {"type": "django", "handled": False},
                        "stacktrace": {"frames": frames},
                    }
                ]
            },
            "request": {
                "url": f"https://shop.example.com/orders/{index}/",
                "method": "POST",
                "query_string": "page=2",
                "GET": {"page": "2"},
                "POST": {"quantity": "3", "sku": f"SKU-{index}"},
                "headers": {
                    "Host": "shop.example.com",
                    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)",
                    "Accept": "text/html",
                    "Cookie": "********",
                },
                "cookies": {"sessionid": "********"},
                "env": {"REMOTE_ADDR": "203.0.113.9"},
            },
            "user": {"id": "7", "username": "jane", "email": "jane@example.com"},
            "tags": {"tenant": "acme"},
            "extra": {"retry": 3},
        }
        # Packed on its own: the dashboard reads the rows, however packed.
        blobs.append(packing.pack(packing.dumps(data)))
    return blobs


def group_sizes(groups, occurrences):
    """Return a long-tailed split of ``occurrences`` over ``groups`` (each >= 1)."""
    weights = [1 / (rank + 1) for rank in range(groups)]
    total = sum(weights)
    sizes = [max(1, int(occurrences * w / total)) for w in weights]
    sizes[0] += occurrences - sum(sizes)
    return sizes


def generate(args, now):
    """Fill the database; return the id of the busiest group."""
    from django.db import connection, transaction

    from sentry import packing
    from sentry.constants import FILTERED_KEYS
    from sentry.models import DEFAULT_PROJECT_ID, Project, get_score
    from sentry.search.index import index_groups
    from sentry.storage import MESSAGE_COLUMNS
    from sentry.tags import TREND_KEYS

    rng = random.Random(args.seed)
    blobs = event_blobs(20)
    traceback = packing.pack(b"Traceback (most recent call last): ...")
    adapt = connection.ops.adapt_datetimefield_value
    sizes = group_sizes(args.groups, args.occurrences)
    start = now - dt.timedelta(days=DAYS)

    columns = ("id", *MESSAGE_COLUMNS)
    group_rows, message_rows = [], []
    minutes = collections.Counter()
    value_hours = collections.Counter()
    values = {}
    # Each occurrence's links to its user and browser counters (what the
    # occurrences tab narrows by): (counter key, message id).
    links = []
    message_id = 0
    if connection.vendor == "sqlite":
        # One big load: no rollback journal needed (the file is thrown away
        # if it fails); WAL again afterwards, as a site would run it.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
    with transaction.atomic():
        # Project 1 is made by migrate; the others are the site's services.
        Project.objects.bulk_create(
            Project(pk=DEFAULT_PROJECT_ID + number, **project_fields(number))
            for number in range(1, args.projects)
        )
        for index, size in enumerate(sizes):
            group_id = index + 1
            logger = LOGGERS[index % len(LOGGERS)]
            class_name = CLASSES[index % len(CLASSES)]
            level = LEVELS[index % len(LEVELS)]
            message = f"{class_name}: something failed in step {index}"
            view = f"app.views.view_{index % 500}"
            checksum = hashlib.md5(str(index).encode()).hexdigest()
            servers = rng.sample(SERVERS, k=min(len(SERVERS), 1 + size % 7))
            release = f"shop@1.{index % RELEASES}"
            sites = SITES[: 1 + index % len(SITES)]
            # Busy errors started long ago and go on; rare ones are anywhere.
            first = start + dt.timedelta(
                seconds=rng.random() * (DAYS * 86_400) * (1 if size < 50 else 0.1)
            )
            if index % 50 == 49:
                # A few new errors: firstSeen:-24h has some to find.
                first = now - dt.timedelta(seconds=rng.random() * 86_400)
            # Some errors are never seen in production: !environment has some.
            environments = ENVIRONMENTS[6:] if index % 4 == 3 else ENVIRONMENTS
            span = (now - first).total_seconds()
            times = sorted(
                first + dt.timedelta(seconds=rng.random() * span) for _ in range(size)
            )
            times[0] = first
            # Users affected: a share of the occurrences (as the group row says).
            users = max(1, size // (2 + index % 7))
            for moment in times:
                message_id += 1
                server = servers[rng.randrange(len(servers))]
                site = sites[rng.randrange(len(sites))]
                url = f"https://shop.example.com/page/{rng.randrange(10)}/"
                environment = environments[rng.randrange(len(environments))]
                user = f"user-{rng.randrange(users)}"
                browser = BROWSERS[rng.randrange(len(BROWSERS))]
                message_rows.append(
                    (
                        message_id,
                        group_id,
                        uuid.UUID(int=rng.getrandbits(128)).hex,
                        logger,
                        class_name,
                        level,
                        message,
                        traceback,
                        view,
                        checksum,
                        blobs[rng.randrange(len(blobs))],
                        adapt(moment),
                        url,
                        server,
                        site,
                        release,
                        environment,
                        user,
                    )
                )
                minutes[group_id, moment.replace(second=0, microsecond=0)] += 1
                for key, value in (
                    ("server_name", server),
                    ("site", site),
                    ("url", url),
                    ("logger", logger),
                    ("level", str(level)),
                    ("tag:release", release),
                    ("tag:environment", environment),
                    ("user.id", user),
                    ("tag:browser", browser),
                ):
                    if key in TREND_KEYS:
                        hour = moment.replace(minute=0, second=0, microsecond=0)
                        value_hours[group_id, key, value, hour] += 1
                    seen = values.get((group_id, key, value))
                    if seen is None:
                        # Its id: counters are inserted in this order.
                        seen = values[group_id, key, value] = [0, moment, moment]
                        seen.append(len(values))
                    seen[0] += 1
                    seen[2] = moment
                    if key in ("user.id", "tag:browser"):
                        links.append((seen[3], message_id))
            status = 1 if rng.random() < 0.2 and index % 50 != 49 else 0
            group_rows.append(
                (
                    group_id,
                    DEFAULT_PROJECT_ID + index % args.projects,
                    group_id,
                    logger,
                    class_name,
                    level,
                    message,
                    group_traceback(index, class_name),
                    view,
                    checksum,
                    status,
                    size,
                    adapt(times[0]),
                    adapt(times[-1]),
                    get_score(size, times[-1]),
                    users,
                    False,
                    False,
                )
            )
            if len(message_rows) >= 20_000:
                insert(connection, "sentry_message", columns, message_rows)
                message_rows = []
        insert(connection, "sentry_message", columns, message_rows)
        insert(
            connection,
            "sentry_groupedmessage",
            (
                "id",
                "project_id",
                "short_id",
                "logger",
                "class_name",
                "level",
                "message",
                "traceback",
                "view",
                "checksum",
                "status",
                "times_seen",
                "first_seen",
                "last_seen",
                "score",
                # Columns without a database default (Django keeps defaults
                # in Python): users affected, the workflow's mute flag and
                # its "resolved in the next release" flag.
                "users",
                "muted",
                "resolved_in_next",
            ),
            group_rows,
        )
        # The search index, as the storage writes it with each new group.
        for start in range(0, len(group_rows), 500):
            index_groups(
                connection.alias,
                [
                    (row[0], row[6], row[4], row[8], row[7])
                    for row in group_rows[start : start + 500]
                ],
            )
        # Short ids are the group ids: no project's counter is behind them.
        Project.objects.update(last_short_id=len(group_rows))
        insert(
            connection,
            "sentry_messagecountbyminute",
            ("group_id", "date", "times_seen"),
            [(g, adapt(m), n) for (g, m), n in minutes.items()],
        )
        hours = collections.Counter()
        for (group_id, minute), count in minutes.items():
            project_id = DEFAULT_PROJECT_ID + (group_id - 1) % args.projects
            hours[project_id, minute.replace(minute=0)] += count
        insert(
            connection,
            "sentry_projectcountbyhour",
            ("project_id", "date", "times_seen"),
            [(p, adapt(h), n) for (p, h), n in sorted(hours.items())],
        )
        insert(
            connection,
            "sentry_messagefiltervalue",
            ("id", "group_id", "key", "value", "times_seen", "first_seen", "last_seen"),
            [
                (pk, g, k, v, n, adapt(first), adapt(last))
                for (g, k, v), (n, first, last, pk) in values.items()
            ],
        )
        insert(connection, "sentry_occurrencevalue", ("value_id", "message_id"), links)
        insert(
            connection,
            "sentry_valuecountbyhour",
            ("group_id", "key", "value", "date", "times_seen"),
            [(g, k, v, adapt(h), n) for (g, k, v, h), n in value_hours.items()],
        )
        insert(
            connection,
            "sentry_filtervalue",
            ("project_id", "key", "value"),
            sorted(
                {
                    (DEFAULT_PROJECT_ID + (g - 1) % args.projects, k, v)
                    for (g, k, v) in values
                    # As the storage offers them (sentry.storage._count_values).
                    if k in FILTERED_KEYS or k == "tag:environment"
                }
            ),
        )
        reset_sequences(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum does after a big load: statistics for the
            # planner, hint bits and the visibility map for index-only scans.
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
    return 1, len(minutes), len(values)


def project_fields(number):
    """Return the name and slug of the benchmark's ``number``-th extra project."""
    return {"name": f"Service {number}", "slug": f"service-{number}"}


def insert(connection, table, columns, rows):
    if not rows:
        return
    # Quoted: "user" is a reserved word on PostgreSQL.
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def reset_sequences(connection):
    from django.core.management.color import no_style

    from sentry.models import GroupedMessage, Message, MessageFilterValue, Project

    with connection.cursor() as cursor:
        models = [GroupedMessage, Project, Message, MessageFilterValue]
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


# --- Timing ------------------------------------------------------------------


def pages(hot_group_id, now):
    """Return ``[(name, url)]`` of the pages to time."""
    from django.urls import reverse

    from sentry import pagination
    from sentry.models import GroupedMessage, Message, MessageFilterValue, Project

    index = reverse("sentry:index")
    # The second project (or the only one): not the busiest error's.
    project = Project.objects.order_by("pk")[1:2].first() or Project.objects.get()
    hot = GroupedMessage.objects.get(pk=hot_group_id)
    cold = GroupedMessage.objects.order_by("times_seen", "pk").first()
    middle = hot.times_seen // 2
    deep_message = (
        Message.objects.filter(group=hot).order_by("-datetime", "-pk")[
            middle : middle + 1
        ]
    ).get()
    groups = GroupedMessage.objects.filter(status=0).order_by("-score", "-pk")
    deep_group = groups[min(groups.count() - 1, 2_000)]
    # What the search cases look for: an unresolved error of the last week,
    # seen in staging (so that each case finds it, in any size of data).
    target = next(
        group
        for group in GroupedMessage.objects.filter(
            status=0, level=40, last_seen__gte=now - dt.timedelta(days=7)
        ).order_by("pk")
        if MessageFilterValue.objects.filter(
            group=group, key="tag:environment", value="staging"
        ).exists()
    )
    n = target.pk - 1  # the group's index in generate()
    return [
        # The floor: a dashboard page that reads no data (session, access
        # check, the header and template of every page).
        ("floor: API index (no data)", reverse("sentry:api-index")),
        ("stream", index),
        ("stream, sorted by last seen", f"{index}?sort=date"),
        ("stream, sorted by first seen", f"{index}?sort=new"),
        ("stream, sorted by times seen", f"{index}?sort=freq"),
        ("stream, all statuses", f"{index}?status=all"),
        ("stream, level=warning", f"{index}?level=30"),
        ("stream, logger", f"{index}?logger={LOGGERS[3]}"),
        ("stream, server", f"{index}?server_name={SERVERS[5]}"),
        ("stream, site", f"{index}?site=blog"),
        ("stream, last hour", f"{index}?since=1h"),
        ("stream, level+server+day", f"{index}?level=40&server_name=web-2&since=1d"),
        ("stream, search", f"{index}?q=step+42"),
        # The search language (docs/dashboard.rst, Searching), form by form.
        ("search: a rare word", f"{index}?q=apply_discount_{n}"),
        ("search: a common word", f"{index}?q=computeGrandTotal"),
        ("search: a prefix", f"{index}?q=PricingRu"),
        ("search: tag", f"{index}?q=release:shop@1.{n % RELEASES}"),
        (
            "search: tag, by times seen (scoped)",
            f"{index}?q=environment:staging&sort=freq",
        ),
        ("search: !tag", f"{index}?q=!environment:production"),
        ("search: tag prefix", f"{index}?q=release:shop@1.{n % RELEASES}*"),
        ("search: has:", f"{index}?q=has:release"),
        ("search: is:resolved", f"{index}?q=is:resolved"),
        ("search: firstSeen:-24h", f"{index}?q=firstSeen:-24h"),
        (
            "search: combination",
            f"{index}?q=environment:staging+lastSeen:-7d+handle_{n % 500}+level:error",
        ),
        ("stream, one project", f"{index}?project={project.slug}"),
        (
            "stream, one project, last seen",
            f"{index}?project={project.slug}&sort=date",
        ),
        (
            "stream, one project, times seen",
            f"{index}?project={project.slug}&sort=freq",
        ),
        (
            "live update, one project",
            reverse("sentry:poll") + f"?project={project.slug}",
        ),
        (
            "stream, deep page",
            f"{index}?after={pagination.make_cursor(deep_group, 'score')}",
        ),
        ("live update (JSON)", reverse("sentry:poll")),
        ("projects overview", reverse("sentry:projects")),
        ("group (24 h)", reverse("sentry:group", args=[hot.pk])),
        ("group (7 days)", reverse("sentry:group", args=[hot.pk]) + "?range=7d"),
        ("group (30 days)", reverse("sentry:group", args=[hot.pk]) + "?range=30d"),
        ("group, rare error", reverse("sentry:group", args=[cold.pk])),
        ("occurrences", reverse("sentry:messages", args=[hot.pk])),
        (
            "occurrences, deep page",
            reverse("sentry:messages", args=[hot.pk])
            + f"?after={pagination.make_cursor(deep_message, 'datetime')}",
        ),
        (
            "occurrences, environment",
            reverse("sentry:messages", args=[hot.pk]) + "?q=environment:staging",
        ),
        # Kept per occurrence as links to the counters (OccurrenceValue).
        (
            "occurrences, user",
            reverse("sentry:messages", args=[hot.pk]) + "?q=user.id:user-7",
        ),
        (
            "occurrences, browser",
            reverse("sentry:messages", args=[hot.pk]) + "?q=browser:%22Safari+18%22",
        ),
        (
            "occurrences, !browser",
            reverse("sentry:messages", args=[hot.pk]) + "?q=!browser:Chrome*",
        ),
        ("occurrence", deep_message.get_absolute_url()),
        (
            "occurrence, search kept",
            deep_message.get_absolute_url() + "?q=server:" + deep_message.server_name,
        ),
    ]


def time_pages(page_list, repeat):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True}
    )
    browser = Client()
    browser.force_login(user)
    results = []
    for name, url in page_list:
        for _ in range(2):  # warm caches, templates, connections
            response = browser.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url} answered {response.status_code}")
        with CaptureQueriesContext(connection) as queries:
            browser.get(url)
        # Read now: the next request empties the connection's query log.
        query_count = len(queries)
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            browser.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        results.append(
            (name, percentile(timings, 50), percentile(timings, 95), query_count)
        )
    return results


def percentile(values, pct):
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def print_table(results, header):
    print(header)
    width = max(len(name) for name, *_ in results)
    print(f"{'page':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'queries':>7}")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 8}  {'-' * 7}")
    for name, p50, p95, count in results:
        print(f"{name:<{width}}  {p50:8.1f}  {p95:8.1f}  {count:7d}")
    worst = max(p95 for _, _, p95, _ in results)
    print(f"worst p95: {worst:.1f} ms")


def main(argv=None):
    args = parse_args(argv)
    keep = bool(args.sqlite_path if args.db == "sqlite" else args.pg_database)
    if args.db == "sqlite" and keep:
        name = args.sqlite_path
        reuse = os.path.exists(name)
    elif args.db == "sqlite":
        folder = tempfile.mkdtemp(prefix="sentry-bench-")
        name = os.path.join(folder, "bench.sqlite3")
        reuse = False
    elif keep:
        name = args.pg_database
        reuse = postgresql_database_exists(name)
        if not reuse:
            create_postgresql_database(name)
    else:
        name = f"sentry_bench_{os.getpid()}"
        create_postgresql_database(name)
        reuse = False
    try:
        configure(args.db, name)
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        now = timezone.now()
        started = time.perf_counter()
        if reuse:
            from sentry.models import MessageCountByMinute, MessageFilterValue

            hot = 1
            minute_rows = MessageCountByMinute.objects.count()
            value_rows = MessageFilterValue.objects.count()
        else:
            hot, minute_rows, value_rows = generate(args, now)
        loaded = time.perf_counter() - started
        page_list = pages(hot, now)
        results = time_pages(page_list, args.repeat)
        header = (
            f"{args.db}: {args.occurrences:,} occurrences in {args.groups:,} groups "
            f"of {args.projects} projects "
            f"({minute_rows:,} per-minute rows, {value_rows:,} per-group values), "
            + ("reused; " if reuse else f"loaded in {loaded:.0f} s; ")
            + f"{args.repeat} requests per page; "
            f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}"
        )
        print_table(results, header)
        connection.close()
    finally:
        if keep:
            pass
        elif args.db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.remove(name + suffix)
                except FileNotFoundError:
                    pass
            os.rmdir(os.path.dirname(name))
        else:
            drop_postgresql_database(name)


if __name__ == "__main__":
    main()
