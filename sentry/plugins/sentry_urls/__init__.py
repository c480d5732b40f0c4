"""Bundled plugin: the urls a group was seen on."""
