"""Dashboard views."""
