"""One place that builds boto3 clients: the same botocore ``Config`` everywhere.

Retries use botocore's *standard* mode (exponential backoff with jitter, and
throttling errors retried); the user agent names the package so an account
owner can see xacct-nb's calls in CloudTrail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.config import Config

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    import boto3

USER_AGENT = f"xacct-nb/{__version__}"


def default_config(**overrides: Any) -> Config:
    """The botocore ``Config`` of every client the package creates.

    >>> default_config().retries["mode"]
    'standard'
    """
    base = Config(
        retries={"max_attempts": 8, "mode": "standard"},
        user_agent_extra=USER_AGENT,
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=32,
    )
    return base.merge(Config(**overrides)) if overrides else base


def client(session: boto3.Session, service: str, **config: Any) -> Any:
    """A client of ``service`` from ``session`` with :func:`default_config`."""
    return session.client(service, config=default_config(**config))
