"""
JavaScript source maps: uploaded with ``sentry-cli``, applied in the digest.

* :mod:`.views` speaks the part of Sentry's API that ``sentry-cli sourcemaps
  upload`` uses (chunk upload and artifact bundle assembly), mounted at the
  host's ``/api/0/`` by :mod:`sentry.upload_urls`, for ``upload`` tokens only;
* :mod:`.bundles` checks an assembled artifact bundle (a zip with a
  ``manifest.json``) against the size caps and stores its files;
* :mod:`.resolve` turns the minified frames of an event back into the
  original files, lines and functions while the digest reads it.
"""
