"""Exceptions raised by xacct-nb.

Every error the package raises derives from :class:`XacctError`, so one
``except xn.XacctError`` catches them all. botocore's ``ClientError`` never
escapes raw: :func:`translate_client_error` maps it onto this hierarchy,
keeping AWS's code and message as attributes (``.code``, ``.aws_message``,
``.operation``); callers raise the result ``from None``, so a notebook shows
one clear message instead of botocore's internals::

    XacctError
    ├── InvalidArgumentError      bad input, caught before any request is sent
    ├── MetadataMismatchError     (also ValueError) a Dask partition does not fit the
    │                             frame's metadata; has .column, .partition
    ├── ConfigurationError        settings (env vars, xacct.toml) are inconsistent
    ├── SandboxError              the embedded sandbox could not start or stopped
    ├── ExportTimeoutError        (also TimeoutError) an export outlived ``timeout``;
    │                             .snapshot can be waited on again
    ├── CostLimitError            a read estimated above ``max_cost`` (or not estimable)
    │                             was refused before any request; has .estimate, .limit
    └── AwsError                  an AWS call failed (has .code, .operation, .aws_message)
        ├── AccessDeniedError     the caller's policies (or the table's) deny the action
        ├── EndpointError         the endpoint could not be reached, or its answer not read
                                  (has .endpoint)
        ├── AssumeRoleError       sts:AssumeRole (or GetSessionToken) was refused
        ├── ExpiredCredentialsError  the credentials expired and could not be refreshed
        ├── TableNotFoundError    the table (or index) does not exist, or is not visible
        ├── ThrottledError        throttling persisted after the retries
        ├── IncompleteReadError   a read could not be completed; nothing partial is returned
        └── IncompleteWriteError  a write could not be completed; .report holds unwritten rows

    UserWarning
    ├── LargeScanWarning          a full Scan is about to read a large table
    └── FastLaneWarning           the fast decoder does not work with this pyarrow (said once)

Modules may define private signals (``_Rejected``, ``_Stop``, ``_Uncertain``)
that never leave them; they derive from :class:`XacctError` too, so that the
tree above holds every exception the package can raise.

Messages say what happened, to which table or role, and what to do next.
No message ever contains a secret key or session token: only AWS's own
message text, the operation, the table and the role ARN are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from botocore.exceptions import ClientError

__all__ = [
    "AccessDeniedError",
    "AssumeRoleError",
    "AwsError",
    "ConfigurationError",
    "CostLimitError",
    "EndpointError",
    "ExpiredCredentialsError",
    "ExportTimeoutError",
    "FastLaneWarning",
    "IncompleteReadError",
    "IncompleteWriteError",
    "InvalidArgumentError",
    "LargeScanWarning",
    "MetadataMismatchError",
    "SandboxError",
    "TableNotFoundError",
    "ThrottledError",
    "XacctError",
    "translate_client_error",
]


class XacctError(Exception):
    """Base class of every error raised by xacct-nb.

    ``hint`` is the advice at the end of the message and ``cli_hint`` the same
    advice in a terminal's terms (``xacct`` subcommands and options), when the
    raiser knows both (:func:`translate_client_error` does, from
    :data:`CLI_HINTS`); the ``xacct`` command shows ``cli_hint`` in place of
    ``hint``. Both are ``None`` otherwise.
    """

    hint: str | None = None
    cli_hint: str | None = None


class InvalidArgumentError(XacctError, ValueError):
    """An argument is malformed; nothing was sent to AWS."""


class MetadataMismatchError(XacctError, ValueError):
    """A partition holds data that does not fit the frame's metadata without loss.

    ``column`` and ``partition`` say where; the message says which ``dtypes=``
    (or ``meta=``) makes the read fit.
    """

    column: str | None = None
    partition: str | None = None


class ConfigurationError(XacctError):
    """The configuration (environment variables, ``xacct.toml``) is inconsistent."""


class SandboxError(XacctError):
    """The embedded sandbox could not be started, or is not running."""


class ExportTimeoutError(XacctError, TimeoutError):
    """An export was still running when ``timeout`` ran out; ``.snapshot`` can be waited on again."""

    snapshot: Any = None


class CostLimitError(XacctError):
    """A read was refused before anything was sent: its estimated cost is above ``max_cost``.

    ``estimate`` is the :class:`~xacct_nb._describe.CostEstimate` (``None``
    when the cost could not be estimated, e.g. DescribeTable was not allowed)
    and ``limit`` the ``max_cost`` given, in read capacity units.
    """

    def __init__(self, message: str, *, estimate: Any = None, limit: float | None = None) -> None:
        super().__init__(message)
        self.estimate = estimate
        self.limit = limit


class LargeScanWarning(UserWarning):
    """A full Scan is about to read a large table (item count and size in the message)."""


class FastLaneWarning(UserWarning):
    """The fast decoder does not work with the installed pyarrow: reads decode the exact way.

    Given once per process, naming pyarrow's version. The results are the same,
    only slower.
    """


class AwsError(XacctError):
    """An AWS request failed.

    Attributes
    ----------
    code : str
        AWS's error code, e.g. ``"AccessDeniedException"``.
    operation : str
        The API operation, e.g. ``"Query"``.
    aws_message : str
        AWS's own message, verbatim.
    table, role_arn : str or None
        What the request was about, when known.
    last_evaluated_key, unread_keys
        Where a read that this error stopped could resume: the Query/Scan
        page's ``ExclusiveStartKey``, or the BatchGetItem keys not read yet
        (``None`` when not a read, or not known).
    """

    last_evaluated_key: Any = None
    unread_keys: list[Any] | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        operation: str = "",
        aws_message: str = "",
        table: str | None = None,
        role_arn: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation
        self.aws_message = aws_message
        self.table = table
        self.role_arn = role_arn


class AccessDeniedError(AwsError):
    """The caller is not authorized to perform the action on the resource."""


class EndpointError(AwsError):
    """The endpoint could not be reached, or what it answered could not be read.

    ``endpoint`` is the URL (when known). Nothing was taken as "not found":
    the call raised instead.
    """

    endpoint: str | None = None


class AssumeRoleError(AwsError):
    """``sts:AssumeRole`` (or ``sts:GetSessionToken`` for MFA) was refused."""


class ExpiredCredentialsError(AwsError):
    """The credentials expired and could not be refreshed."""


class TableNotFoundError(AwsError):
    """The table or index does not exist, or is not visible to the caller."""


class ThrottledError(AwsError):
    """Requests kept being throttled after every retry."""


class IncompleteReadError(AwsError):
    """A read stopped before its end. No partial frame is ever returned.

    ``last_evaluated_key`` (when known) is where a Query or Scan could
    resume; ``unread_keys`` (BatchGetItem) are the keys not read yet.
    """

    def __init__(self, message: str, *, last_evaluated_key: Any = None,
                 unread_keys: list[Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.last_evaluated_key = last_evaluated_key
        self.unread_keys = unread_keys


class IncompleteWriteError(AwsError):
    """A write stopped before every row was written.

    ``report`` is the :class:`~xacct_nb.WriteReport` so far; its ``failed``
    frame holds every row that was not written.
    """

    def __init__(self, message: str, *, report: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.report = report


# AWS error code -> (exception class, what to do next).
_ACCESS_HINT = (
    "Run xn.verify_access(session, table) to see every action the role may do and why; "
    "xn.policies generates the policy that allows it, and xn.policies.simulate tests one "
    "offline."
)
_EXPIRED_HINT = (
    "Renew the source credentials (e.g. `aws sso login`) and check this machine's clock "
    "(a server whose clock is ahead calls credentials expired early). Fixed keys do not "
    "refresh themselves; sessions from xn.assume_role(...) do, and once more at once when "
    "a server calls them expired."
)
#: The request was signed at a time too far from the server's clock.
_REQUEST_EXPIRED_HINT = (
    "The request was signed too long ago by the server's clock: check this machine's clock "
    "(sync it: NTP, the system's automatic time setting)."
)
#: The hint of an expired-credentials refusal after a session from xn.assume_role was
#: refreshed (a forced AssumeRole) and the request sent again (xacct_nb._sessions marks such
#: answers with :data:`REFRESHED_MARK`).
EXPIRED_AFTER_REFRESH_HINT = (
    "The session's credentials were refreshed (a new sts:AssumeRole, whatever this machine's "
    "clock said) and the request sent again: the server refused the new ones too. Check, in "
    "this order: (1) this machine's clock: if it is behind the server's, sync it (NTP, the "
    "system's automatic time setting), as new credentials look expired to a server ahead of "
    "it too; (2) the source credentials: renew them (e.g. `aws sso login`) if they have expired."
)
#: Set (True) in an answer's ``ResponseMetadata`` when it refused the credentials of a
#: session that was refreshed for it already: its error gets :data:`EXPIRED_AFTER_REFRESH_HINT`.
REFRESHED_MARK = "XacctCredentialsRefreshed"
ERROR_CODES: dict[str, tuple[type[AwsError], str]] = {
    "AccessDeniedException": (AccessDeniedError, _ACCESS_HINT),
    "AccessDenied": (AccessDeniedError, _ACCESS_HINT),
    "UnauthorizedOperation": (AccessDeniedError, _ACCESS_HINT),
    "UnrecognizedClientException": (
        AccessDeniedError,
        "The access key is not known to this endpoint: check the profile or "
        "environment variables, and that the endpoint URL is the one you meant.",
    ),
    "InvalidClientTokenId": (
        AccessDeniedError,
        "The access key is not known to this endpoint: check the profile or "
        "environment variables, and that the endpoint URL is the one you meant.",
    ),
    "ExpiredToken": (
        ExpiredCredentialsError,
        _EXPIRED_HINT,
    ),
    "ExpiredTokenException": (
        ExpiredCredentialsError,
        _EXPIRED_HINT,
    ),
    "RequestExpired": (
        ExpiredCredentialsError,
        _REQUEST_EXPIRED_HINT,
    ),
    "ResourceNotFoundException": (
        TableNotFoundError,
        "Check the table name, the region and the account: a table in another "
        "account is reached with its owner's role (or by its full table ARN).",
    ),
    "ProvisionedThroughputExceededException": (
        ThrottledError,
        "The table's capacity is exhausted: retry later, read with fewer `segments` or "
        "write smaller frames, or ask the owner for more capacity.",
    ),
    "ThrottlingException": (
        ThrottledError,
        "Requests were throttled: retry later, with fewer `segments` or smaller writes.",
    ),
    "RequestLimitExceeded": (
        ThrottledError,
        "The account's request limit was reached: retry later.",
    ),
    "ValidationException": (
        InvalidArgumentError,  # type: ignore[dict-item]
        "AWS rejected the request's parameters; the message above says which.",
    ),
}


#: The hints of :data:`ERROR_CODES` that name Python calls or arguments, in a terminal's terms
#: (``xacct`` subcommands and options): the ``xacct`` command shows these instead. A test
#: keeps every such hint in this table.
CLI_HINTS: dict[str, str] = {
    _ACCESS_HINT: (
        "Run `xacct verify TABLE` to see every action the role may do and why; in Python, "
        "xn.policies generates the policy that allows it, and xn.policies.simulate tests one "
        "offline."
    ),
    _EXPIRED_HINT: (
        "Renew the source credentials (e.g. `aws sso login`), check this machine's clock (a "
        "server whose clock is ahead calls credentials expired early), and run the command "
        "again: with --role-arn (or XACCT_ROLE_ARN), xacct assumes the role afresh each time."
    ),
    ERROR_CODES["ProvisionedThroughputExceededException"][1]: (
        "The table's capacity is exhausted: retry later, or ask the owner for more capacity."
    ),
    ERROR_CODES["ThrottlingException"][1]: "Requests were throttled: retry later.",
}


def translate_client_error(
    error: ClientError,
    *,
    table: str | None = None,
    role_arn: str | None = None,
    what: str | None = None,
) -> XacctError:
    """Map a botocore ``ClientError`` onto the package's exception hierarchy.

    The result is meant to be raised ``from error``. ``what`` describes the
    call in the user's terms ("Query on table X"); by default it is built
    from the operation name and the table.

    >>> from botocore.exceptions import ClientError
    >>> e = ClientError({"Error": {"Code": "ResourceNotFoundException",
    ...                            "Message": "Requested resource not found"}}, "Query")
    >>> type(translate_client_error(e, table="orders")).__name__
    'TableNotFoundError'
    """
    err = error.response.get("Error", {}) if hasattr(error, "response") else {}
    code = str(err.get("Code", "Unknown"))
    aws_message = str(err.get("Message", "")).strip()
    operation = getattr(error, "operation_name", "") or ""
    cls, hint = ERROR_CODES.get(code, (AwsError, "See AWS's message above."))
    if cls is ExpiredCredentialsError and (getattr(error, "response", None) or {}).get(
            "ResponseMetadata", {}).get(REFRESHED_MARK):
        hint = EXPIRED_AFTER_REFRESH_HINT
    if what is None:
        what = operation or "request"
        if table:
            what += f" on table {table!r}"
    if role_arn:
        what += f" (as {role_arn})"
    message = f"{what} failed: {code}: {aws_message.rstrip('.')}. {hint}"
    exc: XacctError
    if cls is InvalidArgumentError:
        exc = InvalidArgumentError(message)
        exc.code = code  # type: ignore[attr-defined]
        exc.aws_message = aws_message  # type: ignore[attr-defined]
        exc.operation = operation  # type: ignore[attr-defined]
        exc.table = table  # type: ignore[attr-defined]
    else:
        exc = cls(
            message,
            code=code,
            operation=operation,
            aws_message=aws_message,
            table=table,
            role_arn=role_arn,
        )
    exc.hint, exc.cli_hint = hint, CLI_HINTS.get(hint)
    return exc
