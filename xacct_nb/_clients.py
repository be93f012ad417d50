"""One place that builds boto3 clients: the same botocore ``Config`` everywhere.

Retries use botocore's *standard* mode (exponential backoff with jitter, and
throttling errors retried) with 8 attempts, unless ``AWS_MAX_ATTEMPTS`` /
``AWS_RETRY_MODE`` say otherwise; the user agent names the package so an account
owner can see xacct-nb's calls in CloudTrail.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Literal

from botocore.config import Config

from ._validate import check_answer
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    import boto3

USER_AGENT = f"xacct-nb/{__version__}"

#: The AWS services the package talks to (boto3-stubs types each one's client).
Service = Literal["dynamodb", "iam", "s3", "sts"]


def default_config(**overrides: Any) -> Config:
    """Return the botocore ``Config`` of every client the package creates.

    >>> default_config().retries["mode"]
    'standard'
    """
    # Standard AWS settings win over ours, so users (and tests) can tune retries.
    retries = {
        "total_max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS") or 8),
        "mode": os.environ.get("AWS_RETRY_MODE") or "standard",
    }
    base = Config(
        retries=retries,  # type: ignore[arg-type]
        user_agent_extra=USER_AGENT,
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=32,
    )
    return base.merge(Config(**overrides)) if overrides else base


def client(session: boto3.Session, service: Service, **config: Any) -> Any:
    """Return a client of ``service`` from ``session`` with :func:`default_config`."""
    from botocore.exceptions import NoRegionError

    from ._errors import ConfigurationError

    try:
        made = session.client(service, config=default_config(**config))
    except NoRegionError:
        raise ConfigurationError(
            "No AWS region is configured: set XACCT_REGION or AWS_DEFAULT_REGION, add "
            "`region` to your AWS profile, or pass region_name= to xn.assume_role."
        ) from None
    # An answer that is not AWS's (HTML from a proxy, another server) is an error.
    made.meta.events.register(
        "before-parse", functools.partial(check_answer, endpoint=made.meta.endpoint_url)
    )
    return made
