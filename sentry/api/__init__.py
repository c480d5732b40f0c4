"""A read-mostly JSON API over the stored errors, and its tokens."""
