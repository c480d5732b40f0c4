from ...alerts.plugin import ChannelPlugin


class MattermostPlugin(ChannelPlugin):
    """Alerts to the ``"mattermost"`` channels of SENTRY_ALERT_CHANNELS."""

    slug = "mattermost"
    title = "Mattermost"
    kind = "mattermost"
