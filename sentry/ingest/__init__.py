"""
The ingest endpoints: events sent by other sites and by Sentry SDKs.

This package is the trust boundary. Everything here treats the request as
hostile: bodies are read and inflated under caps, parsed as JSON only and
mapped field by field onto the pipeline's event, and every refusal is a
precise JSON answer (400, 401, 403, 413, 415, 429), never a 500.

* :mod:`.auth` -- credentials and key lookup;
* :mod:`.decoding` -- bodies, content encodings, legacy store bodies, JSON;
* :mod:`.envelope` -- the envelope format;
* :mod:`.mapping` -- Sentry events to the classic event;
* :mod:`.ratelimit` -- the rate limits of keys and projects;
* :mod:`.responses` -- JSON answers, errors and CORS headers;
* :mod:`.remote` -- the classic Django-to-Django ``store/`` endpoint;
* :mod:`.views` -- the Sentry SDK endpoints;
* :mod:`.keys` -- the ``ProjectKey`` model.
"""
