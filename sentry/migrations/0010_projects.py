import django.utils.timezone
from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations, models, router
from django.utils.text import slugify

DEFAULT_PROJECT_ID = 1


def create_projects(apps, schema_editor):
    """
    Make project 1, the site's own, and one project per DSN number in use.

    Project 1 is named after ``SENTRY_SITE`` (or "default"). A client key
    whose DSN ends in another number keeps it: that project is made for it,
    named "Project <n>", so that no DSN out there changes.
    """
    Project = apps.get_model("sentry", "Project")
    ProjectKey = apps.get_model("sentry", "ProjectKey")
    connection = schema_editor.connection
    alias = connection.alias
    if not router.allow_migrate_model(alias, Project):
        return
    name = (getattr(settings, "SENTRY_SITE", None) or "default")[:200]
    slug = slugify(name)[:50] or "default"
    projects = Project.objects.using(alias)
    projects.get_or_create(
        pk=DEFAULT_PROJECT_ID, defaults={"name": name, "slug": slug}
    )
    if router.allow_migrate_model(alias, ProjectKey):
        numbers = set(
            ProjectKey.objects.using(alias).values_list("project_id", flat=True)
        )
        for number in sorted(numbers - {DEFAULT_PROJECT_ID}):
            if projects.filter(pk=number).exists():
                continue
            slug = f"project-{number}"
            if projects.filter(slug=slug).exists():
                slug = f"project-{number}-dsn"
            projects.create(pk=number, name=f"Project {number}", slug=slug)
    # Ids were given: the next one made must not collide with them.
    statements = connection.ops.sequence_reset_sql(no_style(), [Project])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    """Projects: project 1 is the site's own, and every DSN number gets one."""

    dependencies = [
        ("sentry", "0009_sourcemaps"),
    ]

    operations = [
        migrations.CreateModel(
            name="Project",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                (
                    "slug",
                    models.SlugField(
                        help_text="Short name for URLs and the API, e.g. shop.",
                        unique=True,
                        verbose_name="slug",
                    ),
                ),
                (
                    "platform",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="What the service is written in, e.g. python or javascript.",
                        max_length=64,
                        verbose_name="platform",
                    ),
                ),
                (
                    "date_added",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="added"
                    ),
                ),
            ],
            options={
                "verbose_name": "project",
                "verbose_name_plural": "projects",
                "ordering": ("name",),
            },
        ),
        migrations.RunPython(
            create_projects, migrations.RunPython.noop, elidable=False
        ),
    ]
