"""Decode DynamoDB items into pandas DataFrames (the package's type contract).

This is the fast path every read goes through. Items arrive in DynamoDB's
*wire* form (``{"attr": {"S": "x"}, "n": {"N": "12"}, ...}``), either as
``json.loads`` of a raw HTTP response gives them (``B`` / ``BS`` values are
base64 strings) or as a boto3 *client* returns them (``B`` / ``BS`` values
are already ``bytes``). Both are accepted, even mixed in one page.

Decoding is column-wise: :class:`FrameBuilder` files each attribute value
under its column as the page is added, and builds every pandas column once,
in :meth:`FrameBuilder.to_frame`, from the set of type tags the column saw.
No boto3 ``TypeDeserializer`` and no per-item pandas call is involved.

Type contract (``numbers="auto"``, the default)
-----------------------------------------------
==============  ==============================================================
DynamoDB        column
==============  ==============================================================
``S``           pandas' default string dtype (``"str"``); missing -> NaN
``N``           all integers within int64 -> ``int64`` (``Int64`` if any row
                is missing); integers beyond int64 -> object column of exact
                Python ``int``; otherwise ``float64`` (missing -> NaN)
``BOOL``        ``bool`` (``boolean`` if any row is missing)
``B``           ``bytes`` in an object column
``SS/NS/BS``    Python ``set`` in an object column
``L`` / ``M``   ``list`` / ``dict``, decoded recursively; with
                ``flatten=True`` maps become ``parent.child`` columns
``NULL``        missing (an attribute that is NULL or absent everywhere gives
                an object column of ``None``)
mixed types     object column holding each value as decoded
==============  ==============================================================

A number string counts as an *integer* only if it contains none of ``.``,
``e`` and ``E``: ``"10"`` and ``"-3"`` are integers, ``"2.0"`` and ``"1E+2"``
are floats (``2.0`` and ``100.0``). The same rule decides set members and
numbers inside lists and maps (``int`` if integral else ``float``).
``numbers="decimal"`` gives exact :class:`decimal.Decimal` everywhere (object
columns, missing -> ``None``); ``numbers="float"`` gives ``float`` everywhere
(``float64`` columns).

Missing values are ``None`` in object columns, NaN in ``float64`` and string
columns, and ``<NA>`` in ``Int64`` / ``boolean`` columns.
"""

from __future__ import annotations

import base64
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from xacct_nb._errors import InvalidArgumentError

__all__ = ["FrameBuilder", "decode_items", "decode_value", "empty_frame"]

NUMBER_MODES: tuple[str, ...] = ("auto", "decimal", "float")

#: Every type tag DynamoDB uses.
_TAGS: frozenset[str] = frozenset({"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"})

#: Stands for a missing attribute. Shared, never mutated: a NULL value and an
#: absent attribute decode the same way.
_MISSING: dict[str, Any] = {"NULL": True}

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# Filled lazily: the default string dtype depends on pandas' options
# (``mode.string_storage``), which a user may set after import.
_STRING_DTYPE: pd.StringDtype | None = None


def _string_dtype() -> pd.StringDtype:
    """Pandas' default string dtype (``pd.Series(["a"]).dtype`` in pandas 3)."""
    global _STRING_DTYPE
    if _STRING_DTYPE is None:
        _STRING_DTYPE = pd.StringDtype(na_value=np.nan)
    return _STRING_DTYPE


# --------------------------------------------------------------------------- #
# Scalar decoding
# --------------------------------------------------------------------------- #


def _num_auto(s: str) -> int | float:
    """``int`` if the number string has no '.', 'e' or 'E', else ``float``."""
    if "." in s or "e" in s or "E" in s:
        return float(s)
    return int(s)


def _to_bytes(v: str | bytes | bytearray | memoryview) -> bytes:
    """A wire ``B`` value: base64 ``str`` is decoded, bytes-like is kept."""
    if isinstance(v, str):
        return base64.b64decode(v)
    if isinstance(v, bytes):
        return v
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    raise TypeError(f"a B value must be a base64 str or bytes, not {type(v).__name__}")


_NUMBER_FUNCS: dict[str, Callable[[str], Any]] = {
    "auto": _num_auto,
    "decimal": Decimal,
    "float": float,
}


def _make_decoder(num: Callable[[str], Any]) -> Callable[[dict[str, Any]], Any]:
    """Build a recursive attribute-value decoder using ``num`` for numbers.

    Tags are tested by membership, most frequent first (the fastest dispatch
    measured); a value is expected to hold exactly one tag.
    """

    def dec(av: dict[str, Any]) -> Any:
        if "S" in av:
            return av["S"]
        if "N" in av:
            return num(av["N"])
        if "M" in av:
            return {k: dec(x) for k, x in av["M"].items()}
        if "L" in av:
            return [dec(x) for x in av["L"]]
        if "BOOL" in av:
            return av["BOOL"]
        if "NULL" in av:
            return None
        if "B" in av:
            return _to_bytes(av["B"])
        if "SS" in av:
            return set(av["SS"])
        if "NS" in av:
            return set(map(num, av["NS"]))
        if "BS" in av:
            return set(map(_to_bytes, av["BS"]))
        if isinstance(av, dict):
            raise InvalidArgumentError(
                f"unknown DynamoDB attribute value {av!r:.100}; its key must be "
                f"one of {sorted(_TAGS)}"
            )
        raise InvalidArgumentError(
            f"a DynamoDB attribute value must be a dict such as {{'S': 'x'}}, "
            f"not {type(av).__name__}"
        )

    return dec


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    mode: _make_decoder(func) for mode, func in _NUMBER_FUNCS.items()
}


def _check_numbers(numbers: object) -> str:
    if not isinstance(numbers, str) or numbers not in NUMBER_MODES:
        raise InvalidArgumentError(
            f"numbers must be one of 'auto', 'decimal', 'float', not {numbers!r}"
        )
    return numbers


def decode_value(av: dict[str, Any], numbers: str = "decimal") -> Any:
    """Decode one DynamoDB attribute value (wire form) into a Python object.

    Parameters
    ----------
    av : dict
        One attribute value, e.g. ``{"N": "12"}`` or ``{"M": {...}}``. ``B``
        and ``BS`` values may be base64 strings or ``bytes``.
    numbers : {"decimal", "auto", "float"}, default "decimal"
        How ``N`` values (at any depth) are decoded: exact
        :class:`~decimal.Decimal`; ``int`` if the string has no '.', 'e' or
        'E' else ``float``; or always ``float``.

    Returns
    -------
    object
        ``str``, number, ``bool``, ``None``, ``bytes``, ``set``, ``list`` or
        ``dict`` (decoded recursively).

    Raises
    ------
    InvalidArgumentError
        If ``numbers`` is not an allowed value, or ``av`` is not a valid
        attribute value.

    Examples
    --------
    >>> decode_value({"N": "2.50"})
    Decimal('2.50')
    >>> decode_value({"M": {"a": {"N": "1"}, "b": {"L": [{"N": "1E+2"}, {"NULL": True}]}}},
    ...              numbers="auto")
    {'a': 1, 'b': [100.0, None]}
    >>> decode_value({"B": "aGk="})
    b'hi'
    """
    dec = _DECODERS[_check_numbers(numbers)]
    try:
        return dec(av)
    except InvalidArgumentError:
        raise
    except (AttributeError, TypeError, ValueError, KeyError, ArithmeticError) as exc:
        raise InvalidArgumentError(
            f"not a valid DynamoDB attribute value: {av!r:.200} ({type(exc).__name__}: {exc})"
        ) from exc


# --------------------------------------------------------------------------- #
# Column building
# --------------------------------------------------------------------------- #


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many containers are created.

    Decoding builds hundreds of thousands of lists, dicts and sets; each
    allocation burst would trigger full collections that scan every wire
    value held by the builder (measured: up to 2x slower overall). The
    decoded values form no reference cycles, so nothing is lost.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _object_column(values: list[Any]) -> pd.Series:
    """An object column. Nested lists stay elements (never a 2-D array), and
    the explicit dtype stops pandas 3 from inferring "str" for all-str data.
    """
    arr = np.fromiter(values, dtype=object, count=len(values))
    return pd.Series(arr, dtype=object, copy=False)


def _extract(vals: list[dict[str, Any]], tag: str) -> tuple[list[Any], np.ndarray | None] | None:
    """The ``tag`` payload of every value, and the mask of missing rows.

    Returns ``None`` when a value is neither ``tag`` nor NULL/absent (the
    column mixes types). The mask is ``None`` when no row is missing.
    """
    got = [av.get(tag) for av in vals]
    if None not in got:
        return got, None
    mask = np.equal(np.array(got, dtype=object), None)
    for i in np.flatnonzero(mask).tolist():
        if "NULL" not in vals[i]:
            return None
    return got, mask


def _string_column(got: list[Any], mask: np.ndarray | None) -> Any:
    # Via an object ndarray: 2x faster than pd.array(list) with pyarrow.
    return pd.array(np.array(got, dtype=object), dtype=_string_dtype())


def _number_column(got: list[Any], mask: np.ndarray | None, numbers: str) -> Any:
    n = len(got)
    present: list[str] = got if mask is None else [s for s in got if s is not None]
    if numbers == "decimal":
        if mask is None:
            return _object_column(list(map(Decimal, got)))
        return _object_column([None if s is None else Decimal(s) for s in got])

    joined = "".join(present)
    if numbers == "float" or "." in joined or "e" in joined or "E" in joined:
        floats = np.fromiter(map(float, present), np.float64, len(present))
        if mask is None:
            return floats
        full = np.full(n, np.nan)
        full[~mask] = floats
        return full

    ints = list(map(int, present))
    try:
        data = np.fromiter(ints, np.int64, len(ints))
    except OverflowError:
        # Beyond int64: exact Python ints, never rounded.
        if mask is None:
            return _object_column(ints)
        it = iter(ints)
        return _object_column([None if s is None else next(it) for s in got])
    if mask is None:
        return data
    full_i = np.zeros(n, dtype=np.int64)
    full_i[~mask] = data
    return pd.arrays.IntegerArray(full_i, mask)


def _bool_column(got: list[Any], mask: np.ndarray | None) -> Any:
    n = len(got)
    if mask is None:
        return np.fromiter(got, np.bool_, n)
    data = np.fromiter((v is True for v in got), np.bool_, n)
    return pd.arrays.BooleanArray(data, mask)


def _build_column(vals: list[dict[str, Any]], numbers: str) -> Any:
    """One pandas column (array-like) from a column's wire values.

    The kind is guessed from the first non-NULL value, then every value is
    checked while its payload is extracted; a column that turns out to mix
    types is decoded value by value into an object column.
    """
    for first in vals:
        if "NULL" not in first:
            break
    else:
        return _object_column([None] * len(vals))
    for tag in ("S", "N", "BOOL"):
        if tag in first:
            found = _extract(vals, tag)
            if found is None:
                break  # mixed types
            got, mask = found
            if tag == "S":
                return _string_column(got, mask)
            if tag == "N":
                return _number_column(got, mask, numbers)
            return _bool_column(got, mask)
    # B, sets, L, M, and mixed types: objects, as decoded.
    return _object_column(list(map(_DECODERS[numbers], vals)))


def _flatten_item(item: dict[str, Any]) -> dict[str, Any]:
    """Replace map values by ``parent.child`` entries, recursively.

    An empty map contributes no entry (the attribute is then missing).
    """
    for av in item.values():
        if "M" in av:
            break
    else:
        return item
    out: dict[str, Any] = {}
    for name, av in item.items():
        if "M" in av:
            _flatten_into(out, name, av["M"])
        else:
            out[name] = av
    return out


def _flatten_into(out: dict[str, Any], prefix: str, m: dict[str, Any]) -> None:
    for k, av in m.items():
        name = f"{prefix}.{k}"
        if "M" in av:
            _flatten_into(out, name, av["M"])
        else:
            out[name] = av


def _page_columns(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Split one page into ``{column: [value per item]}`` in first-seen order.

    Absent attributes are filled with the shared missing marker.
    """
    m = len(items)
    cols: dict[str, list[dict[str, Any]]] = {}
    # One pass over the attributes (fastest measured), assuming every column
    # is present in every item ...
    for it in items:
        for name, av in it.items():
            try:
                cols[name].append(av)
            except KeyError:
                cols[name] = [av]
    # ... then the columns with gaps are redone, aligned on the rows.
    sparse = [name for name, col in cols.items() if len(col) != m]
    if not sparse:
        return cols
    miss = _MISSING
    if len(sparse) <= 16:
        for name in sparse:
            cols[name] = [it.get(name, miss) for it in items]
        return cols
    # Many sparse columns (a wide, sparse table): pad in one pass.
    for name in sparse:
        cols[name] = []
    sparse_set = set(sparse)
    for i, it in enumerate(items):
        for name, av in it.items():
            if name in sparse_set:
                col = cols[name]
                gap = i - len(col)
                if gap:
                    col.extend([miss] * gap)
                col.append(av)
    for name in sparse:
        col = cols[name]
        gap = m - len(col)
        if gap:
            col.extend([miss] * gap)
    return cols


def _check_key_names(key_names: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(key_names, str):
        return (key_names,)
    try:
        names = tuple(key_names)
    except TypeError:
        raise InvalidArgumentError(
            f"key_names must be a sequence of attribute names, not {key_names!r}"
        ) from None
    for name in names:
        if not isinstance(name, str):
            raise InvalidArgumentError(
                f"key_names must hold attribute names (str), got {name!r}"
            )
    return tuple(dict.fromkeys(names))


class FrameBuilder:
    """Accumulate pages of DynamoDB items and build one DataFrame.

    Values are filed column by column as pages are added; each pandas column
    is built once, by :meth:`to_frame`, following the module's type contract.

    Parameters
    ----------
    numbers : {"auto", "decimal", "float"}, default "auto"
        How ``N`` values are decoded (see the module docstring).
    flatten : bool, default False
        Expand map attributes into ``parent.child`` columns (recursively,
        ``a.b.c``). Lists stay lists; an empty map adds no column.
    key_names : sequence of str, default ()
        Columns placed first, in this order, and present even when no item
        has them. A single ``str`` is taken as one name.

    Raises
    ------
    InvalidArgumentError
        If ``numbers``, ``flatten`` or ``key_names`` is invalid.

    Examples
    --------
    >>> fb = FrameBuilder(key_names=["id"])
    >>> fb.add_items([{"n": {"N": "1"}, "id": {"S": "a"}}])
    >>> fb.add_items([{"id": {"S": "b"}, "ok": {"BOOL": True}}])
    >>> len(fb)
    2
    >>> df = fb.to_frame()
    >>> df
      id     n    ok
    0  a     1  <NA>
    1  b  <NA>  True
    >>> df.dtypes.astype(str).tolist()
    ['str', 'Int64', 'boolean']
    """

    def __init__(
        self,
        *,
        numbers: str = "auto",
        flatten: bool = False,
        key_names: Sequence[str] = (),
    ) -> None:
        self._numbers = _check_numbers(numbers)
        if not isinstance(flatten, (bool, np.bool_)):
            raise InvalidArgumentError(f"flatten must be True or False, not {flatten!r}")
        self._flatten = bool(flatten)
        self._key_names = _check_key_names(key_names)
        # column -> one wire value per row (rows before the column first
        # appeared hold the missing marker; the tail is padded at to_frame).
        self._cols: dict[str, list[dict[str, Any]]] = {}
        self._nrows = 0

    @property
    def numbers(self) -> str:
        """The ``numbers`` mode."""
        return self._numbers

    @property
    def flatten(self) -> bool:
        """Whether maps are flattened into ``parent.child`` columns."""
        return self._flatten

    @property
    def key_names(self) -> tuple[str, ...]:
        """The key columns, placed first."""
        return self._key_names

    @property
    def columns(self) -> list[str]:
        """The frame's columns so far, in order."""
        keys = self._key_names
        return list(keys) + [c for c in self._cols if c not in keys]

    def add_items(self, items: Iterable[dict[str, Any]]) -> None:
        """Append one page of items (wire or boto3-client form).

        Parameters
        ----------
        items : list of dict
            ``{attribute: {tag: value}}`` mappings.

        Raises
        ------
        InvalidArgumentError
            If an item is not a mapping. The builder is then left unchanged.
            (Attribute values themselves are checked by :meth:`to_frame`.)

        Examples
        --------
        >>> fb = FrameBuilder()
        >>> fb.add_items([{"a": {"S": "x"}}, {"b": {"N": "2.5"}}])
        >>> fb.columns, len(fb)
        (['a', 'b'], 2)
        """
        if not isinstance(items, list):
            items = list(items)
        if not items:
            return
        try:
            if self._flatten:
                items = list(map(_flatten_item, items))
            page = _page_columns(items)
        except (AttributeError, TypeError) as exc:
            raise InvalidArgumentError(
                f"items must be dicts mapping attribute names to DynamoDB "
                f"attribute values such as {{'S': 'x'}} ({exc})"
            ) from None

        n0 = self._nrows
        cols = self._cols
        for name, vals in page.items():
            col = cols.get(name)
            if col is None:
                cols[name] = [_MISSING] * n0 + vals if n0 else vals
                continue
            gap = n0 - len(col)
            if gap:
                col.extend([_MISSING] * gap)
            col.extend(vals)
        self._nrows = n0 + len(items)

    def __len__(self) -> int:
        """Rows added since creation or the last :meth:`reset`."""
        return self._nrows

    def to_frame(self) -> pd.DataFrame:
        """Build the DataFrame of every row added so far.

        Columns are the key names, then every other attribute in first-seen
        order (including attributes seen before the last :meth:`reset`). The
        index is a default ``RangeIndex``. The builder is left as it is, so
        more pages may be added afterwards.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        InvalidArgumentError
            If a value cannot be decoded (e.g. a malformed number string).

        Examples
        --------
        >>> fb = FrameBuilder(numbers="float")
        >>> fb.add_items([{"x": {"N": "1"}}, {"x": {"NULL": True}}])
        >>> fb.to_frame()["x"].tolist()
        [1.0, nan]
        """
        n = self._nrows
        if n == 0:
            return empty_frame(self.columns)
        data: dict[str, Any] = {}
        with _gc_paused():
            for name in self.columns:
                vals = self._cols.get(name)
                if vals is None:
                    data[name] = _object_column([None] * n)
                    continue
                gap = n - len(vals)
                if gap:
                    vals.extend([_MISSING] * gap)
                try:
                    data[name] = _build_column(vals, self._numbers)
                except InvalidArgumentError as exc:
                    raise InvalidArgumentError(f"column {name!r}: {exc}") from None
                except (AttributeError, TypeError, ValueError, KeyError, ArithmeticError) as exc:
                    raise InvalidArgumentError(
                        f"column {name!r} holds a value that is not a valid DynamoDB "
                        f"attribute value ({type(exc).__name__}: {exc})"
                    ) from exc
        return pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)

    def reset(self) -> None:
        """Drop the rows, keeping the settings and the columns seen so far.

        Used for chunked reads: every later chunk has the same leading
        columns, in the same order (all-missing where a chunk lacks them).

        Examples
        --------
        >>> fb = FrameBuilder()
        >>> fb.add_items([{"a": {"S": "x"}}])
        >>> fb.reset()
        >>> fb.add_items([{"b": {"S": "y"}}])
        >>> fb.to_frame().columns.tolist()
        ['a', 'b']
        """
        self._cols = {name: [] for name in self._cols}
        self._nrows = 0


def decode_items(
    items: Iterable[dict[str, Any]],
    *,
    numbers: str = "auto",
    flatten: bool = False,
    key_names: Sequence[str] = (),
) -> pd.DataFrame:
    """Decode DynamoDB items (wire or boto3-client form) into a DataFrame.

    Shorthand for one :class:`FrameBuilder`: ``add_items`` then ``to_frame``.

    Parameters
    ----------
    items : list of dict
        The items, e.g. the ``Items`` of a Scan or Query response.
    numbers : {"auto", "decimal", "float"}, default "auto"
        How ``N`` values are decoded (see the module docstring).
    flatten : bool, default False
        Expand maps into ``parent.child`` columns.
    key_names : sequence of str, default ()
        Columns placed first and always present.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InvalidArgumentError
        If an argument or an item is invalid.

    Examples
    --------
    >>> df = decode_items(
    ...     [{"id": {"S": "a"}, "n": {"N": "3"}, "m": {"M": {"x": {"N": "1.5"}}}},
    ...      {"id": {"S": "b"}, "n": {"N": "4"}}],
    ...     flatten=True,
    ... )
    >>> df
      id  n  m.x
    0  a  3  1.5
    1  b  4  NaN
    >>> df.dtypes.astype(str).tolist()
    ['str', 'int64', 'float64']
    """
    fb = FrameBuilder(numbers=numbers, flatten=flatten, key_names=key_names)
    fb.add_items(items)
    return fb.to_frame()


def empty_frame(key_names: Sequence[str] = ()) -> pd.DataFrame:
    """An empty DataFrame whose columns are ``key_names`` (object dtype).

    Parameters
    ----------
    key_names : sequence of str, default ()
        The columns.

    Returns
    -------
    pandas.DataFrame
        No rows, a ``RangeIndex`` and one object column per key name.

    Examples
    --------
    >>> df = empty_frame(["pk", "sk"])
    >>> df.columns.tolist(), len(df), df.dtypes.astype(str).tolist()
    (['pk', 'sk'], 0, ['object', 'object'])
    """
    names = _check_key_names(key_names)
    return pd.DataFrame(
        {name: pd.Series([], dtype=object) for name in names},
        index=pd.RangeIndex(0),
    )
