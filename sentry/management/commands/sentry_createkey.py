"""
``manage.py sentry_createkey --label LABEL``: a new client key and its DSN.

The DSN is the first line of the output (scripts read it from there), then
comes the Python set-up code the dashboard's set-up page shows too.
"""

from django.core.management.base import BaseCommand, CommandError

from ...ingest.keys import ProjectKey, build_dsn, default_base_url, new_key
from ...models import Project
from ...projects import lookup_project_id
from ...snippets import PYTHON


class Command(BaseCommand):
    help = (
        "Create a client key for the Sentry SDK endpoints and print its DSN "
        "(the first line), then the Python code that uses it. The DSN's "
        "address is --url, else SENTRY_URL_PREFIX."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--label",
            required=True,
            help="Name of the sending application; ingested events are filed "
            "under it as their site.",
        )
        parser.add_argument(
            "--project",
            default="1",
            help="The project's id or slug (default: 1, the site's own).",
        )
        parser.add_argument(
            "--url",
            help="Where sentry.urls is mounted, as clients reach it, e.g. "
            "https://errors.example.com/sentry/ (default: SENTRY_URL_PREFIX).",
        )
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=None,
            help="Events accepted per minute (default: no limit).",
        )
        parser.add_argument(
            "--secret",
            action="store_true",
            help="Also give the key a (deprecated) secret, put in the DSN.",
        )

    def handle(self, *args, label, project, url, rate_limit, secret, **options):
        base_url = url or default_base_url()
        if not base_url:
            raise CommandError(
                "Pass --url (where sentry.urls is mounted, as clients reach it) "
                "or set SENTRY_URL_PREFIX."
            )
        try:
            project_id = lookup_project_id(project)
        except ValueError:
            project_id = None
        if project_id is None:
            known = ", ".join(
                f"{p.pk} ({p.slug})" for p in Project.objects.order_by("pk")[:20]
            )
            raise CommandError(
                f"No project {project!r}. Projects: {known or 'none'}. "
                "Add one in the admin (Sentry > Projects)."
            )
        if rate_limit is not None and rate_limit < 1:
            raise CommandError("--rate-limit must be at least 1.")
        try:
            # Checked before anything is created.
            build_dsn(base_url, "key", project_id)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        key = ProjectKey.objects.create(
            label=label,
            project_id=project_id,
            rate_limit=rate_limit,
            secret_key=new_key() if secret else "",
        )
        dsn = key.get_dsn(base_url, include_secret=secret)
        self.stdout.write(dsn)
        self.stdout.write(
            f"\nIn the application that reports ({PYTHON.install}):\n\n"
            + PYTHON.snippet(dsn),
            ending="",
        )
