"""Cross-account sessions that refresh themselves.

:func:`assume_role` returns a plain ``boto3.Session`` whose credentials are
botocore ``RefreshableCredentials``: botocore calls ``sts:AssumeRole`` again
shortly before they expire, so the session works for as long as the source
credentials do, in this package and in anything else that takes a session.
When a server calls them expired before this machine's clock does (its clock
is ahead: clock skew), the session forces one refresh
(:meth:`_AutoRefreshingCredentials.force_refresh`) and sends the request
again, once (:func:`refresh_when_refused`).

The session's credentials are never printed: botocore's credential objects
have no repr that shows them, and this module logs only role ARNs, session
names and expiry times.
"""

from __future__ import annotations

import getpass
import logging
import re
import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.utils import parse_timestamp

from ._clients import client
from ._engine import EXPIRED_CODES, current_kernel
from ._errors import (
    REFRESHED_MARK,
    AssumeRoleError,
    ConfigurationError,
    EndpointError,
    InvalidArgumentError,
    translate_client_error,
)
from ._validate import check_int, check_session, check_str, check_tags, foreign_error, public

if TYPE_CHECKING:  # pragma: no cover
    from mypy_boto3_sts import STSClient

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
            f"role_arn={role_arn!r} is not a role ARN: expected "
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
    """Return a fresh botocore session with the source's configuration (profile, files, region).

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


def _now() -> datetime:
    """Return the time refreshes are scheduled by (tests replace it to travel in time)."""
    return datetime.now(UTC)


def _clock() -> datetime:
    return _now()


class _AutoRefreshingCredentials(RefreshableCredentials):
    """botocore's refreshable credentials, with refresh margins scaled to the lifetime.

    botocore refreshes 15 minutes (advisory) / 10 minutes (mandatory) before
    expiry. For a 15-minute session that would mean an AssumeRole before
    *every* request; here the margins are at most a quarter (advisory) and an
    eighth (mandatory) of the lifetime, so calls to STS stay proportional to
    elapsed time, never to the number of requests.
    """

    # botocore's own state, which botocore-stubs leave out
    _expiry_time: datetime
    _access_key: str
    _refresh_lock: threading.Lock
    #: the access key a forced refresh (:meth:`force_refresh`) fetched last, and whether
    #: a request signed with it has succeeded since
    _forced_key: str | None = None
    _forced_accepted: bool = False

    def __init__(self, metadata: dict[str, str], refresh_using: Callable[[], dict[str, str]],
                 method: str) -> None:
        super().__init__(
            access_key=metadata["access_key"],
            secret_key=metadata["secret_key"],
            token=metadata["token"],
            expiry_time=parse_timestamp(metadata["expiry_time"]),
            refresh_using=self._rescaling(refresh_using),
            method=method,
            time_fetcher=_clock,
        )
        self._set_margins(self._expiry_time)

    def _rescaling(self, fetch: Callable[[], dict[str, str]]) -> Callable[[], dict[str, str]]:
        def refresh() -> dict[str, str]:
            metadata = fetch()
            self._set_margins(parse_timestamp(metadata["expiry_time"]))
            return metadata

        return refresh

    def _set_margins(self, expiry: datetime) -> None:
        lifetime = max((expiry - _clock()).total_seconds(), 60.0)
        self._advisory_refresh_timeout = min(15 * 60, lifetime / 4)
        self._mandatory_refresh_timeout = min(10 * 60, lifetime / 8)

    def force_refresh(self, rejected_key: str | None) -> bool:
        """Replace the credentials now, whatever this machine's clock says (the server said expired).

        For a server whose clock is ahead of this machine's (clock skew), which
        refuses credentials as expired (``ExpiredToken``, ``RequestExpired``)
        before botocore's schedule would refresh them. ``rejected_key`` is the
        access key of the refused request. Thread-safe, under botocore's own
        refresh lock, and at most one ``sts:AssumeRole`` per set of refused
        credentials: when a burst of requests is refused together, the first
        caller refreshes and the others find the credentials already replaced.
        Credentials that a forced refresh fetched are not replaced again until
        a request signed with them has succeeded (:meth:`accepted`): the
        server refusing them at once points to the clock or the source
        credentials, which another AssumeRole would not fix.

        Returns whether the credentials now differ from ``rejected_key``, i.e.
        whether sending the request again can help. An AssumeRole that fails
        raises its :class:`~xacct_nb.AssumeRoleError` (e.g. the source
        credentials have expired too).
        """
        with self._refresh_lock:
            if self._access_key != rejected_key:
                return True  # replaced since that request was signed (another thread)
            if rejected_key == self._forced_key and not self._forced_accepted:
                return False  # fresh from a forced refresh, and refused already
            logger.info("the server called the credentials expired (expiring %s by the local "
                        "clock): refreshing them now", self._expiry_time)
            # botocore's refresh under its lock, as its own mandatory refresh does (not in the stubs)
            self._protected_refresh(is_mandatory=True)  # type: ignore[attr-defined]
            self._forced_key, self._forced_accepted = self._access_key, False
            return True

    def accepted(self, key: str | None) -> None:
        """Note that a request signed with ``key`` succeeded (see :meth:`force_refresh`)."""
        if key is not None and key == self._forced_key:
            self._forced_accepted = True

    def __repr__(self) -> str:
        return f"<xacct-nb refreshable credentials ({self.method}), expiring {self._expiry_time}>"


#: Where a request's context notes the access key it was signed with, and its forced refresh.
_SIGNED_WITH, _REFRESHED = "xacct_signed_with", "xacct_forced_refresh"


def refresh_when_refused(core: botocore.session.Session,
                         credentials: _AutoRefreshingCredentials) -> None:
    """Make every client of ``core`` refresh ``credentials`` when a server calls them expired.

    Registers botocore handlers on the session (its clients copy them):
    ``before-sign`` notes which access key signs each request, ``after-call``
    notes the requests that succeeded, and ``needs-retry`` answers a refusal
    as expired (:data:`~xacct_nb._engine.EXPIRED_CODES`:
    ``ExpiredToken``, ``ExpiredTokenException``, ``RequestExpired``) with
    :meth:`_AutoRefreshingCredentials.force_refresh` and an immediate re-send
    of the same request (botocore signs it again, with the new credentials),
    once per call. A second refusal is the caller's error, marked
    (:data:`~xacct_nb._errors.REFRESHED_MARK`) so that its
    :class:`~xacct_nb.ExpiredCredentialsError` says a refresh was tried and
    what to check instead. Every client of the session benefits: the
    readers and writers, ``DescribeTable``, ``whoami``, and anything else
    given the session.
    """

    def note_key(request: Any = None, request_signer: Any = None, **_: Any) -> None:
        context = getattr(request, "context", None)
        if isinstance(context, dict) and getattr(request_signer, "_credentials", None) is credentials:
            context[_SIGNED_WITH] = credentials.get_frozen_credentials().access_key

    def note_success(http_response: Any = None, context: Any = None, **_: Any) -> None:
        if isinstance(context, dict) and getattr(http_response, "status_code", 500) < 300:
            credentials.accepted(context.get(_SIGNED_WITH))

    def refresh(response: Any = None, request_dict: Any = None, **_: Any) -> int | None:
        if not response or not isinstance(request_dict, dict):
            return None
        parsed = response[1]
        code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        context = request_dict.get("context")
        if code not in EXPIRED_CODES or not isinstance(context, dict) or _SIGNED_WITH not in context:
            return None
        if context.get(_REFRESHED) or not credentials.force_refresh(context[_SIGNED_WITH]):
            # Refused again (or fresh credentials refused already): the caller's error says so.
            if isinstance(parsed.get("ResponseMetadata"), dict):
                parsed["ResponseMetadata"][REFRESHED_MARK] = True
            return None
        context[_REFRESHED] = True
        return 0  # send again at once: botocore signs it anew

    core.register("before-sign", note_key)
    core.register("after-call", note_success)
    core.register("needs-retry", refresh)  # type: ignore[arg-type]  # returns the delay


def _can_prompt() -> bool:
    """Whether someone can answer a prompt: a kernel that allows stdin, or a terminal."""
    kernel = current_kernel()
    if kernel is not None:
        return bool(getattr(kernel, "_allow_stdin", False))
    return bool(sys.stdin is not None and sys.stdin.isatty())


def _ask_mfa_code(mfa_serial: str) -> str:
    """Ask for an MFA code with ``input()`` (works in JupyterLab and terminals)."""
    if not _can_prompt():
        raise AssumeRoleError(
            f"An MFA code for {mfa_serial} is needed, but nobody can be asked here "
            "(a non-interactive run: CI, nbval, a script without a terminal). Pass "
            "mfa_token='123456' or mfa_token=<function returning a code>.",
            operation="GetSessionToken",
        )
    return input(f"MFA code for {mfa_serial}: ").strip()


_mfa_cache: weakref.WeakKeyDictionary[Any, dict[tuple[str, int], tuple[Any, datetime]]] = (
    weakref.WeakKeyDictionary()
)
_mfa_lock = threading.Lock()


def _mfa_session(
    source: boto3.Session,
    region: str,
    mfa_serial: str,
    mfa_token: str | Callable[[], str] | None,
    duration: int,
) -> boto3.Session:
    """Return an MFA-backed session of the source identity (``sts:GetSessionToken``), asked once.

    Cached per source session and device while it has more than 5 minutes
    left, so assuming several roles, and every hourly role refresh, reuse it.
    """
    with _mfa_lock:
        cached = _mfa_cache.get(source, {}).get((mfa_serial, duration))
    if cached is not None and (cached[1] - _now()).total_seconds() > 300:
        return cached[0]
    code = mfa_token() if callable(mfa_token) else mfa_token
    if code is None:
        code = _ask_mfa_code(mfa_serial)
    code = str(code).strip()
    if not re.fullmatch(r"\d{6}", code):
        raise InvalidArgumentError(
            f"The MFA code for {mfa_serial} must be six digits (got {len(code)} characters)."
        )
    sts: STSClient = client(source, "sts", region_name=region)
    try:
        creds = sts.get_session_token(
            SerialNumber=mfa_serial, TokenCode=code, DurationSeconds=duration
        )["Credentials"]
    except ClientError as exc:
        err = translate_client_error(exc, what=f"GetSessionToken with MFA device {mfa_serial}")
        raise AssumeRoleError(
            f"{err} Check the device ARN (IAM -> your user -> Security credentials) and "
            "enter a fresh code; GetSessionToken needs the user's long-term credentials, "
            "not a role session.",
            code=getattr(err, "code", ""), operation="GetSessionToken",
            aws_message=getattr(err, "aws_message", ""),
        ) from None
    except NoCredentialsError:
        raise AssumeRoleError(
            f"Cannot start an MFA session for {mfa_serial}: no source credentials were found.",
            operation="GetSessionToken",
        ) from None
    core = _derived_botocore_session(source, region)
    core.set_credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    session = boto3.Session(botocore_session=core)
    expiry = creds["Expiration"]
    logger.info("MFA session for %s until %s", mfa_serial, expiry.isoformat())
    with _mfa_lock:
        _mfa_cache.setdefault(source, {})[(mfa_serial, duration)] = (session, expiry)
    return session


def is_mfa_session(session: Any) -> bool:
    """Whether ``session`` is an MFA session this process obtained (``sts:GetSessionToken``).

    Such a session cannot be re-created elsewhere (on a Dask worker) without
    asking for a code again.
    """
    with _mfa_lock:
        return any(
            entry[0] is session
            for per_device in list(_mfa_cache.values())
            for entry in per_device.values()
        )


def _is_role_session(source: boto3.Session, region: str) -> bool:
    try:
        arn = client(source, "sts", region_name=region).get_caller_identity()["Arn"]
    except (ClientError, BotoCoreError):
        return False  # AssumeRole will report the real problem
    return ":assumed-role/" in arn


def _explain_assume_failure(
    err: Any, role_arn: str, external_id: str | None, mfa: bool
) -> str:
    """Return the likely cause of an AssumeRole failure, from AWS's code and message."""
    code, message = getattr(err, "code", ""), getattr(err, "aws_message", "") or str(err)
    if "role chaining" in message:
        return (
            "The source is itself an assumed role (role chaining), which AWS limits to one "
            "hour: use duration_seconds=3600 or less, or assume from a user or SSO session."
        )
    if "MaxSessionDuration" in message:
        return (
            "duration_seconds is above the role's MaxSessionDuration: ask the owner to "
            "raise it (IAM -> role -> Maximum session duration) or request less."
        )
    if code in ("ExpiredToken", "ExpiredTokenException"):
        return (
            "The source credentials (account A) have expired"
            + (" - the MFA session ended: call xn.assume_role(...) again for a new code" if mfa
               else ": renew them (`aws sso login`, a new profile session) and call again")
            + "."
        )
    if code in ("InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch"):
        return (
            "Account A's credentials are not valid here: check AWS_PROFILE / the keys, and "
            "that the endpoint is the one you meant."
        )
    if code in ("AccessDenied", "AccessDeniedException"):
        causes = [
            f"account A's policy for the caller does not allow sts:AssumeRole on {role_arn} "
            "(xn.policies.assume_role_policy generates one)",
            "the role's trust policy does not name the caller's account or principal "
            "(xn.policies.trust_policy)",
        ]
        if external_id is None:
            causes.append(
                "the trust policy requires an ExternalId and none was given: pass external_id="
            )
        else:
            causes.append("the ExternalId given does not match the trust policy's sts:ExternalId")
        if not mfa:
            causes.append("the trust policy requires MFA: pass mfa_serial= (and mfa_token=)")
        return "Likely causes, most common first: " + "; ".join(
            f"({i}) {c}" for i, c in enumerate(causes, 1)
        ) + "."
    return _ASSUME_HINTS.format(
        role=role_arn, external="none" if external_id is None else "yes (value not shown)"
    )


@public
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
    *,
    mfa_duration_seconds: int = 43200,
) -> boto3.Session:
    """Assume ``role_arn`` and return a ``boto3.Session`` that refreshes itself.

    The first ``sts:AssumeRole`` happens now, so a wrong ARN, trust policy or
    ExternalId fails here with :class:`~xacct_nb.AssumeRoleError`, which
    names the likely cause. Later refreshes happen inside botocore before the
    credentials expire, as often as elapsed time requires and never once per
    request; anything that takes a boto3 session (this package, awswrangler,
    plain clients) keeps working for as long as the source credentials do.

    Parameters
    ----------
    role_arn
        The owner account's role, ``arn:aws:iam::ACCOUNT:role/NAME``.
    external_id
        The ExternalId the role's trust policy requires, if any.
    session_name
        ``RoleSessionName``; defaults to ``xacct-<local user>``.
    duration_seconds
        Lifetime of each set of credentials (900..43200); AWS's default is
        3600. A chained role (the source is itself a role session) is capped
        by AWS at 3600: a larger request is clamped, with a warning.
    mfa_serial, mfa_token
        MFA device ARN, and a code or a callable returning one. The code is
        used once, for an MFA session (``sts:GetSessionToken``, lasting
        ``mfa_duration_seconds``) from which the role is assumed and
        re-assumed without asking again. Without ``mfa_token`` the code is
        asked with ``input()`` (JupyterLab or a terminal); in a
        non-interactive run that is an error, never a hang.
    source_session
        The requester account's identity; default: boto3's default chain.
    region_name
        Region of the returned session; default: the source session's.
    source_identity, tags
        ``SourceIdentity`` and session tags passed to AssumeRole.
    mfa_duration_seconds
        Lifetime of the MFA session (900..129600, default 12 hours).

    Returns
    -------
    boto3.Session

    >>> session = assume_role(
    ...     "arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA",
    ...     external_id="xacct-sandbox-external-id",
    ...     source_session=sb.analyst_session())  # default: the usual boto3 credential chain
    >>> whoami(session)["Account"]
    '222222222222'
    """
    parse_role_arn(role_arn)
    if source_session is not None:
        check_session(source_session, "xn.assume_role", name="source_session")
    check_str("region_name", region_name, optional=True, pattern=r"[a-z0-9-]+",
              what="a region name such as 'us-east-1'")
    check_str("mfa_serial", mfa_serial, optional=True, min_len=9, max_len=256,
              pattern=r"[\w+=/:,.@-]+",
              what="an MFA device ARN such as 'arn:aws:iam::111111111111:mfa/analyst'")
    if mfa_token is not None and not (
        isinstance(mfa_token, str) or callable(mfa_token)
        or (isinstance(mfa_token, int) and not isinstance(mfa_token, bool))
    ):
        raise InvalidArgumentError(
            f"mfa_token must be a six-digit code (a str) or a function returning one, "
            f"not {mfa_token!r}."
        )
    check_str("source_identity", source_identity, optional=True, min_len=2, max_len=64,
              pattern=r"[\w+=,.@-]+",
              what="a string of 2 to 64 letters, digits and + = , . @ - _")
    tags = check_tags(tags)
    check_int("mfa_duration_seconds", mfa_duration_seconds, 900, 129600)
    name = _check_session_name(session_name) if session_name is not None else default_session_name()
    duration = _check_duration(duration_seconds)
    if external_id is not None and (
        not isinstance(external_id, str) or not 2 <= len(external_id) <= 1224
    ):
        raise InvalidArgumentError(
            "external_id must be a string of 2 to 1224 characters, not a "
            f"{type(external_id).__name__} of that length (its value is not shown)."
        )
    if mfa_token is not None and mfa_serial is None:
        raise InvalidArgumentError(
            "mfa_token was given without mfa_serial: pass the MFA device ARN too, e.g. "
            "mfa_serial='arn:aws:iam::111111111111:mfa/analyst'."
        )
    if not 900 <= mfa_duration_seconds <= 129600:
        raise InvalidArgumentError(
            f"mfa_duration_seconds={mfa_duration_seconds!r} is out of range: 900..129600."
        )
    source = source_session if source_session is not None else boto3.Session(region_name=region_name)
    region = region_name or source.region_name
    if not region:
        raise ConfigurationError(
            "No AWS region is configured: pass region_name=..., set AWS_DEFAULT_REGION "
            "(or XACCT_REGION), or add `region` to your AWS profile."
        )
    if mfa_serial is not None:
        source = _mfa_session(source, region, mfa_serial, mfa_token, mfa_duration_seconds)
    if duration is not None and duration > 3600 and _is_role_session(source, region):
        warnings.warn(
            f"duration_seconds={duration} clamped to 3600 for {role_arn}: the source is itself "
            "an assumed role (role chaining), and AWS limits chained sessions to one hour. "
            "The session still refreshes itself every hour.",
            UserWarning,
            stacklevel=2,
        )
        duration = 3600

    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": name}
    if external_id is not None:
        params["ExternalId"] = external_id
    if duration is not None:
        params["DurationSeconds"] = duration
    if source_identity is not None:
        params["SourceIdentity"] = source_identity
    if tags:
        params["Tags"] = [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    sts: STSClient = client(source, "sts", region_name=region)

    def fetch() -> dict[str, str]:
        try:
            response = sts.assume_role(**params)
        except ClientError as exc:
            err = translate_client_error(exc, role_arn=role_arn)
            raise AssumeRoleError(
                f"AssumeRole of {role_arn} was refused: {getattr(err, 'code', '')}: "
                f"{getattr(err, 'aws_message', '')}. "
                f"{_explain_assume_failure(err, role_arn, external_id, mfa_serial is not None)}",
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
            unreachable = foreign_error(exc, f"AssumeRole of {role_arn}")
            if isinstance(unreachable, EndpointError):
                unreachable.role_arn = role_arn
                raise unreachable from None
            raise AssumeRoleError(
                f"Cannot reach STS to assume {role_arn}: {exc}",
                operation="AssumeRole",
                role_arn=role_arn,
            ) from None
        creds = response["Credentials"]
        expiry = creds["Expiration"]
        logger.info("assumed %s as session %s until %s", role_arn, name, expiry.isoformat())
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": expiry.isoformat(),
        }

    credentials = _AutoRefreshingCredentials(fetch(), fetch, "xacct-assume-role")
    core = _derived_botocore_session(source, region)
    # botocore's documented way for custom refreshers (a private attribute: not in the stubs)
    core._credentials = credentials  # type: ignore[attr-defined]
    refresh_when_refused(core, credentials)
    session = boto3.Session(botocore_session=core)
    with _mfa_lock:
        _origins[session] = RoleOrigin(role_arn, source, external_id)
    return session


@dataclass(frozen=True)
class RoleOrigin:
    """Where a session from :func:`assume_role` came from (no credentials in here)."""

    role_arn: str
    source_session: Any = field(repr=False)
    external_id: str | None = field(default=None, repr=False)


_origins: weakref.WeakKeyDictionary[Any, RoleOrigin] = weakref.WeakKeyDictionary()


def role_origin(session: Any) -> RoleOrigin | None:
    """Return the role and source session behind a session made by :func:`assume_role`."""
    with _mfa_lock:
        return _origins.get(session)


def credentials_expiry(session: boto3.Session) -> datetime | None:
    """When the session's current credentials expire, if they are refreshable."""
    creds = session._session.get_credentials()
    expiry = getattr(creds, "_expiry_time", None)
    if isinstance(expiry, datetime):
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=UTC)
        return expiry.astimezone(UTC)
    return None


@public
def whoami(session: boto3.Session) -> dict[str, Any]:
    """Who ``session`` is: ``Account``, ``Arn``, ``UserId`` and (if known) ``Expiration``.

    >>> whoami(session)
    {'Account': '222222222222', 'Arn': 'arn:aws:sts::222222222222:assumed-role/...',
     'UserId': 'AROA...:...', 'Expiration': datetime.datetime(...)}
    """
    check_session(session, "xn.whoami")
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
