"""Datetimes in sort conditions, filters and frames, in the format the table stores.

A table stores times in a form of its own: ISO 8601 text with ``Z``
(``"2026-03-05T19:55:00Z"``, perhaps with ``.123`` or ``.123456``), ISO
text with a fixed offset (``"2026-03-05T21:55:00+02:00"``), dates
(``"2026-03-05"``), or numbers of seconds or milliseconds since 1970 (N).
``sort=`` and ``filter=`` take ``datetime`` / ``date`` / ``pd.Timestamp`` /
``numpy.datetime64`` values, and this module writes them the way the
compared attribute is stored, so that a range of Python datetimes selects
exactly the items whose times fall in it.

The format
----------
``time_format=`` names it: ``"iso-z"``, ``"iso-z.3"`` (three fractional
digits; ``.6``, ``.9`` likewise), ``"iso-offset+02:00"`` (``"iso-offset"``
alone is ``+00:00``; ``"iso-offset.3+02:00"``), ``"iso"`` (no zone suffix,
taken as UTC), ``"date"``, ``"epoch-s"``, ``"epoch-ms"``, any ``strftime``
pattern (it contains ``%``), or a dict ``{attribute: format}``. Without it
the format is *detected*, and only when a condition holds a datetime: a
Query of the same partition (``Limit=3``, projecting the sort key; on the
index when reading one), or else a small Scan projecting the attribute
(``Limit=3`` for key attributes; for another attribute up to four pages of
``Limit=25`` with ``attribute_exists``). Those requests go through the
request engine and count in none of the frame's statistics; detections are
cached per session, table, index and attribute. N values are seconds below
``1e11`` and milliseconds from there to ``1e14``; values below ``1e8``
(before 1973) are not taken for times. When there is nothing to sample (an
empty table, an attribute none of the sampled items has) the package's
default is used: ``"default"``, ISO 8601 with ``Z`` as ``write_frame``
writes it without a format (six fractional digits, only when not zero), for
strings; epoch seconds for an N key. Sampled ISO-Z values with and without
six (or nine) fractional digits are that same ``"default"`` form. The format used is in
``df.attrs["time_format"]`` (``{attribute: name}``, a name ``time_format=``
accepts).

Bounds
------
A naive datetime is UTC; an aware one is converted; a ``date`` is its
midnight UTC. A bound finer than the stored resolution (a datetime with
microseconds against whole seconds) is moved onto the stored grid so that
the result is the mathematical comparison: ``> t`` and ``>= t`` become
``>= ceil(t)``, ``< t`` and ``<= t`` become ``<= floor(t)``, ``between a
and b`` becomes ``between ceil(a) and floor(b)``; equality with such a
bound matches nothing. N values are compared as exact decimals
(``1772740500.5``). ``begins_with`` takes a ``date`` on a string attribute
(its ``"YYYY-MM-DD"`` prefix) and never a datetime or an N attribute.

>>> fmt = TimeFormat.named("iso-z.3")
>>> fmt.text(to_ns(_dt.datetime(2026, 3, 5, 19, 55, 0, 250000)))
'2026-03-05T19:55:00.250Z'
>>> TimeFormat.named("epoch-ms").value(to_ns(_dt.date(2026, 3, 5)))
1772668800000
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
from boto3.dynamodb.conditions import (
    And,
    AttributeBase,
    BeginsWith,
    Between,
    ConditionBase,
    Equals,
    GreaterThan,
    GreaterThanEquals,
    In,
    LessThan,
    LessThanEquals,
    Not,
    NotEquals,
    Or,
    Size,
)

from ._encode import short_repr, to_attribute_value, to_key_value
from ._engine import ReadStats, dynamodb_client, request
from ._errors import AccessDeniedError, InvalidArgumentError
from ._expressions import build_expressions, key_condition, sort_condition

__all__ = [
    "TimeContext",
    "TimeFormat",
    "check_time_args",
    "detect_format",
    "encode_time_cells",
    "is_time_like",
    "key_time_formats",
    "to_ns",
]

_UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1)
_NS = 10**9
_DAY_NS = 86400 * _NS
_NAMES = ("iso-z", "iso-offset", "iso", "date", "epoch-s", "epoch-ms", "default")
_FORMS = (
    "time_format is one of 'iso-z' (2026-03-05T19:55:00Z; 'iso-z.3' / 'iso-z.6' / 'iso-z.9' "
    "for 3, 6 or 9 fractional digits), 'iso-offset+02:00' (2026-03-05T21:55:00+02:00; "
    "'iso-offset' alone is +00:00; 'iso-offset.3+02:00' with digits), 'iso' (no zone, UTC; "
    "'iso.3' ...), "
    "'date' (2026-03-05), 'epoch-s' and 'epoch-ms' (N), 'default' (as write_frame writes "
    "without a format: ISO-Z, six fractional digits only when not zero), a strftime "
    "pattern containing '%' "
    "(e.g. '%Y/%m/%d %H:%M'), or a dict {attribute: one of those}"
)
_NAME_RE = re.compile(r"^iso(?:-(z|offset))?(?:\.(\d))?([+-]\d\d:?\d\d)?$")
_ISO_RE = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?)?$"
)
#: What ``parse_dates=True`` takes for an ISO 8601 date or datetime.
_ISO_LOOKING = (
    r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:?\d\d)?)?"
)
#: N values: seconds below this, milliseconds from it (1e11 s is the year 5138).
_MS_FROM = 10**11
_TOO_LARGE = 10**14
_TOO_SMALL = 10**8  # 1973-03-03: smaller numbers are not taken for times


# ---------------------------------------------------------------------------
# Instants as integer nanoseconds since 1970 (any year 1-9999)
# ---------------------------------------------------------------------------


def is_time_like(value: Any) -> bool:
    """Whether ``value`` is a datetime, a date, a ``pd.Timestamp`` or a ``numpy.datetime64``.

    >>> is_time_like(pd.Timestamp("2026-03-05")), is_time_like("2026-03-05"), is_time_like(pd.NaT)
    (True, False, False)
    """
    if value is pd.NaT:
        return False
    if isinstance(value, np.datetime64):
        return not np.isnat(value)
    return isinstance(value, _dt.date)


def to_ns(value: Any) -> int:
    """Nanoseconds since 1970-01-01 UTC of a datetime-like value (naive = UTC; date = midnight).

    >>> to_ns(_dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=_dt.timezone(_dt.timedelta(hours=1))))
    -3599000000000
    """
    if isinstance(value, np.datetime64):
        unit, count = np.datetime_data(value.dtype)
        if unit in ("Y", "M", "W", "D", "h", "m"):
            value = value.astype("datetime64[s]")
            unit, count = "s", 1
        factor = {"s": _NS, "ms": 10**6, "us": 10**3, "ns": 1}.get(unit)
        if factor is None:  # ps, fs, as: finer than anything stored
            return int(value.astype("datetime64[ns]").astype(np.int64))
        return int(value.astype(np.int64)) * factor * count
    if isinstance(value, _dt.datetime):
        nanos = value.nanosecond if isinstance(value, pd.Timestamp) else 0
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(_UTC).replace(tzinfo=None)
        else:
            value = value.replace(tzinfo=None)
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime(warn=False)
        return ((value - _EPOCH) // _dt.timedelta(microseconds=1)) * 1000 + nanos
    if isinstance(value, _dt.date):
        return (value - _EPOCH.date()).days * _DAY_NS
    raise TypeError(f"not a time: {value!r}")


def _civil(ns: int) -> tuple[_dt.datetime, int]:
    """(naive datetime to the second, nanoseconds within the second)."""
    seconds, frac = divmod(ns, _NS)
    try:
        return _EPOCH + _dt.timedelta(seconds=seconds), frac
    except OverflowError:
        raise InvalidArgumentError(
            f"a time {seconds} seconds from 1970 is beyond the years 1-9999 a stored time holds"
        ) from None


def _ceil(ns: int, grid: int) -> int:
    return -((-ns) // grid) * grid


# ---------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeFormat:
    """How one attribute stores times.

    ``kind`` is ``"iso-z"``, ``"iso-offset"``, ``"iso"`` (no zone suffix),
    ``"date"``, ``"epoch-s"``, ``"epoch-ms"`` or ``"strftime"``; ``digits``
    the fractional digits of ISO text; ``offset`` the minutes east of UTC of
    ``"iso-offset"`` (written with a colon unless ``colon`` is False);
    ``pattern`` the strftime pattern. ``fallback`` marks a format chosen
    because there was nothing to sample.
    """

    kind: str
    digits: int = 0
    offset: int = 0
    colon: bool = True
    pattern: str = ""
    fallback: bool = False

    # -- names -------------------------------------------------------------------------

    @classmethod
    def named(cls, name: Any) -> TimeFormat:
        """Return the format of a ``time_format=`` name (see the module's documentation)."""
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"time_format={name!r} is not understood; {_FORMS}.")
        if "%" in name:
            return cls("strftime", pattern=name)
        if name in ("date", "epoch-s", "epoch-ms", "default"):
            return cls(name)
        match = _NAME_RE.match(name)
        if match is None or (match.group(1) != "offset" and match.group(3)):
            raise InvalidArgumentError(f"time_format={name!r} is not understood; {_FORMS}.")
        digits = int(match.group(2) or 0)
        if match.group(1) is None:
            return cls("iso", digits=digits)
        if match.group(1) == "z":
            return cls("iso-z", digits=digits)
        offset, colon = _parse_offset(match.group(3) or "+00:00")
        if abs(offset) >= 24 * 60:
            raise InvalidArgumentError(f"time_format={name!r}: the offset must be below 24 hours.")
        return cls("iso-offset", digits=digits, offset=offset, colon=colon)

    @property
    def name(self) -> str:
        """The ``time_format=`` name of this format.

        >>> TimeFormat("iso-offset", digits=3, offset=120).name
        'iso-offset.3+02:00'
        """
        if self.kind == "strftime":
            return self.pattern
        if self.kind in ("iso-z", "iso-offset", "iso"):
            out = self.kind + (f".{self.digits}" if self.digits else "")
            return out + (self._zone() if self.kind == "iso-offset" else "")
        return self.kind

    @property
    def is_number(self) -> bool:
        return self.kind in ("epoch-s", "epoch-ms")

    @property
    def unit(self) -> int:
        """Nanoseconds per stored unit of an epoch format."""
        return _NS if self.kind == "epoch-s" else 10**6

    def _zone(self) -> str:
        if self.kind == "iso-z":
            return "Z"
        if self.kind != "iso-offset":
            return ""
        sign = "-" if self.offset < 0 else "+"
        hours, minutes = divmod(abs(self.offset), 60)
        return f"{sign}{hours:02d}{':' if self.colon else ''}{minutes:02d}"

    # -- the grid ----------------------------------------------------------------------

    @property
    def grid(self) -> int | None:
        """The stored resolution in nanoseconds; None when values are compared exactly (N)."""
        if self.is_number or self.kind == "default":
            return None
        if self.kind == "date":
            return _DAY_NS
        if self.kind == "strftime":
            return _pattern_grid(self.pattern)
        return 10 ** (9 - self.digits)

    def floor(self, ns: int) -> int:
        grid = self.grid
        if grid is None:
            return ns
        if self.kind == "strftime":
            return to_ns(self.parse_text(self.text(ns)))
        return ns - ns % grid

    def ceil(self, ns: int) -> int:
        down = self.floor(ns)
        if down == ns or self.grid is None:
            return ns
        if self.kind == "strftime" and self.grid is not None and self.grid > _DAY_NS:
            raise InvalidArgumentError(
                f"a bound between two values of time_format={self.pattern!r} (months or years) "
                "cannot be moved onto its grid; pass a bound the format holds exactly"
            )
        return down + int(self.grid or 0)

    def on_grid(self, ns: int) -> bool:
        return self.floor(ns) == ns

    def fine(self) -> TimeFormat:
        """Return this format with nine fractional digits (equal to no value off the grid)."""
        if self.kind in ("iso-z", "iso-offset", "iso"):
            return TimeFormat(self.kind, digits=9, offset=self.offset, colon=self.colon)
        if self.kind == "date":
            return TimeFormat("iso-z", digits=9)
        if self.kind == "strftime":
            raise InvalidArgumentError(
                f"a time between two values of time_format={self.pattern!r} cannot be compared "
                "for equality (it equals none of them); round it to the format's resolution"
            )
        return self

    # -- values ------------------------------------------------------------------------

    def text(self, ns: int) -> str:
        """Return the stored text of ``ns`` (string formats; cut to the format's digits)."""
        if self.kind == "strftime":
            civil, frac = _civil(ns)
            return (civil + _dt.timedelta(microseconds=frac // 1000)).replace(
                tzinfo=_UTC).strftime(self.pattern)
        if self.kind == "default":  # the one encoder's form
            digits = 0 if not ns % _NS else 6 if not ns % 1000 else 9
            return TimeFormat("iso-z", digits=digits).text(ns)
        civil, frac = _civil(ns + self.offset * 60 * _NS)
        day = f"{civil.year:04d}-{civil.month:02d}-{civil.day:02d}"
        if self.kind == "date":
            return day
        out = f"{day}T{civil.hour:02d}:{civil.minute:02d}:{civil.second:02d}"
        if self.digits:
            out += "." + f"{frac:09d}"[: self.digits]
        return out + self._zone()

    def value(self, ns: int) -> Any:
        """Return the stored value of ``ns``: a str, or for N an int (``Decimal`` if fractional)."""
        if not self.is_number:
            return self.text(ns)
        whole, rest = divmod(ns, self.unit)
        if not rest:
            return whole
        return Decimal(ns) / Decimal(self.unit)

    def wire(self, ns: int) -> dict[str, Any]:
        value = self.value(ns)
        return to_key_value(value) if not isinstance(value, str) else {"S": value}

    def parse_text(self, text: str) -> _dt.datetime:
        """Parse a strftime format's text into an aware datetime (naive text is UTC)."""
        parsed = _dt.datetime.strptime(text, self.pattern)
        return parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed


def _parse_offset(text: str) -> tuple[int, bool]:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:])), ":" in text


def _pattern_grid(pattern: str) -> int:
    directives = set(re.findall(r"%([a-zA-Z])", pattern))
    for letters, grid in (("f", 1000), ("STcXs", _NS), ("MR", 60 * _NS), ("HIp", 3600 * _NS),
                          ("dejaAuwxDF", _DAY_NS), ("UWV", 7 * _DAY_NS), ("mbBh", 28 * _DAY_NS)):
        if directives & set(letters):
            return grid
    return 365 * _DAY_NS


def check_time_args(time_format: Any, parse_dates: Any) -> None:
    """Check ``time_format=`` and ``parse_dates=`` before anything is sent.

    >>> check_time_args("epoch-ms", ["created"])
    >>> check_time_args("unix", None)
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: time_format='unix' is not understood; ...
    """
    if time_format is not None:
        if isinstance(time_format, Mapping):
            if not time_format:
                raise InvalidArgumentError(f"time_format={{}} names no attribute; {_FORMS}.")
            for attribute, name in time_format.items():
                if not isinstance(attribute, str) or not attribute:
                    raise InvalidArgumentError(
                        f"time_format: attribute names must be non-empty str; got {attribute!r}"
                    )
                TimeFormat.named(name)
        else:
            TimeFormat.named(time_format)
    if parse_dates is None or isinstance(parse_dates, bool):
        return
    names = [parse_dates] if isinstance(parse_dates, str) else parse_dates
    if isinstance(names, (list, tuple)) and names and all(
        isinstance(n, str) and n for n in names
    ):
        return
    raise InvalidArgumentError(
        f"parse_dates={short_repr(parse_dates)} is not understood: pass a column name, a list "
        "of column names, True (the sort key and every ISO-8601 string column) or None."
    )


# ---------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------


def _format_of_text(text: str) -> TimeFormat | None:
    match = _ISO_RE.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    try:
        _dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                     min(int(second or 0), 59))
    except ValueError:
        return None
    if hour is None:
        return TimeFormat("date")
    digits = len(frac or "")
    if zone is None:
        return TimeFormat("iso", digits=digits)
    if zone == "Z":
        return TimeFormat("iso-z", digits=digits)
    offset, colon = _parse_offset(zone)
    if abs(offset) >= 24 * 60:
        return None
    return TimeFormat("iso-offset", digits=digits, offset=offset, colon=colon)


def _format_of_number(text: str) -> TimeFormat | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or not _TOO_SMALL <= abs(number) < _TOO_LARGE:
        return None
    return TimeFormat("epoch-ms" if abs(number) >= _MS_FROM else "epoch-s")


def format_of_values(values: list[dict[str, Any]], attribute: str, table: str) -> TimeFormat:
    """Return the format of sampled wire values; refuse values that are not times.

    >>> format_of_values([{"S": "2026-03-05T19:55:00.123Z"}, {"S": "2026-03-05T20:00:00.5Z"}],
    ...                  "ts", "T").name
    'iso-z.3'
    >>> format_of_values([{"N": "1772740500123"}], "ts", "T").name
    'epoch-ms'
    >>> format_of_values([{"S": "C-0001"}], "customer_id", "T")
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: 'customer_id' of table 'T' does not hold times: ...
    """
    found: list[TimeFormat] = []
    for wire in values:
        ((tag, raw),) = wire.items()
        fmt = (_format_of_text(raw) if tag == "S" and isinstance(raw, str) else
               _format_of_number(str(raw)) if tag == "N" else None)
        if fmt is None:
            shown = short_repr(raw if tag in ("S", "N") else wire, 40)
            raise InvalidArgumentError(
                f"{attribute!r} of table {table!r} does not hold times: a stored value is "
                f"{shown}, which is neither ISO 8601 text (2026-03-05T19:55:00Z, "
                "2026-03-05T19:55:00+02:00, 2026-03-05) nor epoch seconds / milliseconds "
                f"(N). Compare it with values of its own kind (str / numbers), or pass "
                "time_format= (a strftime pattern such as 'ORDER#%Y-%m-%dT%H:%M:%SZ', "
                "'epoch-s', ...) if it holds times in another form."
            )
        found.append(fmt)
    first = found[0]
    same = [f for f in found if (f.kind, f.offset) == (first.kind, first.offset)]
    digits = max(f.digits for f in same)
    if first.kind == "iso-z" and digits in (6, 9) and min(f.digits for f in same) == 0:
        return TimeFormat("default")  # write_frame's own: fractions only when not zero
    return TimeFormat(first.kind, digits=digits, offset=first.offset, colon=first.colon)


_detected: weakref.WeakKeyDictionary[Any, dict[tuple[str, str | None, str], TimeFormat]] = (
    weakref.WeakKeyDictionary()
)
_detected_lock = threading.Lock()


def _cached(session: Any, key: tuple[str, str | None, str]) -> TimeFormat | None:
    with _detected_lock:
        try:
            return _detected.get(session, {}).get(key)
        except TypeError:  # not weak-referenceable
            return None


def _remember(session: Any, key: tuple[str, str | None, str], fmt: TimeFormat) -> None:
    with _detected_lock, contextlib.suppress(TypeError):  # not weak-referenceable: no cache
        _detected.setdefault(session, {})[key] = fmt


def _sample_items(ddb: Any, call: Any, params: dict[str, Any], table: str, attribute: str,
                  pages: int) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = []
    for _ in range(pages):
        page = request(call, params, table=table, stats=ReadStats(),
                       what=f"Sampling {attribute!r} of {table!r} to learn its time format")
        items = page.get("Items") or []
        if hasattr(items, "loads"):
            items = items.loads()
        values += [item[attribute] for item in items
                   if isinstance(item, dict) and isinstance(item.get(attribute), dict)]
        start = page.get("LastEvaluatedKey")
        if values or not start:
            break
        params = dict(params, ExclusiveStartKey=start)
    return values


def _top_value(item: dict[str, Any], path: str) -> dict[str, Any] | None:
    """Return the wire value at a document path of a wire item (``a.b[0]``)."""
    current: Any = {"M": item}
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if name:
            current = (current.get("M") or {}).get(name) if isinstance(current, dict) else None
        else:
            seq = current.get("L") if isinstance(current, dict) else None
            current = seq[int(index)] if isinstance(seq, list) and int(index) < len(seq) else None
        if current is None:
            return None
    return current if isinstance(current, dict) else None


def detect_format(session: Any, ref: Any, attribute: str, *, index: str | None = None,
                  key_attribute: bool = False, attribute_type: str | None = None,
                  query: tuple[str, Any] | None = None) -> TimeFormat:
    """Detect how ``attribute`` stores times by sampling a few of its values (cached).

    ``query`` is ``(partition key name, value)`` to sample one partition
    first (``attribute`` is then its sort key); ``key_attribute`` says every
    item has the attribute (a Scan of ``Limit=3`` is then enough).
    """
    table = str(ref)
    cache_key = (table, index, attribute)
    known = _cached(session, cache_key)
    if known is not None:
        return known
    ddb = dynamodb_client(session)
    base: dict[str, Any] = {"TableName": ref.request_name}
    if index is not None:
        base["IndexName"] = index
    values: list[dict[str, Any]] = []
    if query is not None:
        part_name, part_value = query
        params = dict(base, Limit=3, **build_expressions(key=key_condition(part_name, part_value)))
        params["ProjectionExpression"] = "#tf"
        params["ExpressionAttributeNames"] = dict(params["ExpressionAttributeNames"],
                                                  **{"#tf": attribute})
        values = _sample_items(ddb, ddb.query, params, table, attribute, 1)
    if not values:
        if key_attribute:
            params = dict(base, Limit=3, ProjectionExpression="#tf",
                          ExpressionAttributeNames={"#tf": attribute})
            pages = 1
        else:
            from boto3.dynamodb.conditions import Attr

            params = dict(base, Limit=25, **build_expressions(
                filter=Attr(attribute).exists(), columns=[attribute]))
            pages = 4
        try:
            if key_attribute:
                values = _sample_items(ddb, ddb.scan, params, table, attribute, pages)
            else:
                values = _sample_paths(ddb, params, table, attribute, pages)
        except AccessDeniedError:
            if query is None:
                raise
            values = []  # the partition is empty: whatever is sent, the answer is empty
    if not values:
        return TimeFormat("epoch-s" if attribute_type == "N" else "default", fallback=True)
    fmt = format_of_values(values[:3], attribute, table)
    _remember(session, cache_key, fmt)
    return fmt


def _sample_paths(ddb: Any, params: dict[str, Any], table: str, attribute: str,
                  pages: int) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = []
    for _ in range(pages):
        page = request(ddb.scan, params, table=table, stats=ReadStats(),
                       what=f"Sampling {attribute!r} of {table!r} to learn its time format")
        items = page.get("Items") or []
        if hasattr(items, "loads"):
            items = items.loads()
        values += [v for v in (_top_value(item, attribute) for item in items) if v is not None]
        start = page.get("LastEvaluatedKey")
        if values or not start:
            break
        params = dict(params, ExclusiveStartKey=start)
    return values


# ---------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------

_COMPARISONS = (Equals, NotEquals, LessThan, LessThanEquals, GreaterThan, GreaterThanEquals,
                In, Between, BeginsWith)


def _compared(condition: Any, out: set[str]) -> None:
    """Collect the attributes compared with a datetime-like value in ``condition``."""
    if not isinstance(condition, ConditionBase):
        return
    values = condition.get_expression()["values"]
    if isinstance(condition, (And, Or, Not)):
        for part in values:
            _compared(part, out)
        return
    if not isinstance(condition, _COMPARISONS) or not values:
        return
    attribute = values[0]
    if not isinstance(attribute, AttributeBase) or isinstance(attribute, Size):
        return
    operands = list(values[1:])
    if isinstance(condition, In) and operands and isinstance(operands[0], (list, tuple, set)):
        operands = list(operands[0])
    if any(is_time_like(v) for v in operands):
        out.add(attribute.name)


class TimeContext:
    """How one read turns Python datetimes into key values and back.

    Parameters
    ----------
    session, ref, schema
        The read's session, table and key schema (``schema`` may be None
        for a Scan by a role without DescribeTable).
    index
        The index read, if any.
    time_format
        The user's ``time_format=`` (None: detect from the key's values).
    parse_dates
        The user's ``parse_dates=``.
    partition
        For a Query: the partition value, to sample the sort key's format from.

    Examples
    --------
    >>> from xacct_nb._schema import key_schema_for, parse_table
    >>> ref = parse_table("MyCrossAccountTable")
    >>> times = TimeContext(session, ref, key_schema_for(session, ref), partition="C-0001")
    >>> times.sort_condition("order_ts", (">", _dt.datetime(2026, 3, 5, 19, 54, 59, 500000)))
    <boto3.dynamodb.conditions.GreaterThanEquals object at ...>
    >>> times.formats
    {'order_ts': 'iso-z'}
    """

    def __init__(self, session: Any, ref: Any, schema: Any, *, index: str | None = None,
                 time_format: Any = None, parse_dates: Any = None,
                 partition: Any = None) -> None:
        self.session = session
        self.ref = ref
        self.schema = schema
        self.index = index
        self.time_format = time_format
        self.parse_dates = parse_dates
        self.partition = partition
        self._used: dict[str, TimeFormat] = {}

    # -- keys of the read ----------------------------------------------------------------

    def _keys(self) -> tuple[str | None, str | None]:
        """(partition, sort) attribute names of the table or index read."""
        if self.schema is None:
            return None, None
        try:
            part, sort, _ = self.schema.for_index(self.index, str(self.ref))
        except InvalidArgumentError:
            return None, None
        return part, sort

    def _given(self, attribute: str) -> TimeFormat | None:
        if self.time_format is None:
            return None
        if isinstance(self.time_format, Mapping):
            name = self.time_format.get(attribute)
            return None if name is None else TimeFormat.named(name)
        return TimeFormat.named(self.time_format)

    def format_for(self, attribute: str) -> TimeFormat:
        """Return the format of ``attribute``: given, cached, or detected now."""
        fmt = self._given(attribute)
        if fmt is None:
            part, sort = self._keys()
            types = getattr(self.schema, "attribute_types", {}) or {}
            key_names = set(getattr(self.schema, "key_names", ()) or ()) | {part, sort}
            query = None
            if attribute == sort and part is not None and self.partition is not None:
                value = self.partition
                if isinstance(value, (list, tuple)):
                    value = value[0] if value else None
                if value is not None and not is_time_like(value):
                    query = (part, value)
            fmt = detect_format(self.session, self.ref, attribute, index=self.index,
                                key_attribute=attribute in key_names,
                                attribute_type=types.get(attribute), query=query)
        self._used[attribute] = fmt
        return fmt

    @property
    def formats(self) -> dict[str, str]:
        """``{attribute: format name}`` of the formats used so far (``df.attrs["time_format"]``)."""
        return {name: fmt.name for name, fmt in self._used.items()}

    # -- conditions ----------------------------------------------------------------------

    def sort_condition(self, sort_name: str | None, sort: Any) -> Any:
        """Return ``sort`` with datetime values encoded as the table stores ``sort_name``."""
        if sort is None or sort_name is None:
            return sort
        if isinstance(sort, ConditionBase):
            found: set[str] = set()
            _compared(sort, found)
            if not found:
                return sort
        else:
            if isinstance(sort, list):
                return sort  # the expression builder explains the tuple forms
            values = (sort[1:] if sort and isinstance(sort[0], str) else ()) if isinstance(
                sort, tuple) else (sort,)
            if not any(is_time_like(v) for v in values):
                return sort
        condition = sort_condition(sort_name, sort)  # validates (raises) before any request
        if condition is None:  # pragma: no cover - sort is not None
            return sort
        return self._rewrite(condition)

    def filter_condition(self, filter: Any) -> Any:  # noqa: A002 - the documented name
        """Return ``filter`` with datetime values encoded as the table stores them."""
        if not isinstance(filter, ConditionBase):
            return filter
        found: set[str] = set()
        _compared(filter, found)
        if not found:
            return filter
        build_expressions(filter=filter)  # validates (raises) before any request
        return self._rewrite(filter)

    def _rewrite(self, condition: ConditionBase) -> ConditionBase:
        values = list(condition.get_expression()["values"])
        if isinstance(condition, (And, Or, Not)):
            return type(condition)(*[self._rewrite(v) if isinstance(v, ConditionBase) else v
                                     for v in values])
        if not isinstance(condition, _COMPARISONS) or not values:
            return condition
        attribute = values[0]
        if not isinstance(attribute, AttributeBase) or isinstance(attribute, Size):
            return condition
        operands = values[1:]
        listed = isinstance(condition, In)
        items = list(operands[0]) if listed and operands else list(operands)
        if not any(is_time_like(v) for v in items):
            return condition
        fmt = self.format_for(attribute.name)
        where = f"condition on {attribute.name!r}"
        if isinstance(condition, BeginsWith):
            return BeginsWith(attribute, self._prefix(fmt, items[0], attribute.name))
        if listed:
            return In(attribute, [self._exact(fmt, v) for v in items])
        if isinstance(condition, (Equals, NotEquals)):
            return type(condition)(attribute, self._exact(fmt, items[0]))
        if isinstance(condition, Between):
            low, high = items
            if fmt.grid is None or not (is_time_like(low) or is_time_like(high)):
                return Between(attribute, self._exact(fmt, low), self._exact(fmt, high))
            low_ns = fmt.ceil(to_ns(low)) if is_time_like(low) else None
            high_ns = fmt.floor(to_ns(high)) if is_time_like(high) else None
            if low_ns is not None and high_ns is not None and low_ns > high_ns:
                # Nothing stored lies in [low, high]: bounds finer than any stored value.
                fine = fmt.fine()
                return Between(attribute, fine.value(to_ns(low)), fine.value(to_ns(high)))
            return Between(attribute,
                           low if low_ns is None else fmt.value(low_ns),
                           high if high_ns is None else fmt.value(high_ns))
        (bound,) = items
        ns = to_ns(bound)
        if fmt.grid is None:
            return type(condition)(attribute, fmt.value(ns))
        if isinstance(condition, (GreaterThan, GreaterThanEquals)):
            up = fmt.ceil(ns)
            keep = isinstance(condition, GreaterThan) and up == ns
            return (GreaterThan if keep else GreaterThanEquals)(attribute, fmt.value(up))
        if isinstance(condition, (LessThan, LessThanEquals)):
            down = fmt.floor(ns)
            keep = isinstance(condition, LessThan) and down == ns
            return (LessThan if keep else LessThanEquals)(attribute, fmt.value(down))
        raise InvalidArgumentError(f"{where}: cannot compare with a time")  # pragma: no cover

    @staticmethod
    def _exact(fmt: TimeFormat, value: Any) -> Any:
        """Return an equality operand: on the grid its stored value, else a value equal to none."""
        if not is_time_like(value):
            return value
        ns = to_ns(value)
        if fmt.grid is None or fmt.on_grid(ns):
            return fmt.value(ns)
        return fmt.fine().value(ns)

    def _prefix(self, fmt: TimeFormat, value: Any, attribute: str) -> Any:
        if not is_time_like(value):
            return value
        if fmt.is_number:
            raise InvalidArgumentError(
                f"begins_with on {attribute!r} of {str(self.ref)!r}: the attribute holds times "
                f"as numbers ({fmt.name}), which have no prefix; use a range instead, e.g. "
                "('between', day_start, day_end)"
            )
        if isinstance(value, (_dt.datetime, np.datetime64)):
            raise InvalidArgumentError(
                f"begins_with on {attribute!r} takes a date (its 'YYYY-MM-DD' prefix) or a str "
                f"prefix; got the datetime {short_repr(value)}. Use a range for times, e.g. "
                "('between', start, end)"
            )
        if fmt.kind == "strftime" and not fmt.pattern.startswith("%Y-%m-%d"):
            raise InvalidArgumentError(
                f"begins_with on {attribute!r}: its values ({fmt.pattern!r}) do not start with "
                "the date; pass a str prefix in that form"
            )
        return value.isoformat()

    # -- frames --------------------------------------------------------------------------

    def parse(self, frames: pd.DataFrame | Iterator[pd.DataFrame]) -> Any:
        """Apply ``parse_dates=`` to a frame or to every frame of an iterator."""
        if isinstance(frames, pd.DataFrame):
            return self._parse_frame(frames, single=True)
        if not self.parse_dates and not self._used:
            return frames
        return (self._parse_frame(frame, single=False) for frame in frames)

    def _parse_frame(self, df: pd.DataFrame, *, single: bool) -> pd.DataFrame:
        wanted = self.parse_dates
        if not self._used and (wanted is None or wanted is False):
            return df
        df = df.copy(deep=False)  # a frame the result cache holds stays as it is
        if self._used:
            df.attrs["time_format"] = self.formats
        if wanted is None or wanted is False:
            return df
        _, sort = self._keys()
        if wanted is True:
            targets: list[str] = []
            if sort is not None and sort in df.columns:
                fmt = self._column_format(sort, df[sort])
                if fmt is not None:
                    df[sort] = parse_column(df[sort], sort, fmt)
                    targets.append(sort)
            for name in df.columns:
                if name in targets or not isinstance(name, str):
                    continue
                column = df[name]
                if iso_looking(column):
                    try:
                        df[name] = parse_column(column, name, None)
                    except InvalidArgumentError:
                        continue
            return df
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        for name in names:
            if name not in df.columns:
                if single and len(df):
                    raise InvalidArgumentError(
                        f"parse_dates names {name!r}, which is not a column of the frame "
                        f"(columns: {', '.join(map(str, list(df.columns)[:12]))})."
                    )
                continue
            fmt = self._given(name) or self._used.get(name)
            if fmt is None and name == sort:
                fmt = self._column_format(name, df[name], strict=False)
            df[name] = parse_column(df[name], name, fmt)
        return df

    def _column_format(self, name: str, column: pd.Series, *, strict: bool = False) -> Any:
        """Return the format of the sort key's column: given, used, or read from its values."""
        fmt = self._given(name) or self._used.get(name)
        if fmt is not None:
            return fmt
        sample: list[dict[str, Any]] = []
        for value in column.dropna().head(3).tolist():
            wire = to_attribute_value(value)
            if wire is not None:
                sample.append(wire)
        if not sample:
            return None
        try:
            return format_of_values(sample, name, str(self.ref))
        except InvalidArgumentError:
            if strict:
                raise
            return None


def iso_looking(column: pd.Series) -> bool:
    dtype = column.dtype
    is_object = isinstance(dtype, np.dtype) and dtype.kind == "O"
    if not (is_object or isinstance(dtype, pd.StringDtype)):
        return False
    present = column.dropna()
    if present.empty:
        return False
    if is_object and not all(isinstance(v, str) for v in present.tolist()):
        return False
    return bool(present.astype(str).str.fullmatch(_ISO_LOOKING).all())


def _failing_value(values: list[Any], convert: Any) -> Any:
    for value in values:
        try:
            convert(value)
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            return value
    return values[0] if values else None


def parse_column(column: pd.Series, name: str, fmt: TimeFormat | None) -> pd.Series:
    """Convert one column to ``datetime64[ns, UTC]`` (missing values become ``NaT``).

    Strings are ISO 8601 (or ``fmt``'s strftime pattern); numbers are epoch
    seconds or milliseconds (``fmt``'s unit, else milliseconds from ``1e11``
    on, seconds below); datetimes are converted to UTC (naive ones taken as
    UTC).

    >>> parse_column(pd.Series([1772740500, None]), "t", None).tolist()
    [Timestamp('2026-03-05 19:55:00+0000', tz='UTC'), NaT]
    """
    dtype = column.dtype
    try:
        if isinstance(dtype, pd.DatetimeTZDtype):
            return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        if isinstance(dtype, np.dtype) and dtype.kind == "M":
            return column.dt.tz_localize("UTC").astype("datetime64[ns, UTC]")
    except (ValueError, TypeError, OverflowError) as exc:
        raise _unparsable(name, column.dropna().head(1).tolist(), str(exc)) from None
    present = column.dropna()
    values = present.tolist()
    numeric = (isinstance(dtype, np.dtype) and dtype.kind in "iuf") or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    ) or (bool(values) and all(
        isinstance(v, (int, float, Decimal, np.integer, np.floating)) and not isinstance(
            v, (bool, np.bool_)) for v in values))
    if numeric:
        unit = fmt.kind if fmt is not None and fmt.is_number else None
        numbers = pd.to_numeric(column.astype(object).where(column.notna(), np.nan),
                                errors="coerce")
        if unit is None:
            top = float(numbers.abs().max()) if numbers.notna().any() else 0.0
            unit = "epoch-ms" if top >= _MS_FROM else "epoch-s"
        try:
            if numbers.dtype.kind == "f" and not numbers.isna().any() and (
                    numbers == numbers.round()).all():
                numbers = numbers.astype(np.int64)
            out = pd.to_datetime(numbers, unit="s" if unit == "epoch-s" else "ms", utc=True)
            return out.astype("datetime64[ns, UTC]")
        except (ValueError, TypeError, OverflowError) as exc:
            raise _unparsable(name, values[:1], str(exc)) from None
    if any(not isinstance(v, (str, _dt.date, np.datetime64)) for v in values):
        bad = next(v for v in values if not isinstance(v, (str, _dt.date, np.datetime64)))
        raise _unparsable(name, [bad], f"a {type(bad).__name__} is not a time")
    if fmt is not None and fmt.kind == "strftime":
        def convert(v: Any) -> Any:
            return pd.to_datetime(v, format=fmt.pattern, utc=True)
    else:
        def convert(v: Any) -> Any:
            if isinstance(v, str) and _ISO_RE.match(v) is None and not re.fullmatch(
                    _ISO_LOOKING, v):
                raise ValueError(f"{v!r} is not ISO 8601")
            return pd.to_datetime(v, format="ISO8601", utc=True)
    try:
        if fmt is not None and fmt.kind == "strftime":
            out = pd.to_datetime(column.astype(object), format=fmt.pattern, utc=True)
        else:
            texts = [v for v in values if isinstance(v, str)]
            if texts and not pd.Series(texts).str.fullmatch(_ISO_LOOKING).all():
                raise ValueError("not ISO 8601")
            out = pd.to_datetime(column.astype(object), format="ISO8601", utc=True)
        return out.astype("datetime64[ns, UTC]")
    except (ValueError, TypeError, OverflowError) as exc:
        bad = _failing_value(values, convert)
        raise _unparsable(name, [bad], str(exc).split("\n")[0]) from None


def _unparsable(name: str, sample: list[Any], detail: str) -> InvalidArgumentError:
    shown = short_repr(sample[0], 40) if sample else "?"
    return InvalidArgumentError(
        f"parse_dates: column {name!r} cannot be parsed as times: e.g. {shown} ({detail}). "
        "Times are ISO 8601 text (2026-03-05T19:55:00Z), epoch seconds or milliseconds, or "
        "the strftime pattern given as time_format=; leave the column out of parse_dates, or "
        "convert it yourself with pd.to_datetime(df[col], format=...)."
    )


# ---------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------


def _holds_times(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        return True
    if not (isinstance(dtype, np.dtype) and dtype.kind == "O"):
        return False
    return any(is_time_like(v) for v in series.tolist())


def key_time_formats(session: Any, ref: Any, schema: Any, df: pd.DataFrame,
                     time_format: Any = None) -> dict[str, TimeFormat]:
    """Return the formats to write the key columns of ``df`` that hold datetimes in.

    ``time_format=`` when given; otherwise the table's, sampled (a Query of
    the frame's first partition for the sort key, else a Scan of
    ``Limit=3``); an empty table gets the default (ISO 8601 with ``Z`` for
    S keys, epoch seconds for N keys).
    """
    out: dict[str, TimeFormat] = {}
    for name in schema.key_names:
        if name not in df.columns or not _holds_times(df[name]):
            continue
        given = None
        if isinstance(time_format, Mapping):
            given = time_format.get(name)
        elif time_format is not None:
            given = time_format
        if given is not None:
            out[name] = TimeFormat.named(given)
            continue
        query = None
        if name == schema.sort and len(df) and schema.partition in df.columns:
            first = df[schema.partition].iloc[0]
            if not is_time_like(first) and first is not None and first == first:
                query = (schema.partition, first)
        try:
            fmt = detect_format(session, ref, name, key_attribute=True,
                                attribute_type=schema.attribute_types.get(name), query=query)
        except AccessDeniedError as exc:
            raise AccessDeniedError(
                f"write_frame could not sample the values of {name!r} in {str(ref)!r} to "
                f"learn how the table stores times ({exc.aws_message or exc}). Pass "
                "time_format= ('iso-z', 'epoch-ms', ...; see the documentation) to write "
                "without sampling; nothing was written.",
                code=exc.code, operation=exc.operation, aws_message=exc.aws_message,
                table=str(ref),
            ) from None
        out[name] = fmt
    return out


def encode_time_cells(series: pd.Series, fmt: TimeFormat,
                      where: str) -> tuple[list[dict[str, Any] | None], dict[int, str]]:
    """Wire values of a key column in ``fmt`` (other values as the one encoder gives them).

    A time finer than the format holds (a datetime with seconds into a
    ``"date"`` key, microseconds into ``"iso-z"``) is refused for its row: it
    would not sort with the others.

    >>> encode_time_cells(pd.Series(pd.to_datetime(["2026-03-05 19:55"])),
    ...                   TimeFormat.named("epoch-ms"), "sk")
    ([{'N': '1772740500000'}], {})
    """
    dtype = series.dtype
    errors: dict[int, str] = {}
    if isinstance(dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        arr = series.to_numpy()
        unit, count = np.datetime_data(arr.dtype)
        factor = {"s": _NS, "ms": 10**6, "us": 10**3, "ns": 1}[unit] * count
        fast = _vector_cells(arr, factor, fmt, where)
        if fast is not None:
            return fast
        missing = np.isnat(arr).tolist()
        ticks = arr.view(np.int64).tolist()
        cells: list[Any] = [None if gone else ("ns", t * factor)
                            for gone, t in zip(missing, ticks, strict=True)]
    else:
        cells = [("ns", to_ns(v)) if is_time_like(v) else v for v in series.tolist()]
    out: list[dict[str, Any] | None] = []
    for i, cell in enumerate(cells):
        try:
            if isinstance(cell, tuple) and len(cell) == 2 and cell[0] == "ns":
                ns = cell[1]
                if not fmt.on_grid(ns):
                    raise InvalidArgumentError(_finer(where, ns, fmt))
                out.append(fmt.wire(ns))
            else:
                out.append(to_attribute_value(cell, where=where))
        except (InvalidArgumentError, OverflowError) as exc:
            errors[i] = str(exc)
            out.append(None)
    return out, errors


def _vector_cells(arr: np.ndarray, factor: int, fmt: TimeFormat,
                  where: str) -> tuple[list[dict[str, Any] | None], dict[int, str]] | None:
    """:func:`encode_time_cells` of a datetime64 array without a call per cell (None: cannot)."""
    if fmt.kind == "strftime":
        return None
    missing = np.isnat(arr)
    ticks = arr.view(np.int64)
    present = ticks[~missing]
    limit = np.iinfo(np.int64).max // factor // 2
    if present.size and (present.max() > limit or present.min() < -limit):
        return None  # beyond int64 nanoseconds: one by one
    ns = np.where(missing, 0, ticks) * factor
    errors: dict[int, str] = {}
    grid = fmt.grid
    off = np.zeros(len(ns), dtype=bool)
    if grid is not None:
        off = ~missing & (ns % grid != 0)
        for i in np.flatnonzero(off).tolist():
            errors[i] = _finer(where, int(ns[i]), fmt)
    gone = (missing | off).tolist()
    if fmt.is_number:
        whole, rest = np.divmod(ns, fmt.unit)
        return [None if g else {"N": str(w)} if not r else fmt.wire(int(n))
                for g, w, r, n in zip(gone, whole.tolist(), rest.tolist(), ns.tolist(),
                                      strict=True)], errors
    local = ns + fmt.offset * 60 * _NS
    seconds, frac = np.divmod(local, _NS)
    if fmt.kind == "date":
        texts = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="D").tolist()
        return [None if g else {"S": t} for g, t in zip(gone, texts, strict=True)], errors
    texts = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").tolist()
    zone = fmt._zone() if fmt.kind != "default" else "Z"
    out: list[dict[str, Any] | None] = []
    for g, text, f in zip(gone, texts, frac.tolist(), strict=True):
        if g:
            out.append(None)
            continue
        digits = fmt.digits if fmt.kind != "default" else (
            0 if not f else 6 if not f % 1000 else 9)
        out.append({"S": f"{text}.{f:09d}"[: len(text) + 1 + digits] + zone if digits
                    else text + zone})
    return out, errors


def _finer(where: str, ns: int, fmt: TimeFormat) -> str:
    grid = fmt.grid or 1
    unit = {_DAY_NS: "D", _NS: "s", 10**6: "ms", 10**3: "us"}.get(grid, "s")
    return (
        f"{where}: the time {TimeFormat('iso-z', digits=9).text(ns)} is finer than the "
        f"table's format {fmt.name!r} holds, and would not sort with the stored values; "
        f"round it first (e.g. df[col] = df[col].dt.floor({unit!r})), or pass time_format= "
        "for another format"
    )
