"""Cross-account sessions that refresh themselves.

:func:`assume_role` returns a plain ``boto3.Session`` whose credentials are
botocore ``RefreshableCredentials``: botocore calls ``sts:AssumeRole`` again
shortly before they expire, so the session works for as long as the source
credentials do, in this package and in anything else that takes a session.

The session's credentials are never printed: botocore's credential objects
have no repr that shows them, and this module logs only role ARNs, session
names and expiry times.
"""

from __future__ import annotations

import getpass
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ._clients import client
from ._errors import (
    AssumeRoleError,
    ConfigurationError,
    InvalidArgumentError,
    translate_client_error,
)

logger = logging.getLogger("xacct_nb")

ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/([\w+=,.@/-]{1,512})$")
_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]")
MIN_DURATION, MAX_DURATION = 900, 43200

_ASSUME_HINTS = (
    "Check, in this order: (1) the caller's own policy in the source account allows "
    "sts:AssumeRole on {role}; (2) the role's trust policy names the caller's account "
    "or principal; (3) the ExternalId matches the trust policy's sts:ExternalId "
    "(given: {external}); (4) the trust policy does not require MFA "
    "(pass mfa_serial= if it does); (5) duration_seconds is within the role's "
    "MaxSessionDuration (and 3600 for a chained role). "
    "xn.policies can generate both sides' documents."
)


def parse_role_arn(role_arn: str) -> tuple[str, str]:
    """(account id, role name) of a role ARN, or :class:`InvalidArgumentError`.

    >>> parse_role_arn("arn:aws:iam::222222222222:role/Reader")
    ('222222222222', 'Reader')
    """
    match = ROLE_ARN_RE.match(role_arn) if isinstance(role_arn, str) else None
    if not match:
        raise InvalidArgumentError(
            f"{role_arn!r} is not a role ARN: expected "
            "'arn:aws:iam::<12-digit account id>:role/<role name>', e.g. "
            "'arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA'."
        )
    return match.group(1), match.group(2).rsplit("/", 1)[-1]


def default_session_name() -> str:
    """``xacct-<local user>``, reduced to the characters STS accepts (2-64 of them).

    >>> default_session_name().startswith("xacct-")
    True
    """
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name on this platform
        user = "analyst"
    name = _SESSION_NAME_BAD.sub("-", f"xacct-{user}")
    return name[:64]


def _check_session_name(name: str) -> str:
    if not isinstance(name, str) or not 2 <= len(name) <= 64 or _SESSION_NAME_BAD.search(name):
        raise InvalidArgumentError(
            f"session_name {name!r} is invalid: use 2-64 characters of letters, digits "
            "and + = , . @ - _"
        )
    return name


def _check_duration(duration_seconds: int | None) -> int | None:
    if duration_seconds is None:
        return None
    if (
        isinstance(duration_seconds, bool)
        or not isinstance(duration_seconds, int)
        or not MIN_DURATION <= duration_seconds <= MAX_DURATION
    ):
        raise InvalidArgumentError(
            f"duration_seconds={duration_seconds!r} is out of range: AWS accepts whole "
            f"seconds from {MIN_DURATION} (15 minutes) to {MAX_DURATION} (12 hours), and "
            "at most the role's MaxSessionDuration."
        )
    return duration_seconds


def _derived_botocore_session(source: boto3.Session, region: str) -> botocore.session.Session:
    """A fresh botocore session with the source's configuration (profile, files, region).

    Copying the configuration keeps endpoint settings (``endpoint_url`` in a
    profile, ``AWS_ENDPOINT_URL*``) that make the same code work against the
    sandbox or any other STS/DynamoDB endpoint.
    """
    src = source._session  # the botocore session behind a boto3 session
    core = botocore.session.Session()
    instance = src.instance_variables()
    for var in ("config_file", "credentials_file", "profile"):
        if instance.get(var) is not None:
            core.set_config_variable(var, instance[var])
    if source.profile_name and source.profile_name != "default":
        core.set_config_variable("profile", source.profile_name)
    core.set_config_variable("region", region)
    return core


def assume_role(
    role_arn: str,
    external_id: str | None = None,
    session_name: str | None = None,
    duration_seconds: int | None = None,
    mfa_serial: str | None = None,
    mfa_token: str | Callable[[], str] | None = None,
    source_session: boto3.Session | None = None,
    region_name: str | None = None,
    source_identity: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> boto3.Session:
    """Assume ``role_arn`` and return a ``boto3.Session`` that refreshes itself.

    The first ``sts:AssumeRole`` happens now, so a wrong ARN, trust policy or
    ExternalId fails here with :class:`~xacct_nb.AssumeRoleError`. Later
    refreshes happen inside botocore, a few minutes before expiry.

    Parameters
    ----------
    role_arn
        The owner account's role, ``arn:aws:iam::ACCOUNT:role/NAME``.
    external_id
        The ExternalId the role's trust policy requires, if any.
    session_name
        ``RoleSessionName``; defaults to ``xacct-<local user>``.
    duration_seconds
        Lifetime of each set of credentials (900..43200); AWS's default is 3600.
    mfa_serial, mfa_token
        MFA device ARN and a token code (or a callable returning one).
    source_session
        The requester account's identity; default: boto3's default chain.
    region_name
        Region of the returned session; default: the source session's.
    source_identity, tags
        ``SourceIdentity`` and session tags passed to AssumeRole.

    Returns
    -------
    boto3.Session

    >>> session = assume_role(                      # doctest: +SKIP
    ...     "arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA",
    ...     external_id="xacct-sandbox-external-id")
    >>> whoami(session)["Account"]                  # doctest: +SKIP
    '222222222222'
    """
    parse_role_arn(role_arn)
    name = _check_session_name(session_name) if session_name is not None else default_session_name()
    duration = _check_duration(duration_seconds)
    if external_id is not None and (not isinstance(external_id, str) or not 2 <= len(external_id) <= 1224):
        raise InvalidArgumentError("external_id must be a string of 2 to 1224 characters.")
    source = source_session if source_session is not None else boto3.Session(region_name=region_name)
    region = region_name or source.region_name
    if not region:
        raise ConfigurationError(
            "No AWS region is configured: pass region_name=..., set AWS_DEFAULT_REGION "
            "(or XACCT_REGION), or add `region` to your AWS profile."
        )

    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": name}
    if external_id is not None:
        params["ExternalId"] = external_id
    if duration is not None:
        params["DurationSeconds"] = duration
    if source_identity is not None:
        params["SourceIdentity"] = source_identity
    if tags:
        params["Tags"] = [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    if mfa_serial is not None:
        token = mfa_token() if callable(mfa_token) else mfa_token
        if not token:
            raise InvalidArgumentError(
                f"mfa_serial={mfa_serial!r} needs an MFA code: pass mfa_token='123456' "
                "or a function that returns one."
            )
        params["SerialNumber"] = mfa_serial
        params["TokenCode"] = str(token)

    sts = client(source, "sts", region_name=region)
    hint = _ASSUME_HINTS.format(
        role=role_arn, external="none" if external_id is None else "yes (value not shown)"
    )

    def fetch() -> dict[str, str]:
        try:
            response = sts.assume_role(**params)
        except ClientError as exc:
            err = translate_client_error(exc, role_arn=role_arn, what=f"AssumeRole of {role_arn}")
            raise AssumeRoleError(
                f"{err} {hint}",
                code=getattr(err, "code", ""),
                operation="AssumeRole",
                aws_message=getattr(err, "aws_message", ""),
                role_arn=role_arn,
            ) from None
        except NoCredentialsError:
            raise AssumeRoleError(
                f"Cannot assume {role_arn}: no source credentials were found. Configure "
                "account A's identity (AWS_PROFILE, `aws configure`, `aws sso login`, an "
                "instance role) or pass source_session=.",
                operation="AssumeRole",
                role_arn=role_arn,
            ) from None
        except BotoCoreError as exc:
            raise AssumeRoleError(
                f"Cannot reach STS to assume {role_arn}: {exc}",
                operation="AssumeRole",
                role_arn=role_arn,
            ) from None
        creds = response["Credentials"]
        expiry = creds["Expiration"]
        logger.info("assumed %s as session %s until %s", role_arn, name, expiry.isoformat())
        # MFA codes are single-use: refreshes go without them.
        params.pop("TokenCode", None)
        params.pop("SerialNumber", None)
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": expiry.isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="xacct-assume-role"
    )
    core = _derived_botocore_session(source, region)
    core._credentials = credentials  # botocore's documented way for custom refreshers
    session = boto3.Session(botocore_session=core)
    return session


def credentials_expiry(session: boto3.Session) -> datetime | None:
    """When the session's current credentials expire, if they are refreshable."""
    creds = session._session.get_credentials()
    expiry = getattr(creds, "_expiry_time", None)
    if isinstance(expiry, datetime):
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=UTC)
        return expiry.astimezone(UTC)
    return None


def whoami(session: boto3.Session) -> dict[str, Any]:
    """Who ``session`` is: ``Account``, ``Arn``, ``UserId`` and (if known) ``Expiration``.

    >>> whoami(session)                              # doctest: +SKIP
    {'Account': '222222222222', 'Arn': 'arn:aws:sts::222222222222:assumed-role/...',
     'UserId': 'AROA...:xacct-me', 'Expiration': datetime.datetime(...)}
    """
    try:
        ident = client(session, "sts").get_caller_identity()
    except ClientError as exc:
        raise translate_client_error(exc, what="GetCallerIdentity") from None
    except NoCredentialsError:
        raise ConfigurationError(
            "No AWS credentials found: set AWS_PROFILE, run `aws configure` or "
            "`aws sso login`, or use xn.connect() with no settings for the sandbox."
        ) from None
    out: dict[str, Any] = {k: ident[k] for k in ("Account", "Arn", "UserId")}
    expiry = credentials_expiry(session)
    if expiry is not None:
        out["Expiration"] = expiry
    return out
