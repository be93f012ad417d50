"""The sandbox's authorization layer: WSGI middleware in front of moto's server.

moto does not check who signs a request: with its IAM checks on, a
cross-account AssumeRole with a wrong ExternalId succeeds and any policy
scoped to a table ARN denies everything. So the sandbox puts this layer in
front of it. For every request the layer

* reads the SigV4 ``Credential`` and resolves the access key to an identity
  (an IAM user, a ``GetSessionToken`` session, or an assumed-role session),
  refusing unknown keys and expired session credentials as AWS does;
* answers ``sts:GetSessionToken`` itself (with MFA: the serial must be the
  user's device, the code six digits) and ``GetCallerIdentity`` for those
  sessions;
* checks ``sts:AssumeRole`` limits moto ignores (the role's
  ``MaxSessionDuration``, one hour for role chaining) and keeps the issued
  credentials' expiry on its own clock, which tests may move forward;
* tells moto the caller's account (moto's ``x-moto-account-id`` header,
  stripped from what clients send), and caps Query/Scan pages like
  DynamoDB's 1 MB limit.

Errors come back in AWS's wire format: JSON ``__type`` for DynamoDB, the
``ErrorResponse`` XML for STS and IAM.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import string
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from .._evaluator import EXPLICIT_DENY, Decision, Policy, Request, evaluate_cross_account
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

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
#: While moto handles an authorized ExportTableToPointInTime, ``export_writes.authorize``
#: is ``(action, resource) -> Decision`` for the caller: the export writes its files with
#: the caller's S3 permissions, as DynamoDB does (see ``_exports.patch_moto_exports``).
export_writes = threading.local()
_ALNUM = string.ascii_uppercase + string.digits
CHAINED_MAX_SECONDS = 3600


def credential_scope(environ: Environ) -> tuple[str | None, str | None, str]:
    """(access key id, signing service, region) of a SigV4 request, or (None, None, "")."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
    else:
        for part in environ.get("QUERY_STRING", "").split("&"):
            if part.startswith("X-Amz-Credential="):
                scope = unquote(part.split("=", 1)[1])
    parts = scope.split("/")
    if len(parts) != 5:
        return None, None, ""
    return parts[0], parts[3], parts[2]


def read_body(environ: Environ) -> bytes:
    """The request body, leaving ``wsgi.input`` readable again for the app."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    replace_body(environ, body)
    return body


def replace_body(environ: Environ, body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def error_response(
    service: str | None, status: int, code: str, message: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    """An error in the wire format of ``service`` (JSON for DynamoDB, XML for the query APIs)."""
    request_id = str(uuid.uuid4())
    if service == "dynamodb":
        body = json.dumps(
            {"__type": f"com.amazon.coral.service#{code}", "Message": message}
        ).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("x-amzn-RequestId", request_id),
        ]
    elif service == "s3":  # S3's REST error document
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    else:
        ns = {"sts": STS_NS, "iam": "https://iam.amazonaws.com/doc/2010-05-08/"}.get(
            service or "", ""
        )
        body = (
            f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    reason = {400: "Bad Request", 403: "Forbidden"}.get(status, "Error")
    headers.append(("Content-Length", str(len(body))))
    return f"{status} {reason}", headers, body


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


class StsError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class AuthorizationLayer:
    """WSGI middleware in front of moto: identify the caller, refuse what AWS would refuse.

    While ``enforce`` is False (during seeding) requests pass unchanged and may
    name their account with moto's ``x-moto-account-id`` header; once it is
    True that header is stripped from every request.

    ``clock_offset`` (seconds) moves the layer's clock forward, so tests can
    expire credentials without waiting. ``page_items`` caps Query/Scan pages
    (DynamoDB stops at 1 MB; moto would return everything at once).
    ``mfa_devices`` maps a user ARN to its MFA device serial.
    """

    def __init__(self, app: App, *, page_items: int = 1000) -> None:
        self.app = app
        self.enforce = False
        self.clock_offset = 0.0
        self.page_items = page_items
        self.mfa_devices: dict[str, str] = {}
        self.sessions: dict[str, Identity] = {}
        #: the last decisions (principal ARN, access, decision), for explanations
        self.decisions: list[tuple[str, Access, Decision]] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    # -- identity --------------------------------------------------------------
    def identify(self, access_key: str) -> Identity | None:
        """Resolve an access key to the user or session that owns it."""
        with self._lock:
            known = self.sessions.get(access_key)
        if known is not None:
            return known
        from moto.iam.models import iam_backends

        for account_id, account in list(iam_backends.items()):
            iam = account["aws"]
            if access_key not in iam.access_keys:
                continue
            for user in list(iam.users.values()):
                if any(k.access_key_id == access_key for k in user.access_keys):
                    return Identity(account_id, user.arn, "user", user_id=user.id)
        return None

    # -- WSGI ------------------------------------------------------------------
    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not self.enforce:
            return self.app(environ, start_response)
        environ.pop("HTTP_X_MOTO_ACCOUNT_ID", None)
        access_key, service, region = credential_scope(environ)
        ddb = service == "dynamodb"
        if access_key is None:
            return self._send(start_response, service, 403 if not ddb else 400,
                              "MissingAuthenticationTokenException" if ddb
                              else "MissingAuthenticationToken",
                              "Request is missing Authentication Token")
        identity = self.identify(access_key)
        if identity is None:
            if ddb:
                return self._send(start_response, service, 400, "UnrecognizedClientException",
                                  "The security token included in the request is invalid.")
            return self._send(start_response, service, 403, "InvalidClientTokenId",
                              "The security token included in the request is invalid.")
        if identity.expiration is not None and self.now() >= identity.expiration:
            if ddb:
                return self._send(start_response, service, 400, "ExpiredTokenException",
                                  "The security token included in the request is expired")
            return self._send(start_response, service, 403, "ExpiredToken",
                              "The security token included in the request is expired")
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = identity.account
        if service == "sts":
            try:
                return self._sts(environ, start_response, identity)
            except StsError as exc:
                return self._send(start_response, service, exc.status, exc.code, exc.message)
        if service == "iam":
            form = {k: v[0] for k, v in parse_qs(read_body(environ).decode()).items()}
            access = iam_access(form.get("Action", ""), form, identity.account)
            decision = self.decide(identity, access, [])
            if not decision.allowed:
                return self._send(start_response, service, 403, "AccessDenied",
                                  denial_message(identity.arn, access, decision))
        if service == "s3":
            headers = {"x-amz-acl": environ.get("HTTP_X_AMZ_ACL", "")}
            access = s3_access(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""),
                               environ.get("QUERY_STRING", ""), headers, identity.account)
            decision = self.decide_s3(identity, access)
            if not decision.allowed:
                return self._send(start_response, service, 403, "AccessDenied",
                                  denial_message(identity.arn, access, decision))
        target = ""
        if ddb:
            target = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
            try:
                body = json.loads(read_body(environ) or b"{}")
            except ValueError:
                body = {}
            for access in dynamodb_accesses(target, body, identity.account, region or "us-east-1"):
                table_arn = access.resource.split("/index/")[0]
                resource_policy = (
                    table_policy(access.account, region or "us-east-1", table_arn)
                    if ":table/" in table_arn and not table_arn.endswith("/*") else None
                )
                decision = self.decide(identity, access, [resource_policy] if resource_policy else [])
                if not decision.allowed:
                    return self._send(start_response, service, 400, "AccessDeniedException",
                                      denial_message(identity.arn, access, decision))
                if access.account != identity.account:
                    environ["HTTP_X_MOTO_ACCOUNT_ID"] = access.account  # by table ARN
            if target in ("Query", "Scan"):
                self._cap_page(environ)
        if target == "ExportTableToPointInTime":
            def authorize(action: str, resource: str) -> Decision:
                return self.decide_s3(identity, Access(action, resource, identity.account))

            export_writes.authorize = authorize
            try:
                return list(self.app(environ, start_response))
            finally:
                export_writes.authorize = None
        return self.app(environ, start_response)

    # -- authorization ---------------------------------------------------------
    def global_context(self, identity: Identity) -> dict[str, Any]:
        """The ``aws:*`` condition keys AWS adds to every request of this caller."""
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
        """The evaluator's decision for one access by ``identity``."""
        context = {**self.global_context(identity), **access.context}
        request = Request(identity.arn, access.action, access.resource, context)
        identity_side = identity_policies(identity.account, identity.arn, identity.kind)
        decision = evaluate_cross_account(identity_side, resource_policies, request, access.account)
        with self._lock:
            self.decisions.append((identity.arn, access, decision))
            del self.decisions[:-200]
        return decision

    def decide_s3(self, identity: Identity, access: Access) -> Decision:
        """An S3 access: the caller's policies and the bucket's policy, in the bucket's account.

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

    def _cap_page(self, environ: Environ) -> None:
        body = read_body(environ)
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return  # let moto answer the malformed request
        limit = request.get("Limit")
        if isinstance(limit, int) and 0 < limit <= self.page_items:
            return
        request["Limit"] = self.page_items
        replace_body(environ, json.dumps(request).encode())

    # -- STS -------------------------------------------------------------------
    def _sts(self, environ: Environ, start_response: StartResponse, caller: Identity) -> Iterable[bytes]:
        body = read_body(environ)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        action = form.get("Action", "")
        if action == "GetSessionToken":
            return self._xml(start_response, "GetSessionToken", self._get_session_token(caller, form))
        if action == "GetCallerIdentity" and caller.kind == "user-session":
            return self._xml(
                start_response, "GetCallerIdentity",
                f"<Arn>{caller.arn}</Arn><UserId>{caller.user_id}</UserId>"
                f"<Account>{caller.account}</Account>",
            )
        if action == "AssumeRole":
            return self._assume_role(environ, start_response, caller, form)
        return self.app(environ, start_response)

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
        duration = int(form.get("DurationSeconds", 43200))
        if not 900 <= duration <= 129600:
            raise StsError(
                400, "ValidationError",
                f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
                "satisfy constraint: Member must have value between 900 and 129600",
            )
        mfa = False
        if "SerialNumber" in form or "TokenCode" in form:
            serial, code = form.get("SerialNumber", ""), form.get("TokenCode", "")
            if self.mfa_devices.get(caller.arn) != serial or not re.fullmatch(r"\d{6}", code):
                raise StsError(
                    403, "AccessDenied",
                    "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
                )
            mfa = True
        access_key = "ASIA" + "".join(secrets.choice(_ALNUM) for _ in range(16))
        secret = secrets.token_urlsafe(30)[:40]
        token = secrets.token_urlsafe(120)
        expiration = self.now() + timedelta(seconds=duration)
        with self._lock:
            self.sessions[access_key] = Identity(
                caller.account, caller.arn, "user-session", expiration, mfa, caller.user_id
            )
        return (
            f"<Credentials><AccessKeyId>{access_key}</AccessKeyId>"
            f"<SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>"
            f"<Expiration>{_iso(expiration)}</Expiration></Credentials>"
        )

    def _role_max_duration(self, role_arn: str) -> int | None:
        from moto.iam.models import iam_backends

        match = re.match(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$", role_arn)
        if not match or match.group(1) not in iam_backends:
            return None
        roles = iam_backends[match.group(1)]["aws"].roles
        for role in list(roles.values()):
            if role.name == match.group(2):
                return int(role.max_session_duration or 3600)
        return None

    def _assume_role(
        self, environ: Environ, start_response: StartResponse, caller: Identity, form: dict[str, str]
    ) -> Iterable[bytes]:
        role_arn = form.get("RoleArn", "")
        duration = int(form.get("DurationSeconds", 3600))
        context: dict[str, Any] = {}
        if "ExternalId" in form:
            context["sts:ExternalId"] = form["ExternalId"]
        if "SourceIdentity" in form:
            context["sts:SourceIdentity"] = form["SourceIdentity"]
        role_account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else caller.account
        access = Access("sts:AssumeRole", role_arn, role_account, context)
        trust = trust_policy(role_arn)
        decision = self.decide(caller, access, [trust] if trust else [])
        if trust is None or not decision.allowed:
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
        max_duration = self._role_max_duration(role_arn)
        if max_duration is not None and duration > max_duration:
            raise StsError(
                400, "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        if captured.get("status", "").startswith("200"):
            text = body.decode()
            key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", text)
            arn = re.search(r"<Arn>([^<]+)</Arn>", text)
            role_id = re.search(r"<AssumedRoleId>([^<]+)</AssumedRoleId>", text)
            if key and arn:
                expiration = self.now() + timedelta(seconds=duration)
                account = role_arn.split(":")[4]
                with self._lock:
                    self.sessions[key.group(1)] = Identity(
                        account, arn.group(1), "role-session", expiration, caller.mfa,
                        role_id.group(1) if role_id else "",
                    )
                text = re.sub(
                    r"<Expiration>[^<]+</Expiration>", f"<Expiration>{_iso(expiration)}</Expiration>",
                    text,
                )
                body = text.encode()
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured.get("status", "500 Internal Server Error"), headers)
        return [body]
