from __future__ import annotations

from tests.support.github_server import app_key, github, make_settings

__all__ = ["app_key", "github", "make_settings"]
