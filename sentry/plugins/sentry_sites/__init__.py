"""Bundled plugin: the sites a group was seen on."""
