"""Step 1: a session store with expiry.

A web app behind a load balancer keeps each signed-in user's session (who they
are, what is in their cart) in the cache, so any of its servers can serve the
next request. A session must vanish by itself `ttl_seconds` after it was
created, however often it is read (load_session must not renew its TTL).

`r` is a redis-py client with decode_responses=True. Try it yourself:

    import os, redis
    r = redis.Redis.from_url(os.environ["ELASTICACHE_URL"], decode_responses=True)
"""

import secrets  # noqa: F401  (secrets.token_urlsafe(16) makes an id nobody can guess)

SESSION_TTL = 1800          # seconds: a session left alone for 30 minutes expires


def create_session(r, user_id, data, ttl_seconds=SESSION_TTL):
    """Store a new session and return its id (a string nobody can guess).

    The session holds user_id and every field of `data` (a dict of strings),
    under the key session:<id>, and disappears by itself `ttl_seconds` after
    it was created.
    """
    raise NotImplementedError


def load_session(r, session_id):
    """The session's fields as a dict (user_id and the data), or None once it has expired."""
    raise NotImplementedError
