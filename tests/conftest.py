"""Fixtures shared by the test packages: the local GitHub API server, real Redis and PostgreSQL servers."""

from __future__ import annotations

from tests.support.github_server import app_key, github, make_settings
from tests.support.servers import backends, postgres_server, postgres_url, redis_server, redis_url

__all__ = [
    "app_key",
    "backends",
    "github",
    "make_settings",
    "postgres_server",
    "postgres_url",
    "redis_server",
    "redis_url",
]
