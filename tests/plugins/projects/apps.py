from django.apps import AppConfig

from sentry.plugins import Action, Plugin


class ProjectsPlugin(Plugin):
    """Reads each group's project in every hook (it must cost no query)."""

    slug = "projects"
    title = "Project"

    def get_tags(self, request, groups):
        return {group.pk: [("project", group.project.name)] for group in groups}

    def get_widget_data(self, request, group):
        return f"{group.project.name} ({group.qualified_short_id})"

    def get_panel_data(self, request, group):
        return f"In {group.project.name}, platform {group.project.platform or '-'}"

    def get_actions(self, request, group):
        return [
            Action(f"All of {group.project.name}", f"?project={group.project.slug}")
        ]


class ProjectsConfig(AppConfig):
    name = "tests.plugins.projects"
    label = "tests_projects_plugin"
    sentry_plugin = ProjectsPlugin
