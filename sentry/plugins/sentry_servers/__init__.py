"""Bundled plugin: the servers a group was seen on."""
