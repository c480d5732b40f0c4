from ..base import ValueCountPlugin


class ServersPlugin(ValueCountPlugin):
    """The servers a group was seen on, most seen first, with counts."""

    slug = "servers"
    title = "Servers"
    key = "server_name"
    link_values = False
