"""The plugin: a widget, a panel and an action, as data."""

from collections import Counter
from urllib.parse import urlencode

from sentry.plugins import Action, Plugin

from .agents import browser_family

#: How many of a group's latest occurrences are looked at. The bundled
#: plugins read exact counters; a breakdown the app does not count must
#: bound its work instead, so that it costs the same on a busy error.
SAMPLE = 100


class BrowsersPlugin(Plugin):
    """Which browsers a group's latest occurrences came from."""

    slug = "browsers"
    title = "Browsers"
    panel_template = "browsers/panel.html"

    def families(self, group):
        """Return ``[(family, occurrences), ...]``, most seen first."""
        latest = group.message_set.order_by("-datetime", "-pk").values_list(
            "data", flat=True
        )[:SAMPLE]
        counts = Counter()
        for data in latest:
            headers = ((data or {}).get("request") or {}).get("headers") or {}
            counts[browser_family(headers.get("User-Agent"))] += 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def get_widget_data(self, request, group):
        counts = self.families(group)
        if not counts:
            return None
        # The base widget template shows this as text; a list reads well.
        return ", ".join(f"{family} ({n})" for family, n in counts[:5])

    def get_panel_data(self, request, group):
        counts = self.families(group)
        total = sum(n for _, n in counts)
        return {
            "sample": SAMPLE,
            "rows": [
                {"family": family, "count": n, "share": round(100 * n / total)}
                for family, n in counts
            ],
        }

    def get_actions(self, request, group):
        # The project comes with the group (no query): its platform makes
        # the search more precise ("python KeyError: 'sku'").
        words = (group.project.platform, group.class_name, group.message[:100])
        query = urlencode({"q": " ".join(word for word in words if word)})
        return [
            Action("Search the web for this error", f"https://duckduckgo.com/?{query}")
        ]
