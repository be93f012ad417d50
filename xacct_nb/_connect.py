"""``xn.connect()``: one call from settings to a working cross-account session.

Settings come from, in order: the arguments, the ``XACCT_*`` environment
variables (``XACCT_ROLE_ARN``, ``XACCT_EXTERNAL_ID``, ``XACCT_TABLE``,
``XACCT_REGION``) and ``AWS_PROFILE``, then an ``xacct.toml`` file (the path
in ``XACCT_CONFIG``, else ``./xacct.toml``)::

    role_arn = "arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA"
    external_id = "..."
    table = "MyCrossAccountTable"
    region = "us-east-1"
    profile = "analyst-a"
    max_rcu = 100           # optional: every reader's default read-capacity budget

With none of them set, ``connect()`` starts the embedded sandbox, says so in
one line, and connects to it with the reader role, so a notebook that begins
with ``conn = xn.connect()`` runs anywhere.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3

from . import sandbox as _sandbox
from ._budget import config_data, config_file
from ._errors import ConfigurationError, InvalidArgumentError
from ._sessions import assume_role, credentials_expiry, whoami
from ._validate import check_bool, check_str, public

SETTINGS = ("role_arn", "external_id", "table", "region", "profile")
ENV_VARS = {
    "role_arn": "XACCT_ROLE_ARN",
    "external_id": "XACCT_EXTERNAL_ID",
    "table": "XACCT_TABLE",
    "region": "XACCT_REGION",
    "profile": "AWS_PROFILE",
}

_shared_sandbox: _sandbox.Sandbox | None = None
_shared_lock = threading.Lock()


@dataclass(frozen=True)
class Settings:
    """Where to connect: all optional; no value at all means the sandbox."""

    role_arn: str | None = None
    external_id: str | None = None
    table: str | None = None
    region: str | None = None
    profile: str | None = None
    source: str = "defaults"

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in SETTINGS)


def load_settings(**overrides: Any) -> Settings:
    """Resolve settings from arguments, environment and ``xacct.toml`` (first wins)."""
    values: dict[str, Any] = {}
    sources: list[str] = []
    for name in SETTINGS:
        if overrides.get(name) is not None:
            values[name] = overrides[name]
    if values:
        sources.append("arguments")
    for name, var in ENV_VARS.items():
        if name not in values and os.environ.get(var):
            values[name] = os.environ[var]
            sources.append(var)
    path = config_file()
    if path is not None:
        data = config_data(path)
        # max_rcu is the readers' default budget (xacct_nb._budget.default_max_rcu).
        unknown = set(data) - set(SETTINGS) - {"max_rcu"}
        if unknown:
            raise ConfigurationError(
                f"{path} has unknown settings {sorted(unknown)}; known: {list(SETTINGS)}."
            )
        for name in SETTINGS:
            if name not in values and data.get(name):
                values[name] = str(data[name])
        sources.append(str(path))
    return Settings(**values, source=", ".join(dict.fromkeys(sources)) or "defaults")


@dataclass
class Connection:
    """A connected analyst: the role's session, the table, and where they came from.

    Attributes
    ----------
    session : boto3.Session
        Account B's role session (self-refreshing), or the source session when
        no role is configured.
    table : str or None
        The table to work on.
    role_arn, external_id, region : str or None
    source_session : boto3.Session
        Account A's identity that assumed the role.
    sandbox : Sandbox or None
        The embedded sandbox, when connected to it.
    """

    session: Any
    table: str | None
    role_arn: str | None
    external_id: str | None
    region: str | None
    source_session: Any
    sandbox: _sandbox.Sandbox | None = None
    settings: Settings = field(default_factory=Settings)

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    def whoami(self) -> dict[str, Any]:
        """:func:`xacct_nb.whoami` of the role session."""
        return whoami(self.session)

    @property
    def expiration(self) -> Any:
        """When the current role credentials expire (they refresh themselves before)."""
        return credentials_expiry(self.session)

    def __repr__(self) -> str:
        where = f"sandbox {self.sandbox.endpoint_url}" if self.sandbox else "AWS"
        return (
            f"<Connection to {where}: role={self.role_arn!r}, table={self.table!r}, "
            f"region={self.region!r}>"
        )


def shared_sandbox() -> _sandbox.Sandbox:
    """Return the sandbox that ``connect()`` starts, one per Python process."""
    global _shared_sandbox
    with _shared_lock:
        if _shared_sandbox is None or not _shared_sandbox.running:
            _shared_sandbox = _sandbox.start()
        return _shared_sandbox


@public
def connect(
    *,
    role_arn: str | None = None,
    external_id: str | None = None,
    table: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    quiet: bool = False,
) -> Connection:
    """Connect to the owner's account: assume the role, pick the table.

    With no argument, environment variable or ``xacct.toml`` setting, starts
    (once per process) the embedded sandbox and connects to it with its
    reader role.

    Returns
    -------
    Connection
        ``conn.session`` is the self-refreshing role session, ``conn.table``
        the table name.

    >>> conn = connect()
    xacct-nb: no AWS settings found; using the embedded sandbox (account ... -> ..., table ...).
    >>> df = xn.read_query(conn.session, conn.table, "C-0001")
    >>> conn.table, len(df) > 0
    ('MyCrossAccountTable', True)
    """
    for name, value in (("role_arn", role_arn), ("table", table), ("region", region),
                        ("profile", profile)):
        check_str(name, value, optional=True)
    if external_id is not None and not isinstance(external_id, str):
        raise InvalidArgumentError(
            f"external_id must be a str, not a {type(external_id).__name__} "
            "(its value is not shown)."
        )
    check_bool("quiet", quiet)
    settings = load_settings(
        role_arn=role_arn, external_id=external_id, table=table, region=region, profile=profile
    )
    if settings.empty:
        sb = shared_sandbox()
        if not quiet:
            print(
                f"xacct-nb: no AWS settings found; using the embedded sandbox "
                f"(account {sb.account_a} -> {sb.account_b}, table {sb.table})."
            )
        source = sb.analyst_session()
        session = assume_role(
            sb.reader_role_arn, external_id=sb.external_id, source_session=source,
            region_name=sb.region,
        )
        return Connection(
            session=session, table=sb.table, role_arn=sb.reader_role_arn,
            external_id=sb.external_id, region=sb.region, source_session=source,
            sandbox=sb, settings=settings,
        )
    try:
        source = boto3.Session(profile_name=settings.profile, region_name=settings.region)
    except Exception as exc:  # botocore's ProfileNotFound and friends
        raise ConfigurationError(
            f"Cannot use AWS profile {settings.profile!r} (from {settings.source}): {exc}. "
            "Check ~/.aws/config, or unset AWS_PROFILE."
        ) from None
    region_used = settings.region or source.region_name
    if settings.role_arn:
        session = assume_role(
            settings.role_arn, external_id=settings.external_id, source_session=source,
            region_name=region_used,
        )
    else:
        session = source
    if not quiet:
        target = settings.role_arn or f"profile {settings.profile or 'default'}"
        print(f"xacct-nb: connected as {target} (settings from {settings.source}).",
              file=sys.stdout)
    return Connection(
        session=session, table=settings.table, role_arn=settings.role_arn,
        external_id=settings.external_id, region=region_used, source_session=source,
        settings=settings,
    )
