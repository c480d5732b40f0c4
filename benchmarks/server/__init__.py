"""A minimal site that ingests events: what the HTTP benchmark and tests serve."""
