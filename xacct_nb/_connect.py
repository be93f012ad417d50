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

When something is missing (credentials, a region, the role), the error names
the settings that *are* set and where each came from, and asks only for the
missing ones.
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
from ._errors import AssumeRoleError, ConfigurationError, InvalidArgumentError
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

#: What each setting is, for messages.
LABELS = {
    "role_arn": "role ARN",
    "external_id": "external ID",
    "table": "table",
    "region": "region",
    "profile": "AWS profile",
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
    #: Where each setting that is set came from: "arguments", an environment variable, a file.
    origins: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in SETTINGS)

    def describe(self, name: str) -> str:
        """One setting as messages show it: its value (never the external ID's) and origin.

        >>> Settings(profile="analyst", origins={"profile": "AWS_PROFILE"}).describe("profile")
        "AWS profile 'analyst' (from AWS_PROFILE)"
        """
        value = getattr(self, name)
        shown = "" if name == "external_id" else f" {value!r}"
        return f"{LABELS[name]}{shown} (from {self.origins.get(name, self.source)})"

    def summary(self, *missing: str) -> str:
        """Say what is set, then how to set each of ``missing`` that is not.

        >>> Settings(profile="analyst", origins={"profile": "AWS_PROFILE"}).summary("role_arn")
        "Set: AWS profile 'analyst' (from AWS_PROFILE). Not set: role ARN
        (XACCT_ROLE_ARN, `role_arn` in xacct.toml, or connect(role_arn=...))."
        """
        present = [self.describe(name) for name in SETTINGS if getattr(self, name)]
        absent = [f"{LABELS[name]} ({where_to_set(name)})" for name in missing
                  if not getattr(self, name)]
        parts = []
        if present:
            parts.append("Set: " + ", ".join(present) + ".")
        if absent:
            parts.append("Not set: " + "; ".join(absent) + ".")
        return " ".join(parts)


def where_to_set(name: str) -> str:
    """Name the three places a setting can come from, for messages.

    >>> where_to_set("region")
    'XACCT_REGION, `region` in xacct.toml, or connect(region=...)'
    """
    return f"{ENV_VARS[name]}, `{name}` in xacct.toml, or connect({name}=...)"


def load_settings(**overrides: Any) -> Settings:
    """Resolve settings from arguments, environment and ``xacct.toml`` (first wins)."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    sources: list[str] = []
    for name in SETTINGS:
        if overrides.get(name) is not None:
            values[name] = overrides[name]
            origins[name] = "arguments"
    if values:
        sources.append("arguments")
    for name, var in ENV_VARS.items():
        if name not in values and os.environ.get(var):
            values[name] = os.environ[var]
            origins[name] = var
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
                origins[name] = str(path)
        sources.append(str(path))
    return Settings(**values, source=", ".join(dict.fromkeys(sources)) or "defaults",
                    origins=origins)


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
    source = _source_session(settings)
    region_used = settings.region or source.region_name
    if not region_used:
        raise ConfigurationError(
            "No AWS region: connect() needs one for DynamoDB"
            + (f", and AWS profile {settings.profile!r} names none" if settings.profile else "")
            + f". {settings.summary('region')} "
            + ("Or add `region` to the profile." if settings.profile else
               "Or set AWS_DEFAULT_REGION.")
        )
    if settings.role_arn:
        try:
            session = assume_role(
                settings.role_arn, external_id=settings.external_id, source_session=source,
                region_name=region_used,
            )
        except AssumeRoleError as exc:
            # Name the settings connect() used, so the advice is about what is missing.
            exc.args = (f"{exc.args[0]} {settings.summary('external_id')}", *exc.args[1:])
            raise
    else:
        session = source
    if not quiet:
        target = settings.role_arn or f"profile {settings.profile or 'default'}"
        print(f"xacct-nb: connected as {target} (settings from {settings.source}).",
              file=sys.stdout)
        missing = [f"{LABELS[name]} ({where_to_set(name)})"
                   for name in ("role_arn", "table") if not getattr(settings, name)]
        if missing:
            print("xacct-nb: not set: " + "; ".join(missing)
                  + (" - calls use account A's own identity, no role is assumed."
                     if not settings.role_arn else "."), file=sys.stdout)
    return Connection(
        session=session, table=settings.table, role_arn=settings.role_arn,
        external_id=settings.external_id, region=region_used, source_session=source,
        settings=settings,
    )


def _source_session(settings: Settings) -> boto3.Session:
    """Account A's session from the settings, with credentials, or a ConfigurationError.

    Each message names the settings that are set (and where from) and asks only
    for what is missing.
    """
    from botocore.exceptions import BotoCoreError

    profile = settings.describe("profile") if settings.profile else None
    try:
        source = boto3.Session(profile_name=settings.profile, region_name=settings.region)
    except Exception as exc:  # botocore's ProfileNotFound and friends
        origin = settings.origins.get("profile", settings.source)
        other = (f"or unset {origin}" if origin in ENV_VARS.values()
                 else "or pass another profile=" if origin == "arguments"
                 else f"or change `profile` in {origin}")
        raise ConfigurationError(
            f"Cannot use {profile}: {exc}. Check that ~/.aws/config defines "
            f"[profile {settings.profile}], {other}."
        ) from None
    try:
        credentials = source.get_credentials()
    except BotoCoreError as exc:  # a credential_process that fails, an unreadable SSO cache
        raise ConfigurationError(
            "Cannot load account A's credentials"
            + (f" of {profile}" if profile else "")
            + f": {exc}. {settings.summary()}"
        ) from None
    if credentials is None:
        if profile:
            raise ConfigurationError(
                f"{profile} gives no credentials: add keys, an SSO session or a role to "
                f"[profile {settings.profile}] in ~/.aws/config (or run `aws sso login "
                f"--profile {settings.profile}`). {settings.summary()}"
            )
        raise ConfigurationError(
            "No AWS credentials for account A's identity. "
            f"{settings.summary('profile')} Or export AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run `aws configure`. (With no XACCT_* setting, "
            "AWS_PROFILE or xacct.toml at all, connect() uses the embedded sandbox.)"
        )
    return source
