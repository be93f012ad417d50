"""The one value encoder: Python, pandas and numpy values -> DynamoDB AttributeValues.

Every value the package sends goes through :func:`to_attribute_value`: the
cells of :func:`~xacct_nb.write_frame`, the keys of
:func:`~xacct_nb.read_items`, the partition value and the sort tuples of
:func:`~xacct_nb.read_query`, and the values inside ``Key(...)`` / ``Attr(...)``
conditions. So a value that ``write_frame`` stores can be used, as the same
Python object, in a key, a sort condition or a filter, and it matches.

The rules
---------
* ``str`` (``numpy.str_``) -> ``S``; ``bool`` / ``numpy.bool_`` -> ``BOOL``.
* Integers (Python, numpy) -> ``N``, exactly, at any size DynamoDB holds (38
  significant digits, magnitude below ``1E+126``).
* Floats (Python, numpy float16/32/64) -> ``N`` as their shortest round-trip
  text (``0.1`` -> ``"0.1"``, ``1e-07`` -> ``"1e-07"``); other real numbers
  (``Fraction``) through ``float``. ``Decimal`` -> ``N``, exactly.
  Infinity is refused everywhere.
* ``bytes`` / ``bytearray`` / ``memoryview`` / boto3 ``Binary`` -> ``B``.
* Datetimes (``datetime``, ``pandas.Timestamp``, ``numpy.datetime64``) -> ``S``
  in ISO 8601, in UTC, with ``Z``: ``"2026-03-01T12:00:00Z"``. An aware value
  is converted to UTC; a **naive value is taken as UTC**. The fraction of a
  second is written only when it is not zero, with six digits
  (``"2026-03-01T12:00:00.250000Z"``; nine for a ``Timestamp`` with
  nanoseconds). ``date`` -> ``"2026-03-01"``; ``time`` -> ``isoformat()``
  (``"12:00:00"``). To store another form, pass the string yourself
  (``ts.isoformat()``), in the frame and in the condition alike.
  Note that ``"...:00Z"`` sorts after ``"...:00.250000Z"`` of the same second.
* Durations (``timedelta``, ``pandas.Timedelta``, ``numpy.timedelta64``) are
  refused: DynamoDB has no duration type; store seconds
  (``td.total_seconds()``, ``df[col].dt.total_seconds()``) or a string.
* ``list`` / ``tuple`` / ``numpy.ndarray`` -> ``L``; ``dict`` (any mapping
  with str keys) -> ``M``; recursively.
* ``set`` / ``frozenset`` -> ``SS`` / ``NS`` / ``BS`` when every member
  encodes to ``S`` / ``N`` / ``B`` (a set of datetimes is an ``SS``); members
  are sorted, and numbers equal in DynamoDB (``1`` and ``1.0``) kept once.

Missing values, one rule: ``None``, NaN (float, numpy, ``Decimal``),
``pandas.NA``, ``NaT`` and **empty sets** (DynamoDB has none) are *missing*.

* In an item (:func:`to_attribute_value`, :func:`to_item`, ``write_frame``) a
  missing attribute is left out of the item; inside a list or a map, where
  nothing can be left out, it is ``NULL``.
* A key (:func:`to_key_value`, :func:`to_key`) refuses every missing value.
* A condition value (:func:`to_condition_value`) refuses them too, except
  ``None``, which is ``NULL`` (``Attr("x").eq(None)`` matches a stored
  ``NULL``); to find items where ``write_frame`` left a missing value out,
  use ``Attr(name).not_exists()``.

>>> to_attribute_value(pd.Timestamp("2026-03-01 13:00", tz="Europe/Paris"))
{'S': '2026-03-01T12:00:00Z'}
>>> to_condition_value({Decimal("2.50"), 1})
{'NS': ['1', '2.50']}
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from boto3.dynamodb.types import Binary

from ._errors import InvalidArgumentError, XacctError

__all__ = [
    "datetime_text",
    "is_missing",
    "short_repr",
    "to_attribute_value",
    "to_condition_value",
    "to_item",
    "to_key",
    "to_key_value",
]

#: The wire types a key attribute can have.
KEY_TYPES = frozenset({"S", "N", "B"})

_MAX_NUMBER = 10**126
_FLOAT_MAX = 1e126
_FLOAT_MIN = 1e-130
_ACCEPTED = (
    "str, int, float, Decimal, bool, bytes, datetime/date/Timestamp, "
    "list/tuple/array, dict with str keys, or a set of str, numbers or bytes"
)
_NUMBER_LIMITS = (
    "DynamoDB numbers have at most 38 significant digits and a magnitude "
    "from 1E-130 to 9.99E+125"
)
_KEY_ACCEPTED = (
    "key values must be str, a number (int, float, Decimal) or bytes "
    "(datetimes and dates are stored as str)"
)
_UTC = _dt.UTC


class _Refused(XacctError):  # noqa: N818 - a private signal, not an error class
    """A value that cannot be encoded; ``path`` grows as it leaves containers."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []

    def message(self, where: str) -> str:
        return f"{where}{''.join(reversed(self.path))}: {self.problem}"


# ---------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------


def short_repr(v: Any, limit: int = 60) -> str:
    """Return a short repr for messages; never fails, even for ints too long for ``str()``.

    Parameters
    ----------
    v : Any
        The value.
    limit : int
        At most this many characters (cut with ``...``).

    Returns
    -------
    str
        The repr, cut to ``limit``.

    Examples
    --------
    >>> short_repr(-(10**5000))
    '<int of about 5001 digits>'
    """
    if isinstance(v, int) and v.bit_length() > 200:
        return f"<int of about {int(v.bit_length() * math.log10(2)) + 1} digits>"
    try:
        text = repr(v)
    except Exception:  # noqa: BLE001 - a message must not fail
        text = f"<{type(v).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _int_text(v: int) -> str:
    if -_MAX_NUMBER < v < _MAX_NUMBER:
        s = str(v)
        if len(s.lstrip("-").rstrip("0")) <= 38:
            return s
    raise _Refused(f"the integer {short_repr(v)} cannot be stored; {_NUMBER_LIMITS}")


def _float_text(v: float, text: str | None = None) -> str:
    """``v`` finite (NaN is handled by the caller) -> its shortest round-trip text."""
    a = abs(v)
    if a == math.inf:
        raise _Refused(
            f"{v!r} cannot be stored: DynamoDB has no infinity (use None for a missing value)"
        )
    if a >= _FLOAT_MAX or 0 < a < _FLOAT_MIN:
        raise _Refused(f"the number {v!r} cannot be stored; {_NUMBER_LIMITS}")
    return repr(v) if text is None else text


def _decimal_text(d: Decimal) -> str | None:
    if d.is_nan():
        return None
    if d.is_infinite():
        raise _Refused(
            f"{d!r} cannot be stored: DynamoDB has no infinity (use None for a missing value)"
        )
    if d.is_zero():
        return "0"
    digits = d.as_tuple().digits
    first = next(i for i, x in enumerate(digits) if x)
    last = len(digits) - next(i for i, x in enumerate(reversed(digits)) if x)
    if last - first > 38 or not -130 <= d.adjusted() <= 125:
        raise _Refused(f"the number {short_repr(d)} cannot be stored; {_NUMBER_LIMITS}")
    return str(d)


def datetime_text(value: _dt.datetime) -> str:
    """Format a datetime as the package stores it: ISO 8601, UTC, ``Z``.

    Parameters
    ----------
    value : datetime.datetime or pandas.Timestamp
        Aware values are converted to UTC; naive values are taken as UTC.

    Returns
    -------
    str
        ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``; the fraction only when it is not
        zero (nine digits for a ``Timestamp`` with nanoseconds).

    Examples
    --------
    >>> datetime_text(_dt.datetime(2026, 3, 1, 12))
    '2026-03-01T12:00:00Z'
    >>> datetime_text(pd.Timestamp("2026-03-01 12:00:00.5-02:00"))
    '2026-03-01T14:00:00.500000Z'
    """
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(_UTC)
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    nanos = getattr(value, "nanosecond", 0)
    if nanos:
        return f"{text}.{value.microsecond:06d}{nanos:03d}Z"
    if value.microsecond:
        return f"{text}.{value.microsecond:06d}Z"
    return text + "Z"


def _datetime_wire(v: _dt.datetime) -> dict[str, Any]:
    text = datetime_text(v)
    if text[4] != "-":  # year beyond 9999 (pandas and numpy have them)
        raise _Refused(
            f"{short_repr(v)} is beyond the year 9999 that ISO 8601 text holds; pass it as a str"
        )
    return {"S": text}


def _datetime64_wire(v: np.datetime64) -> dict[str, Any]:
    try:
        stamp = pd.Timestamp(v)
    except (ValueError, OverflowError):  # beyond even pandas' coarsest range
        raise _Refused(
            f"{short_repr(v)} is outside the dates pandas can represent; pass it as a str"
        ) from None
    if stamp.year < 1:
        raise _Refused(f"{short_repr(v)} is before the year 1; pass it as a str")
    return _datetime_wire(stamp)


def _duration(v: Any) -> _Refused:
    return _Refused(
        f"{short_repr(v)} is a duration, and DynamoDB has no duration type; store a number "
        "(td.total_seconds(), or df[col].dt.total_seconds() for a column) or a string "
        "(td.isoformat())"
    )


# ---------------------------------------------------------------------------
# The encoder
# ---------------------------------------------------------------------------


def _encode(v: Any, top: bool) -> dict[str, Any] | None:  # noqa: C901, PLR0911, PLR0912 - one dispatch table
    """``v`` -> wire form; a missing ``v`` -> None at the top, NULL inside containers."""
    t = type(v)
    # The common exact types first (the hot path of object columns).
    if t is str:
        return {"S": v}
    if t is int:
        return {"N": _int_text(v)}
    if t is float:
        if v != v:
            return None if top else {"NULL": True}
        return {"N": _float_text(v)}
    if t is bool:
        return {"BOOL": v}
    if t is dict:
        return _encode_map(v)
    if t is list or t is tuple:
        return _encode_list(v)
    if v is None or v is pd.NA or v is pd.NaT:
        return None if top else {"NULL": True}
    if isinstance(v, (bool, np.bool_)):
        return {"BOOL": bool(v)}
    # numpy's datetime64 / timedelta64 are numpy integers: before Integral.
    if isinstance(v, np.datetime64):
        if np.isnat(v):
            return None if top else {"NULL": True}
        return _datetime64_wire(v)
    if isinstance(v, np.timedelta64):
        if np.isnat(v):
            return None if top else {"NULL": True}
        raise _duration(v)
    if isinstance(v, _dt.datetime):  # pandas.Timestamp too
        return _datetime_wire(v)
    if isinstance(v, numbers.Integral):  # numpy integers, int subclasses
        return {"N": _int_text(int(v))}
    if isinstance(v, Decimal):
        text = _decimal_text(v)
        if text is None:
            return None if top else {"NULL": True}
        return {"N": text}
    if isinstance(v, np.floating):
        f = float(v)
        if f != f:
            return None if top else {"NULL": True}
        # numpy's shortest text for its own precision (float32(0.1) -> "0.1").
        return {"N": _float_text(f, None if t is np.float64 else str(v))}
    if isinstance(v, numbers.Real):  # float subclasses, Fraction
        f = float(v)
        if f != f:
            return None if top else {"NULL": True}
        return {"N": _float_text(f)}
    if isinstance(v, str):
        return {"S": str(v)}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"B": bytes(v)}
    if isinstance(v, Binary):
        # boto3-stubs declares Binary.__bytes__ as returning str; it returns the bytes.
        return {"B": bytes(v)}  # type: ignore[call-overload]
    if isinstance(v, _dt.timedelta):
        raise _duration(v)
    if isinstance(v, (_dt.date, _dt.time)):
        return {"S": v.isoformat()}
    if isinstance(v, Mapping):
        return _encode_map(v)
    if isinstance(v, (set, frozenset)):
        return _encode_set(v, top)
    if isinstance(v, np.ndarray):
        return _encode(v[()], top) if v.ndim == 0 else _encode_list(v)
    raise _Refused(
        f"values of type {type(v).__name__} cannot be stored in DynamoDB; accepted: {_ACCEPTED}"
    )


def _encode_map(v: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, item in v.items():
        if not isinstance(k, str):
            raise _Refused(f"map keys must be str, got {type(k).__name__} key {short_repr(k)}")
        try:
            out[k] = _encode(item, False)
        except _Refused as exc:
            exc.path.append(f"[{k!r}]")
            raise
    return {"M": out}


def _encode_list(v: Any) -> dict[str, Any]:
    values = []
    for i, item in enumerate(v):
        try:
            values.append(_encode(item, False))
        except _Refused as exc:
            exc.path.append(f"[{i}]")
            raise
    return {"L": values}


def _encode_set(v: set[Any] | frozenset[Any], top: bool) -> dict[str, Any] | None:
    if not v:
        return None if top else {"NULL": True}  # DynamoDB has no empty sets
    tags: set[str] = set()
    texts: list[Any] = []
    for member in v:
        wire = _encode(member, True)
        if wire is None:
            raise _Refused(
                f"a set cannot hold the missing value {short_repr(member)}: DynamoDB sets have "
                "no missing members; drop it from the set"
            )
        ((tag, text),) = wire.items()
        tags.add(tag)
        texts.append(text)
    if len(tags) != 1 or not tags <= KEY_TYPES:
        kinds = ", ".join(sorted({type(m).__name__ for m in v}))
        raise _Refused(
            "set members must all be str (or datetimes), all numbers or all bytes "
            f"(DynamoDB's SS, NS, BS); got {kinds}"
        )
    (tag,) = tags
    if tag == "N":  # one text per number DynamoDB considers equal, in numeric order
        by_value = {Decimal(text): text for text in texts}
        return {"NS": [by_value[d] for d in sorted(by_value)]}
    return {f"{tag}S": sorted(set(texts))}


def _missing_kind(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, (set, frozenset)):
        return "an empty set; DynamoDB has none"
    if value is pd.NA:
        return "pd.NA"
    if value is pd.NaT or isinstance(value, (np.datetime64, np.timedelta64)):
        return "NaT"
    return "NaN"


def is_missing(value: Any) -> bool:
    """Whether ``value`` is a missing value: left out of a written item.

    Parameters
    ----------
    value : Any
        Any value.

    Returns
    -------
    bool
        True for ``None``, NaN (float, numpy, ``Decimal``), ``pd.NA``,
        ``NaT`` and empty sets.

    Examples
    --------
    >>> [is_missing(v) for v in (None, float("nan"), pd.NaT, set(), 0, "")]
    [True, True, True, True, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (set, frozenset)):
        return not value
    if isinstance(value, (float, np.floating)):
        return bool(value != value)
    if isinstance(value, Decimal):
        return value.is_nan()
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return False


def to_attribute_value(value: Any, *, where: str = "value") -> dict[str, Any] | None:
    """Encode one value as a DynamoDB attribute value (low-level wire form).

    This is the rule ``write_frame`` applies to every cell, and that keys and
    conditions apply to their values (see the module's documentation for
    every type).

    Parameters
    ----------
    value : Any
        The value.
    where : str
        Where the value comes from, for messages (``"attribute 'total'"``).

    Returns
    -------
    dict or None
        The wire form, e.g. ``{"N": "0.1"}``; None when the value is missing
        (``None``, NaN, ``pd.NA``, ``NaT``, an empty set): an item leaves the
        attribute out. Inside lists and maps a missing value is ``NULL``.

    Raises
    ------
    InvalidArgumentError
        The value cannot be stored: infinity, a number beyond DynamoDB's
        range or 38 significant digits, a duration, a set mixing member
        types (or of booleans, or holding a missing value), a map with non-str
        keys, or an unsupported type. The message starts with ``where`` and
        the position inside the value (``"value['a'][1]: ..."``).

    Examples
    --------
    >>> to_attribute_value(0.1)
    {'N': '0.1'}
    >>> to_attribute_value(2**70)
    {'N': '1180591620717411303424'}
    >>> to_attribute_value({"tags": {"b", "a"}, "when": pd.Timestamp("2026-03-01")})
    {'M': {'tags': {'SS': ['a', 'b']}, 'when': {'S': '2026-03-01T00:00:00Z'}}}
    >>> to_attribute_value(float("nan")) is None
    True
    >>> to_attribute_value([None, 1])
    {'L': [{'NULL': True}, {'N': '1'}]}
    """
    try:
        return _encode(value, True)
    except _Refused as exc:
        raise InvalidArgumentError(exc.message(where)) from None
    except (TypeError, ValueError, ArithmeticError, OverflowError) as exc:
        raise InvalidArgumentError(
            f"{where}: {type(value).__name__} {short_repr(value)} cannot be converted "
            f"({type(exc).__name__}: {exc})"
        ) from exc


def to_condition_value(value: Any, *, where: str = "value") -> dict[str, Any]:
    """Encode a value compared in a condition (filter, key condition, sort tuple).

    Parameters
    ----------
    value : Any
        Anything :func:`to_attribute_value` encodes; ``None`` is ``NULL``.
    where : str
        Where the value is, for messages (``"filter on 'price'"``).

    Returns
    -------
    dict
        The wire form, exactly what :func:`to_attribute_value` gives.

    Raises
    ------
    InvalidArgumentError
        What :func:`to_attribute_value` refuses, and a missing value other
        than ``None`` (NaN, ``pd.NA``, ``NaT``, an empty set): a condition
        needs a value; ``Attr(name).not_exists()`` finds the items where
        ``write_frame`` left such a value out.

    Examples
    --------
    >>> to_condition_value(pd.Timestamp("2026-03-01"))
    {'S': '2026-03-01T00:00:00Z'}
    >>> to_condition_value(None)
    {'NULL': True}
    """
    if value is None:
        return {"NULL": True}
    wire = to_attribute_value(value, where=where)
    if wire is None:
        raise InvalidArgumentError(
            f"{where}: {short_repr(value)} is a missing value ({_missing_kind(value)}), and a "
            "condition compares with a value; write_frame leaves missing values out, so "
            "use Attr(name).not_exists() to find those items (compare with None to match "
            "a stored NULL)"
        )
    return wire


def to_key_value(value: Any, *, where: str = "key value", empty_ok: bool = False) -> dict[str, Any]:
    """Encode a key attribute value: it must come out as ``S``, ``N`` or ``B``.

    Parameters
    ----------
    value : Any
        A str, a number, bytes, or a datetime / date (stored as ``S``).
    where : str
        Where the value is, for messages (``"key attribute 'pk'"``).
    empty_ok : bool
        Accept an empty str or bytes (a ``begins_with`` prefix, say); keys
        themselves cannot be empty.

    Returns
    -------
    dict
        ``{"S": ...}``, ``{"N": ...}`` or ``{"B": ...}``.

    Raises
    ------
    InvalidArgumentError
        A missing value, another type (bool, list, ...), an empty value, or a
        value :func:`to_attribute_value` refuses.

    Examples
    --------
    >>> to_key_value(_dt.date(2026, 3, 1))
    {'S': '2026-03-01'}
    """
    if value is not None and is_missing(value):
        raise InvalidArgumentError(
            f"{where}: {short_repr(value)} is a missing value ({_missing_kind(value)}); "
            f"{_KEY_ACCEPTED}"
        )
    wire: dict[str, Any] = {"L": []}  # containers: refused below, with the usual message
    if not isinstance(value, (list, tuple, Mapping, set, frozenset, np.ndarray)):
        wire = to_attribute_value(value, where=where) or {"NULL": True}
    tag = next(iter(wire))
    if tag not in KEY_TYPES:
        raise InvalidArgumentError(
            f"{where}: {_KEY_ACCEPTED}; got {type(value).__name__} {short_repr(value)}"
        )
    if not empty_ok and tag != "N" and not wire[tag]:
        raise InvalidArgumentError(
            f"{where}: key values cannot be empty strings or empty bytes"
        )
    return wire


def to_key(key: Mapping[str, Any], *, where: str = "key") -> dict[str, dict[str, Any]]:
    """Encode a primary key (or ``ExclusiveStartKey``).

    Parameters
    ----------
    key : Mapping[str, Any]
        Attribute name -> value; each value as :func:`to_key_value` takes it.
    where : str
        For messages.

    Returns
    -------
    dict
        Attribute name -> wire value.

    Raises
    ------
    InvalidArgumentError
        ``key`` is not a non-empty mapping with non-empty str names, or a
        value is refused by :func:`to_key_value`.

    Examples
    --------
    >>> to_key({"pk": "a", "sk": pd.Timestamp("2026-03-01 12:00")})
    {'pk': {'S': 'a'}, 'sk': {'S': '2026-03-01T12:00:00Z'}}
    """
    if not isinstance(key, Mapping) or not key:
        raise InvalidArgumentError(
            f"{where} must be a non-empty dict of attribute name -> value, like "
            f"{{'pk': 'a', 'sk': 3}}; got {short_repr(key)}"
        )
    out: dict[str, dict[str, Any]] = {}
    for name, value in key.items():
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"{where} attribute names must be non-empty str; got {short_repr(name)}"
            )
        out[name] = to_key_value(value, where=f"{where} attribute {name!r}")
    return out


def to_item(item: Mapping[str, Any], *, where: str = "item") -> dict[str, dict[str, Any]]:
    """Encode a whole item, as ``write_frame`` encodes a row.

    Parameters
    ----------
    item : Mapping[str, Any]
        Attribute name -> value.
    where : str
        For messages.

    Returns
    -------
    dict
        Attribute name -> wire value; missing values are left out.

    Raises
    ------
    InvalidArgumentError
        A name that is not a non-empty str, or a value
        :func:`to_attribute_value` refuses.

    Examples
    --------
    >>> to_item({"pk": "a", "n": float("nan"), "tags": {"x"}})
    {'pk': {'S': 'a'}, 'tags': {'SS': ['x']}}
    """
    if not isinstance(item, Mapping):
        raise InvalidArgumentError(
            f"{where} must be a dict of attribute name -> value; got {type(item).__name__}"
        )
    out: dict[str, dict[str, Any]] = {}
    for name, value in item.items():
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"{where}: attribute names must be non-empty str; got {short_repr(name)}"
            )
        wire = to_attribute_value(value, where=f"{where} attribute {name!r}")
        if wire is not None:
            out[name] = wire
    return out
