"""The demo shop: views that fail in the ways real sites do."""
