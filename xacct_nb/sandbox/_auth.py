"""The sandbox's authorization layer: WSGI middleware in front of moto's services.

moto does not check who signs a request: with its IAM checks on, a
cross-account AssumeRole with a wrong ExternalId succeeds and any policy
scoped to a table ARN denies everything. So the sandbox puts this layer in
front of it. For every request the layer

* parses it once into a canonical form (:func:`._wire.parse`: service,
  region, operation, parameters), refusing whatever is ambiguous;
* resolves the access key to an identity (an IAM user, a ``GetSessionToken``
  session or an assumed-role session) with the secret and session token the
  sandbox issued, and verifies the SigV4 signature with botocore's signer
  (:mod:`._sigv4`), refusing unknown keys, wrong or missing tokens and
  expired session credentials as AWS does;
* answers ``sts:GetSessionToken`` itself (with MFA: the serial must be the
  user's device, the code six digits) and ``GetCallerIdentity`` for those
  sessions; checks ``sts:AssumeRole`` against the caller's policies and the
  role's trust policy and the limits moto ignores (``MaxSessionDuration``,
  one hour for role chaining), keeping the issued credentials' expiry on its
  own clock, which tests may move forward;
* decides every IAM, S3 and DynamoDB call with the evaluator, and forwards
  to moto only a request rebuilt from the parsed form (its own path, Host,
  target and Authorization; the caller's account in moto's
  ``x-moto-account-id``), straight to that service's moto application:
  ``/moto-api`` is not reachable at all.

Errors come back in AWS's wire format: JSON ``__type`` for DynamoDB, the
``ErrorResponse`` XML for STS and IAM, S3's ``Error`` document.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import string
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from .._errors import SandboxError
from .._evaluator import EXPLICIT_DENY, UNKNOWN, Decision, Policy, Request, evaluate_cross_account
from ._accesses import (
    Access,
    bucket_owner_and_policy,
    dynamodb_accesses,
    iam_access,
    identity_policies,
    s3_access,
    table_policy,
    trust_policy,
)
from ._sigv4 import refusal, verify
from ._wire import STS_NS, Parsed, WireError, error_response, parse

logger = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]

#: While moto handles an authorized ExportTableToPointInTime, ``export_writes.authorize``
#: is ``(action, resource) -> Decision`` for the caller: the export writes its files with
#: the caller's S3 permissions, as DynamoDB does (see ``_exports.patch_moto_exports``).
export_writes = threading.local()
#: While the layer forwards an authorized PartiQL request, ``partiql_scope.tables`` is the
#: set of ``(table, index or None)`` it authorized: moto's PartiQL engine sees only those
#: (see ``_dynamodb.scope_partiql``).
partiql_scope = threading.local()
_ALNUM = string.ascii_uppercase + string.digits
CHAINED_MAX_SECONDS = 3600


def coarse_accesses(operation: str, params: dict[str, Any], account: str,
                    region: str) -> list[Access]:
    """Return the action on each table a refused request names, with its key context unknown.

    Used only to decide whether the caller may learn why a request is invalid.
    """
    names: list[str] = []
    if isinstance(params.get("TableName"), str):
        names.append(params["TableName"])
    if isinstance(params.get("RequestItems"), dict):
        names += [name for name in params["RequestItems"] if isinstance(name, str)]
    for entry in params.get("TransactItems") or []:
        for member in entry.values() if isinstance(entry, dict) else ():
            if isinstance(member, dict) and isinstance(member.get("TableName"), str):
                names.append(member["TableName"])
    action = f"dynamodb:{operation}"
    out = []
    for name in dict.fromkeys(names):
        arn = name if name.startswith("arn:") else (
            f"arn:aws:dynamodb:{region}:{account}:table/{name}")
        parts = arn.split(":")
        owner = parts[4] if len(parts) > 5 and parts[4].isdigit() else account
        out.append(Access(action, arn, owner, {"dynamodb:LeadingKeys": UNKNOWN}))
    return out or [Access(action, "*", account, {"dynamodb:LeadingKeys": UNKNOWN})]


def denial_message(principal: str, access: Access, decision: Decision) -> str:
    """AWS's AccessDenied message for ``decision`` (the enhanced form with its reason)."""
    head = (
        f"User: {principal} is not authorized to perform: {access.action} on resource: "
        f"{access.resource}"
    )
    if decision.decision == EXPLICIT_DENY:
        kind = "an identity-based" if decision.side == "identity" else "a resource-based"
        return f"{head} with an explicit deny in {kind} policy"
    kind = "identity-based" if decision.side == "identity" else "resource-based"
    return f"{head} because no {kind} policy allows the {access.action} action"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Identity:
    """Who signed a request.

    ``kind`` is ``"user"`` (long-term keys), ``"user-session"``
    (``GetSessionToken``) or ``"role-session"`` (``AssumeRole``).
    """

    account: str
    arn: str
    kind: str = "user"
    expiration: datetime | None = None
    mfa: bool = False
    user_id: str = ""

    def __repr__(self) -> str:  # never shows keys: the identity holds none
        return f"Identity({self.kind} {self.arn})"


class StsError(SandboxError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Credential:
    """What the sandbox issued for one access key: who it is, its secret and session token."""

    identity: Identity
    secret: str
    token: str | None = None

    def __repr__(self) -> str:  # never shows the secret or the token
        return f"Credential({self.identity!r})"


#: What each service calls an access key it does not know.
_UNKNOWN_KEY = {
    "dynamodb": "The security token included in the request is invalid.",
    "s3": "The AWS Access Key Id you provided does not exist in our records.",
}
#: STS actions the sandbox serves; the others (federation, web identity, SAML) would hand
#: out credentials without the checks AWS makes, so they are refused.
_STS_ACTIONS = ("AssumeRole", "GetSessionToken", "GetCallerIdentity")
SEED_HEADER = "x-xacct-seed"
_PARTIQL_OPERATIONS = ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction")


class AuthorizationLayer:
    """WSGI middleware in front of moto: identify the caller, refuse what AWS would refuse.

    ``apps`` maps each service (``dynamodb``, ``sts``, ``iam``, ``s3``) to its
    moto application. While ``seed_token`` is set (during seeding) requests
    carrying it in the ``x-xacct-seed`` header act as the account named in
    moto's ``x-moto-account-id`` header, unsigned; every other request, and
    every request once seeding is over, must be signed by a known identity.

    ``clock_offset`` (seconds) moves the layer's clock forward, so tests can
    expire credentials without waiting.
    ``mfa_devices`` maps a user ARN to its MFA device serial.
    """

    def __init__(self, apps: Mapping[str, App], *, seed_token: str | None = None) -> None:
        self.apps = apps
        self.seed_token = seed_token
        self.clock_offset = 0.0
        self.mfa_devices: dict[str, str] = {}
        self.sessions: dict[str, Credential] = {}
        #: the last decisions (principal ARN, access, decision), for explanations
        self.decisions: list[tuple[str, Access, Decision]] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    # -- identity --------------------------------------------------------------
    def identify(self, access_key: str) -> Credential | None:
        """Return the credential behind an access key: a session the sandbox issued or an IAM user's."""
        with self._lock:
            known = self.sessions.get(access_key)
        if known is not None:
            return known
        from moto.iam.models import iam_backends

        for account_id, account in list(iam_backends.items()):
            iam = account["aws"]
            key = iam.access_keys.get(access_key)
            if key is None or getattr(key, "status", "Active") != "Active":
                continue
            for user in list(iam.users.values()):
                if any(k.access_key_id == access_key for k in user.access_keys):
                    return Credential(Identity(account_id, user.arn, "user", user_id=user.id),
                                      key.secret_access_key)
        return None

    def authenticate(self, parsed: Parsed) -> Identity:
        """Identify who signed ``parsed``, or return the service's error (key, token, signature)."""
        service = parsed.service
        credential = self.identify(parsed.access_key)
        if credential is None:
            raise refusal(service, "token", _UNKNOWN_KEY.get(
                service, "The security token included in the request is invalid."))
        if credential.token is None:
            token_ok = parsed.token is None
        else:
            token_ok = parsed.token is not None and hmac.compare_digest(
                parsed.token.encode(), credential.token.encode())
        if not token_ok:
            if service == "s3":
                raise WireError(400, "InvalidToken",
                                "The provided token is malformed or otherwise invalid.", "s3")
            raise refusal(service, "token",
                          "The security token included in the request is invalid.")
        verify(parsed.signature, credential.secret, parsed.token, parsed.method, parsed.raw_path,
               parsed.raw_query, parsed.headers, parsed.raw_body)
        identity = credential.identity
        if identity.expiration is not None and self.now() >= identity.expiration:
            if service == "dynamodb":
                raise WireError(400, "ExpiredTokenException",
                                "The security token included in the request is expired", service)
            raise WireError(400 if service == "s3" else 403, "ExpiredToken",
                            "The security token included in the request is expired", service)
        return identity

    # -- WSGI ------------------------------------------------------------------
    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        seed = environ.get("HTTP_X_XACCT_SEED")
        seed_account = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        try:
            parsed = parse(environ)
            if (seed is not None and self.seed_token is not None and seed_account
                    and hmac.compare_digest(seed.encode(), self.seed_token.encode())):
                parsed.interpret()
                return self._forward(environ, start_response, parsed, seed_account)
            identity = self.authenticate(parsed)
            parsed.interpret()
            return self._route(environ, start_response, parsed, identity)
        except WireError as exc:
            return self._send(start_response, exc.service, exc.status, exc.code, exc.message)
        except StsError as exc:
            return self._send(start_response, "sts", exc.status, exc.code, exc.message)

    def _route(self, environ: Environ, start_response: StartResponse, parsed: Parsed,
               identity: Identity) -> Iterable[bytes]:
        service = parsed.service
        if service == "sts":
            return self._sts(environ, start_response, parsed, identity)
        if service == "iam":
            access = iam_access(parsed.operation, parsed.params, identity.account)
            decision = self.decide(identity, access, [])
            if not decision.allowed:
                raise WireError(403, "AccessDenied", denial_message(identity.arn, access, decision),
                                service)
            return self._forward(environ, start_response, parsed, identity.account)
        if service == "s3":
            headers = {"x-amz-acl": parsed.headers.get("x-amz-acl", "")}
            access = s3_access(parsed.method, parsed.raw_path, parsed.raw_query, headers,
                               identity.account)
            decision = self.decide_s3(identity, access)
            if not decision.allowed:
                raise WireError(403, "AccessDenied", denial_message(identity.arn, access, decision),
                                service)
            return self._forward(environ, start_response, parsed, identity.account)
        account = identity.account
        region = parsed.region
        try:
            accesses = dynamodb_accesses(parsed.operation, parsed.params, identity.account, region)
        except WireError as exc:
            # AWS authorizes before it validates: a caller who may not touch the table
            # learns nothing of its key schema from a validation message.
            # (A PartiQL statement that does not parse names no table, and its messages name
            # no key attribute: it gets its syntax error.)
            if exc.code in ("ValidationException", "SerializationException") and (
                    parsed.operation not in _PARTIQL_OPERATIONS):
                for access in coarse_accesses(parsed.operation, parsed.params, identity.account,
                                              region):
                    decision = self.decide(identity, access, [])
                    if not decision.allowed:
                        raise WireError(400, "AccessDeniedException",
                                        denial_message(identity.arn, access, decision),
                                        service) from None
            raise
        if len({access.account for access in accesses}) > 1:
            # moto serves one request from one account: tables of several accounts in one
            # request could be read from another account than the one authorized.
            raise WireError(400, "ValidationException",
                            "The sandbox serves one account per request: these tables belong to "
                            "several accounts; send one request per account.", service)
        for access in accesses:
            table_arn = access.resource.split("/index/")[0]
            resource_policy = (
                table_policy(access.account, region, table_arn)
                if ":table/" in table_arn and not table_arn.endswith("/*") else None
            )
            decision = self.decide(identity, access, [resource_policy] if resource_policy else [])
            if not decision.allowed:
                raise WireError(400, "AccessDeniedException",
                                denial_message(identity.arn, access, decision), service)
            if access.account != identity.account:
                account = access.account  # a table named by its ARN in another account
        if parsed.operation in _PARTIQL_OPERATIONS:
            scope: set[tuple[str, str | None]] = set()
            for access in accesses:
                match = re.search(r":table/([^/]+)(?:/index/([^/]+))?$", access.resource)
                if match:
                    scope.add((match.group(1), match.group(2)))
            partiql_scope.tables = scope
            try:
                return list(self._forward(environ, start_response, parsed, account))
            finally:
                partiql_scope.tables = None
        if parsed.operation == "ExportTableToPointInTime":
            def authorize(action: str, resource: str) -> Decision:
                return self.decide_s3(identity, Access(action, resource, identity.account))

            export_writes.authorize = authorize
            try:
                return list(self._forward(environ, start_response, parsed, account))
            finally:
                export_writes.authorize = None
        return self._forward(environ, start_response, parsed, account)

    def _forward(self, environ: Environ, start_response: StartResponse, parsed: Parsed,
                 account: str) -> Iterable[bytes]:
        """Hand moto the request rebuilt from ``parsed``, acting as ``account``.

        A crash inside moto (an exception, or the HTML page of a 5xx) becomes
        the service's own internal error, in its wire format.
        """
        app = self.apps[parsed.service]
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        try:
            body = b"".join(app(parsed.forward_environ(environ, account), capture))
        except Exception:  # noqa: BLE001 - a crash in moto is the service's internal error
            logger.exception("moto failed on %r", parsed)
            captured = {"status": "500 INTERNAL SERVER ERROR", "headers": []}
            body = b""
        status = str(captured.get("status", "500"))
        content_type = dict((k.lower(), v) for k, v in captured.get("headers", [])).get(
            "content-type", "")
        if not captured or status.startswith("5") and ("html" in content_type or not body):
            if parsed.service == "dynamodb":
                return self._send(start_response, "dynamodb", 500, "InternalServerError",
                                  "Internal server error")
            return self._send(start_response, parsed.service, 500, "InternalError",
                              "We encountered an internal error. Please try again.")
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        if parsed.method != "HEAD" or body:
            headers.append(("Content-Length", str(len(body))))
        else:
            headers += [(k, v) for k, v in captured["headers"] if k.lower() == "content-length"]
        start_response(status, headers)
        return [body]

    # -- authorization ---------------------------------------------------------
    def global_context(self, identity: Identity) -> dict[str, Any]:
        """Return the ``aws:*`` condition keys AWS adds to every request of this caller."""
        principal_arn = identity.arn
        if identity.kind == "role-session":
            parts = identity.arn.split(":")
            principal_arn = f"arn:aws:iam::{parts[4]}:role/{parts[5].split('/')[1]}"
        context: dict[str, Any] = {
            "aws:PrincipalAccount": identity.account,
            "aws:PrincipalArn": principal_arn,
            "aws:CurrentTime": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(self.now().timestamp())),
            "aws:SecureTransport": "false",
            "aws:PrincipalType": "AssumedRole" if identity.kind == "role-session" else "User",
        }
        if identity.kind != "user":  # only temporary credentials carry MFA context
            context["aws:MultiFactorAuthPresent"] = identity.mfa
        if identity.user_id:
            context["aws:userid"] = identity.user_id
        return context

    def decide(self, identity: Identity, access: Access, resource_policies: list[Policy]) -> Decision:
        """Return the evaluator's decision for one access by ``identity``."""
        context = {**self.global_context(identity), **access.context}
        request = Request(identity.arn, access.action, access.resource, context)
        identity_side = identity_policies(identity.account, identity.arn, identity.kind)
        decision = evaluate_cross_account(identity_side, resource_policies, request, access.account)
        with self._lock:
            self.decisions.append((identity.arn, access, decision))
            del self.decisions[:-200]
        return decision

    def decide_s3(self, identity: Identity, access: Access) -> Decision:
        """Decide an S3 access: the caller's and the bucket's policies, in the bucket's account.

        Within one account either side may allow; across accounts both must
        (a bucket policy naming the other account's role, and that role's own
        policy), as S3 decides for buckets with ACLs disabled.
        """
        bucket = access.resource.split(":::", 1)[1].split("/", 1)[0] if ":::" in access.resource else ""
        owner, policy = bucket_owner_and_policy(bucket) if bucket else (None, None)
        if owner is not None:
            access.account = owner
        return self.decide(identity, access, [policy] if policy else [])

    @staticmethod
    def _send(
        start_response: StartResponse, service: str | None, status: int, code: str, message: str
    ) -> Iterable[bytes]:
        status_line, headers, body = error_response(service, status, code, message)
        start_response(status_line, headers)
        return [body]

    # -- STS -------------------------------------------------------------------
    def _sts(self, environ: Environ, start_response: StartResponse, parsed: Parsed,
             caller: Identity) -> Iterable[bytes]:
        form, action = parsed.params, parsed.operation
        if action not in _STS_ACTIONS:
            raise StsError(400, "InvalidAction",
                           f"The sandbox does not serve sts:{action}; it serves "
                           f"{', '.join(_STS_ACTIONS)}.")
        if action == "GetSessionToken":
            return self._xml(start_response, "GetSessionToken", self._get_session_token(caller, form))
        if action == "GetCallerIdentity":
            return self._xml(
                start_response, "GetCallerIdentity",
                f"<Arn>{escape(caller.arn)}</Arn><UserId>{escape(caller.user_id)}</UserId>"
                f"<Account>{caller.account}</Account>",
            )
        return self._assume_role(environ, start_response, caller, parsed)

    def _xml(self, start_response: StartResponse, action: str, result: str) -> Iterable[bytes]:
        body = (
            f'<{action}Response xmlns="{STS_NS}"><{action}Result>{result}</{action}Result>'
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</{action}Response>"
        ).encode()
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
        return [body]

    def _get_session_token(self, caller: Identity, form: dict[str, str]) -> str:
        if caller.kind != "user":
            raise StsError(403, "AccessDenied", "Cannot call GetSessionToken with session credentials")
        duration = _int_param(form, "DurationSeconds", 43200)
        if not 900 <= duration <= 129600:
            raise StsError(
                400, "ValidationError",
                f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
                "satisfy constraint: Member must have value between 900 and 129600",
            )
        mfa = False
        if "SerialNumber" in form or "TokenCode" in form:
            mfa = self._check_mfa(caller, form)
        access_key = "ASIA" + "".join(secrets.choice(_ALNUM) for _ in range(16))
        secret = secrets.token_urlsafe(30)[:40]
        token = secrets.token_urlsafe(120)
        expiration = self.now() + timedelta(seconds=duration)
        with self._lock:
            self.sessions[access_key] = Credential(Identity(
                caller.account, caller.arn, "user-session", expiration, mfa, caller.user_id
            ), secret, token)
        return (
            f"<Credentials><AccessKeyId>{access_key}</AccessKeyId>"
            f"<SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>"
            f"<Expiration>{_iso(expiration)}</Expiration></Credentials>"
        )

    def _check_mfa(self, caller: Identity, form: dict[str, str]) -> bool:
        serial, code = form.get("SerialNumber", ""), form.get("TokenCode", "")
        if self.mfa_devices.get(caller.arn) != serial or not re.fullmatch(r"\d{6}", code):
            raise StsError(
                403, "AccessDenied",
                "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
            )
        return True

    def _assume_role(
        self, environ: Environ, start_response: StartResponse, caller: Identity, parsed: Parsed
    ) -> Iterable[bytes]:
        """AssumeRole decided on the caller's policies and the role's trust policy, answered here."""
        form = parsed.params
        role_arn = form.get("RoleArn", "")
        session_name = form.get("RoleSessionName", "")
        if not re.fullmatch(r"[\w+=,.@-]{2,64}", session_name):
            raise StsError(
                400, "ValidationError",
                f"1 validation error detected: Value '{session_name}' at 'roleSessionName' failed "
                "to satisfy constraint: Member must satisfy regular expression pattern: "
                "[\\w+=,.@-]*",
            )
        if "Policy" in form or any(k.startswith("PolicyArns.") for k in form):
            raise StsError(400, "ValidationError",
                           "Session policies (Policy, PolicyArns) are not emulated by the sandbox; "
                           "assume the role without them.")
        duration = _int_param(form, "DurationSeconds", 3600)
        if duration < 900:
            raise StsError(
                400, "ValidationError",
                f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
                "satisfy constraint: Member must have value greater than or equal to 900",
            )
        mfa = caller.mfa
        if "SerialNumber" in form or "TokenCode" in form:
            mfa = self._check_mfa(caller, form)
        context: dict[str, Any] = {}
        if "ExternalId" in form:
            context["sts:ExternalId"] = form["ExternalId"]
        if "SourceIdentity" in form:
            context["sts:SourceIdentity"] = form["SourceIdentity"]
        role = _role(role_arn)
        role_account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else caller.account
        access = Access("sts:AssumeRole", role_arn, role_account, context)
        trust = trust_policy(role_arn) if role is not None else None
        asker = Identity(caller.account, caller.arn, caller.kind, caller.expiration, mfa,
                         caller.user_id)
        decision = self.decide(asker, access, [trust] if trust else [])
        if role is None or trust is None or not decision.allowed:
            raise StsError(
                403, "AccessDenied",
                f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
                f"{role_arn}",
            )
        if caller.kind == "role-session" and duration > CHAINED_MAX_SECONDS:
            raise StsError(
                400, "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining.",
            )
        if duration > int(role.max_session_duration or 3600):
            raise StsError(
                400, "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        access_key = "ASIA" + "".join(secrets.choice(_ALNUM) for _ in range(16))
        secret = secrets.token_urlsafe(30)[:40]
        token = secrets.token_urlsafe(160)
        expiration = self.now() + timedelta(seconds=duration)
        arn = f"arn:aws:sts::{role_account}:assumed-role/{role.name}/{session_name}"
        role_id = f"{role.id}:{session_name}"
        with self._lock:
            self.sessions[access_key] = Credential(
                Identity(role_account, arn, "role-session", expiration, mfa, role_id), secret, token)
        source = form.get("SourceIdentity")
        return self._xml(
            start_response, "AssumeRole",
            (f"<SourceIdentity>{escape(source)}</SourceIdentity>" if source else "")
            + f"<AssumedRoleUser><Arn>{escape(arn)}</Arn>"
            f"<AssumedRoleId>{escape(role_id)}</AssumedRoleId></AssumedRoleUser>"
            f"<Credentials><AccessKeyId>{access_key}</AccessKeyId>"
            f"<SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>"
            f"<Expiration>{_iso(expiration)}</Expiration></Credentials>"
            "<PackedPolicySize>0</PackedPolicySize>",
        )


def _int_param(form: dict[str, str], name: str, default: int) -> int:
    text = form.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"\d{1,9}", text):
        raise StsError(400, "ValidationError",
                       f"1 validation error detected: Value '{text}' at "
                       f"'{name[0].lower() + name[1:]}' failed to satisfy constraint: Member must "
                       "be a number")
    return int(text)


def _role(role_arn: str) -> Any:
    """Return moto's role object behind ``role_arn``, or None."""
    from moto.iam.models import iam_backends

    match = re.fullmatch(r"arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)", role_arn)
    if not match or match.group(1) not in iam_backends:
        return None
    for role in list(iam_backends[match.group(1)]["aws"].roles.values()):
        if role.name == match.group(2):
            return role
    return None
