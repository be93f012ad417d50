"""Input checks at every public entry, and the guard that keeps foreign errors out.

Every public function checks its arguments here before anything is sent
(:func:`check_session`, :func:`check_bool`, :func:`check_int`,
:func:`check_tags`, :func:`check_key_value`, ...): a bad argument raises
:class:`~xacct_nb.InvalidArgumentError` whose message names the argument,
what was given and what is expected.

:func:`public` wraps a public function (and the iterator it may return) so
that no botocore, urllib3 or ``json`` exception escapes it: a connection
failure or an unreadable answer becomes :class:`~xacct_nb.EndpointError`
naming the endpoint and what to check; missing credentials or region a
:class:`~xacct_nb.ConfigurationError`; an AWS error answer the error tree's
class (:func:`~xacct_nb._errors.translate_client_error`).

>>> check_int("limit", 10, 1)
10
>>> check_bool("ascending", "yes")
Traceback (most recent call last):
...
xacct_nb._errors.InvalidArgumentError: ascending must be True or False, not 'yes' (a str).
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import numbers as _numbers
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from ._errors import (
    AwsError,
    ConfigurationError,
    EndpointError,
    InvalidArgumentError,
    XacctError,
    translate_client_error,
)

__all__ = [
    "CONNECTION_ERRORS",
    "ENDPOINT_HINT",
    "SESSION_HINT",
    "check_answer",
    "check_bool",
    "check_choice",
    "check_int",
    "check_key_value",
    "check_number",
    "check_optional_bool",
    "check_session",
    "check_sort_values",
    "check_str",
    "check_strings",
    "check_tags",
    "endpoint_error",
    "foreign_error",
    "public",
]

F = TypeVar("F", bound=Callable[..., Any])

SESSION_HINT = (
    "pass a boto3.Session: xn.connect().session, xn.assume_role(...), or "
    "boto3.Session(profile_name=...)"
)
ENDPOINT_HINT = (
    "Check the network connection, the endpoint settings (AWS_ENDPOINT_URL, "
    "AWS_ENDPOINT_URL_DYNAMODB / _STS, or endpoint_url in the AWS profile) and, for the "
    "embedded sandbox, that it is still running (xn.sandbox.start(), `xacct sandbox`)."
)
#: STS session tags: at most 50, keys 1-128 and values 0-256 characters of these.
_TAG_TEXT = re.compile(r"^[\w\s.:/=+\-@]*$")
MAX_TAGS, MAX_TAG_KEY, MAX_TAG_VALUE = 50, 128, 256


def _given(value: Any) -> str:
    """``'yes' (a str)``: the value and its type, for messages."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (a {type(value).__name__})"


def _where(where: str | None) -> str:
    return f"{where}: " if where else ""


# -- sessions ------------------------------------------------------------------------------


def check_session(session: Any, where: str | None = None, name: str = "session") -> Any:
    """Check that ``session`` is a ``boto3.Session``; return it.

    >>> check_session(None, "read_query")
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: read_query: session must be a boto3.Session, not None (a NoneType): pass a boto3.Session: xn.connect().session, xn.assume_role(...), or boto3.Session(profile_name=...).
    """
    import boto3

    if isinstance(session, boto3.Session):
        return session
    extra = ""
    if isinstance(getattr(session, "session", None), boto3.Session):
        extra = " (a Connection was given: pass its .session, e.g. conn.session)"
    elif hasattr(session, "meta") and hasattr(getattr(session, "meta", None), "service_model"):
        extra = " (a boto3 client was given: pass the session it came from)"
    elif type(session).__module__.startswith("botocore"):
        extra = " (a botocore session: wrap it, boto3.Session(botocore_session=...))"
    elif isinstance(session, str):
        extra = " (for a profile name use boto3.Session(profile_name=...))"
    raise InvalidArgumentError(
        f"{_where(where)}{name} must be a boto3.Session, not {_given(session)}{extra}: "
        f"{SESSION_HINT}."
    )


# -- scalars -------------------------------------------------------------------------------


def check_bool(name: str, value: Any, where: str | None = None) -> bool:
    """Check that ``value`` is ``True`` or ``False`` (numpy's bools too); return it."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise InvalidArgumentError(f"{_where(where)}{name} must be True or False, not {_given(value)}.")


def check_optional_bool(name: str, value: Any, where: str | None = None) -> bool | None:
    """``None``, ``True`` or ``False`` (e.g. ``progress``)."""
    if value is None:
        return None
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise InvalidArgumentError(
        f"{_where(where)}{name} must be None, True or False, not {_given(value)}."
    )


def check_int(
    name: str,
    value: Any,
    low: int | None = None,
    high: int | None = None,
    *,
    optional: bool = False,
    where: str | None = None,
) -> Any:
    """Check for an ``int`` (not a bool) within ``low..high``; ``None`` too when ``optional``."""
    if value is None and optional:
        return None
    ok = isinstance(value, _numbers.Integral) and not isinstance(value, bool) and (
        type(value).__name__ != "bool_"
    )
    if ok and (low is None or value >= low) and (high is None or value <= high):
        return int(value)
    if low is not None and high is not None:
        span = f"an integer from {low} to {high}"
    elif low is not None:
        span = "a positive integer" if low == 1 else f"an integer of at least {low}"
    else:
        span = "an integer"
    if optional:
        span += " or None"
    raise InvalidArgumentError(f"{_where(where)}{name} must be {span}, not {_given(value)}.")


def check_number(
    name: str, value: Any, *, positive: bool = True, optional: bool = False,
    where: str | None = None,
) -> Any:
    """Check for a real number (not a bool), positive when asked; ``None`` when ``optional``."""
    if value is None and optional:
        return None
    if (
        isinstance(value, _numbers.Real)
        and not isinstance(value, bool)
        and value == value  # not NaN
        and (not positive or not value <= 0)  # numbers.Real declares only < and <=
    ):
        return value
    what = "a positive number" if positive else "a number"
    raise InvalidArgumentError(
        f"{_where(where)}{name} must be {what}{' or None' if optional else ''}, not {_given(value)}."
    )


def check_str(
    name: str,
    value: Any,
    *,
    optional: bool = False,
    min_len: int = 1,
    max_len: int | None = None,
    pattern: str | None = None,
    what: str = "",
    where: str | None = None,
) -> Any:
    """Check for a ``str`` of ``min_len..max_len`` characters matching ``pattern``."""
    if value is None and optional:
        return None
    if (
        isinstance(value, str)
        and len(value) >= min_len
        and (max_len is None or len(value) <= max_len)
        and (pattern is None or re.fullmatch(pattern, value))
    ):
        return value
    size = f"{min_len}" + (f" to {max_len}" if max_len is not None else " or more")
    expected = what or f"a string of {size} characters"
    raise InvalidArgumentError(
        f"{_where(where)}{name} must be {expected}{' or None' if optional else ''}, "
        f"not {_given(value)}."
    )


def check_choice(name: str, value: Any, choices: Sequence[Any], where: str | None = None) -> Any:
    """One of ``choices``."""
    if isinstance(value, (str, type(None))) and value in choices:
        return value
    raise InvalidArgumentError(
        f"{_where(where)}{name} must be one of {', '.join(map(repr, choices))}, "
        f"not {_given(value)}."
    )


def check_strings(
    name: str, value: Any, *, optional: bool = True, allow_str: bool = True,
    where: str | None = None,
) -> Any:
    """Check for a name (when ``allow_str``) or a collection (list, set, Index) of names."""
    if value is None and optional:
        return None
    if isinstance(value, str) and allow_str and value:
        return value
    if (
        isinstance(value, Collection)
        and not isinstance(value, (str, bytes, Mapping))
        and all(isinstance(v, str) and v for v in value)
    ):
        return value
    expected = "a name or a list of names" if allow_str else "a list of names"
    raise InvalidArgumentError(
        f"{_where(where)}{name} must be {expected} (non-empty strings)"
        f"{' or None' if optional else ''}, not {_given(value)}."
    )


def check_tags(tags: Any, name: str = "tags", where: str | None = None) -> dict[str, str] | None:
    """Session tags as STS takes them: a ``dict[str, str]`` of at most 50 entries.

    Keys have 1-128 characters, values 0-256, of letters, digits, spaces and
    ``_ . : / = + - @``; keys must differ other than in case.

    >>> check_tags({"team": "analytics"})
    {'team': 'analytics'}
    """
    if tags is None:
        return None
    if not isinstance(tags, Mapping):
        raise InvalidArgumentError(
            f"{_where(where)}{name} must be a dict of str to str, such as "
            f"{{'team': 'analytics'}}, not {_given(tags)}."
        )
    if len(tags) > MAX_TAGS:
        raise InvalidArgumentError(
            f"{_where(where)}{name} has {len(tags)} entries: STS accepts at most {MAX_TAGS}."
        )
    seen: set[str] = set()
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY or not _TAG_TEXT.match(key):
            raise InvalidArgumentError(
                f"{_where(where)}{name} key {_given(key)} is invalid: a tag key is a str of 1 "
                f"to {MAX_TAG_KEY} letters, digits, spaces and _ . : / = + - @."
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE or not _TAG_TEXT.match(value):
            raise InvalidArgumentError(
                f"{_where(where)}{name}[{key!r}] = {_given(value)} is invalid: a tag value is a "
                f"str of 0 to {MAX_TAG_VALUE} letters, digits, spaces and _ . : / = + - @ "
                "(convert numbers with str())."
            )
        if key.lower() in seen:
            raise InvalidArgumentError(
                f"{_where(where)}{name} has the key {key!r} twice (tag keys ignore case)."
            )
        seen.add(key.lower())
    return dict(tags)


# -- key values ----------------------------------------------------------------------------

_TYPE_NAMES = {"S": "S (string)", "N": "N (number)", "B": "B (binary)"}
_EXAMPLES = {"S": "a str such as 'C-0001'", "N": "a number such as 42", "B": "bytes such as b'\\x01'"}


def _fits(attribute_type: str, value: Any) -> bool:
    if isinstance(value, (_dt.date, _dt.datetime)) or type(value).__name__ == "datetime64":
        return attribute_type in ("S", "N")  # the encoder writes dates as the key stores them
    if attribute_type == "S":
        return isinstance(value, str)
    if attribute_type == "N":
        return (
            isinstance(value, (_numbers.Number, Decimal))
            and not isinstance(value, (bool, complex))
            and type(value).__name__ != "bool_"
        )
    if attribute_type == "B":
        return isinstance(value, (bytes, bytearray, memoryview))
    return True  # unknown type: DynamoDB decides


def check_key_value(
    argument: str, key_name: str, attribute_type: str | None, value: Any, table: str
) -> None:
    """Check one key value against its attribute type (``S``, ``N`` or ``B``).

    ``attribute_type`` None (``key_schema=`` without types) checks nothing.

    >>> check_key_value("partition", "customer_id", "S", 42, "Orders")
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: partition=42 does not fit key 'customer_id' of 'Orders': the key is of type S (string), but a int was given. Pass a str such as 'C-0001'.
    """
    if attribute_type is None or attribute_type not in _TYPE_NAMES or value is None:
        return
    if _fits(attribute_type, value):
        return
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise InvalidArgumentError(
        f"{argument}={shown} does not fit key {key_name!r} of {table!r}: the key is of type "
        f"{_TYPE_NAMES[attribute_type]}, but a {type(value).__name__} was given. "
        f"Pass {_EXAMPLES[attribute_type]}."
    )


_SORT_OPERATORS = frozenset(
    {"=", "==", "eq", "<", "lt", "<=", "lte", ">", "gt", ">=", "gte", "begins_with", "between"}
)


def check_sort_values(
    key_name: str | None, attribute_type: str | None, sort: Any, table: str
) -> None:
    """Check the values of a tuple sort condition (``(">=", 10)``, ``("between", a, b)``).

    A boto3 ``Key(...)`` condition is left to the expression builder.
    """
    if sort is None or key_name is None:
        return
    if isinstance(sort, (tuple, list)) and sort and isinstance(sort[0], str):
        if sort[0].lower() in _SORT_OPERATORS:  # an unknown one is the builder's to explain
            for value in sort[1:]:
                check_key_value("sort", key_name, attribute_type, value, table)
    elif isinstance(sort, (str, bytes, bytearray, _numbers.Number, Decimal)):
        check_key_value("sort", key_name, attribute_type, sort, table)


# -- foreign exceptions --------------------------------------------------------------------


#: botocore's exceptions for an endpoint that cannot be reached (by class name).
CONNECTION_ERRORS = frozenset({
    "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
    "ProxyConnectionError", "SSLError", "ConnectionError", "HTTPClientError",
})


def endpoint_error(where: str, detail: str, endpoint: str | None = None) -> EndpointError:
    """Build the :class:`EndpointError` of ``where`` for an endpoint that cannot be reached."""
    if endpoint is None:
        match = re.search(r"(https?://[^\s\"']+)", detail)
        endpoint = match.group(1) if match else None
    target = f"the endpoint {endpoint}" if endpoint else "the AWS endpoint"
    err = EndpointError(
        f"{where} failed: could not reach or read {target} ({detail}). {ENDPOINT_HINT}",
        operation=where,
    )
    err.endpoint = endpoint
    return err


def check_answer(
    operation_model: Any, response_dict: dict[str, Any], endpoint: str | None = None, **_: Any
) -> None:
    """Refuse a successful answer that is not in AWS's format (botocore ``before-parse`` hook).

    A captive portal, a proxy's error page or another service on the port
    answers 200 with HTML: botocore would parse it as an empty result (JSON)
    or fail with a ``KeyError`` (XML). Either way it must not pass for "no
    item" or "no table": :class:`~xacct_nb.EndpointError` names the endpoint.
    Only the first and last bytes are looked at, so large pages cost nothing.
    """
    status = int(response_dict.get("status_code") or 0)
    if not 200 <= status < 300 or getattr(operation_model, "has_streaming_output", False):
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes):
        return
    protocol = operation_model.metadata.get("protocol")
    head, tail = body[:1024].lstrip(), body[-64:].rstrip()
    if protocol == "json":
        ok = (head[:1] == b"{" and tail[-1:] == b"}") or (
            not head and operation_model.output_shape is None
        )
    elif protocol == "query":
        ok = head[:1] == b"<" and f"<{operation_model.name}Response".encode() in head
    elif protocol == "rest-xml":
        ok = not head or head[:1] == b"<"
    else:
        return
    if not ok:
        kind = (response_dict.get("headers") or {}).get("content-type", "no content type")
        raise endpoint_error(
            operation_model.name,
            f"HTTP {status} answered with {kind}, {len(body):,} bytes that are not AWS's "
            f"{protocol} format, starting {body[:40]!r}",
            endpoint,
        )


def _endpoint_of(exc: BaseException) -> str | None:
    kwargs = getattr(exc, "kwargs", None) or {}
    for key in ("endpoint_url", "proxy_url"):
        if kwargs.get(key):
            return str(kwargs[key])
    url = getattr(exc, "url", None)
    return str(url) if url else None


def foreign_error(exc: BaseException, where: str) -> XacctError | None:
    """Translate a botocore / urllib3 / json exception; return None for any other."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    if isinstance(exc, bx.ClientError):
        return translate_client_error(exc, what=where)
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return ConfigurationError(
            f"{where} failed: {exc}. Configure account A's identity (AWS_PROFILE, "
            "`aws configure`, `aws sso login`) or use xn.connect() / xn.assume_role(...)."
        )
    if isinstance(exc, bx.NoRegionError):
        return ConfigurationError(
            f"{where} failed: no AWS region is configured: set XACCT_REGION or "
            "AWS_DEFAULT_REGION, or pass region_name= to xn.assume_role."
        )
    if isinstance(exc, bx.ParamValidationError):
        return InvalidArgumentError(f"{where}: AWS's client refused the parameters: {exc}")
    if isinstance(exc, (bx.ConnectionError, bx.HTTPClientError, ResponseParserError)):
        return endpoint_error(where, str(exc), _endpoint_of(exc))
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(f"{where} failed: {exc}. {ENDPOINT_HINT}", operation=where)
    try:
        import urllib3.exceptions as ux
    except ImportError:  # pragma: no cover - botocore depends on urllib3
        ux = None  # type: ignore[assignment]
    if ux is not None and isinstance(exc, ux.HTTPError):
        return endpoint_error(where, str(exc), _endpoint_of(exc))
    if isinstance(exc, json.JSONDecodeError):
        return EndpointError(
            f"{where} failed: an answer could not be parsed as JSON ({exc}); nothing was "
            f"taken as empty. {ENDPOINT_HINT}",
            operation=where,
        )
    return None


def _reraise_translated(exc: Exception, where: str) -> None:
    """Raise ``exc`` as its :class:`XacctError` (keeping it as ``err.original``), if it has one."""
    err = foreign_error(exc, where)
    if err is None:
        return
    err.original = exc  # type: ignore[attr-defined]
    raise err from None


def _guarded(items: Iterator[Any], where: str) -> Iterator[Any]:
    try:
        yield from items
    except XacctError:
        raise
    except Exception as exc:
        _reraise_translated(exc, where)
        raise


def _public_name(func: Callable[..., Any]) -> str:
    module = func.__module__
    name = func.__name__ if "<locals>" in func.__qualname__ else func.__qualname__
    if module == "xacct_nb.dask":
        return f"xacct_nb.dask.{name}"
    if module in ("xacct_nb._documents", "xacct_nb._setup", "xacct_nb.policies"):
        return f"xn.policies.{name}"
    return f"xn.{name}"


def public(func: F) -> F:
    """Decorate a public function: foreign exceptions become :class:`XacctError` s.

    An iterator it returns (``chunksize=``) is guarded the same way. The
    original exception is kept as ``err.original`` (not chained, so a
    notebook shows one message).
    """
    where = _public_name(func)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = func(*args, **kwargs)
        except XacctError:
            raise
        except Exception as exc:
            _reraise_translated(exc, where)
            raise
        if isinstance(result, Iterator) and not isinstance(result, (str, bytes)):
            return _guarded(result, where)
        return result

    return wrapper  # type: ignore[return-value]
