"""Decode DynamoDB items into pandas DataFrames (the package's type contract).

This is the fast path every read goes through. Items arrive in DynamoDB's
*wire* form (``{"attr": {"S": "x"}, "n": {"N": "12"}, ...}``), either as
``json.loads`` of a raw HTTP response gives them (``B`` / ``BS`` values are
base64 strings) or as a boto3 *client* returns them (``B`` / ``BS`` values
are already ``bytes``). Both are accepted, even mixed in one page.

Decoding is column-wise: :class:`FrameBuilder` splits each page into
columns and decodes each column of the page at once (strings into a string
array, numbers into an int64/float64 array, ...) while the page is still in
the CPU cache; :meth:`FrameBuilder.to_frame` only joins the pieces, choosing
each column's dtype from what all its pieces hold. No boto3
``TypeDeserializer`` and no per-item pandas call is involved, and the wire
items may be freed as soon as a page is added.

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

Details
-------
* A NULL value never makes a column mixed: it is just a missing value.
* In a mixed column every value is decoded on its own, whatever page it came
  from: with ``numbers="auto"`` an ``N`` of ``"5"`` is ``5`` even next to
  ``"2.5"``.
* ``key_names`` columns always exist (all missing if no item has them).
* ``flatten=True``: a map attribute ``m`` becomes ``m.x``, ``m.y.z``, ...
  in first-seen order; an empty map adds no column; in an item where ``m``
  is not a map, its value stays in column ``m``. If a flattened name equals
  another attribute's name, the value flattened last in the item wins.
* Key order of decoded maps: this module keeps each item's wire order. The
  read path (``read_query`` / ``read_scan``, :mod:`xacct_nb._decode_arrow`)
  decodes most pages from Arrow columns, where a map's keys come in the order
  the read first met them; the dicts are equal either way (DynamoDB keeps no
  order of map keys). Everything else above holds exactly on both paths.
"""

from __future__ import annotations

import base64
import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, cast

import numpy as np
import pandas as pd

from xacct_nb._errors import InvalidArgumentError

__all__ = [
    "NUMBER_FUNCS",
    "NUMBER_MODES",
    "FrameBuilder",
    "convert_numbers",
    "decode_items",
    "decode_value",
    "empty_frame",
    "gc_paused",
    "integral_values",
    "string_dtype",
    "to_bytes",
]

NUMBER_MODES: tuple[str, ...] = ("auto", "decimal", "float")

#: Every type tag DynamoDB uses.
_TAGS: frozenset[str] = frozenset({"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"})

#: Stands for a missing attribute. Shared, never mutated: a NULL value and an
#: absent attribute decode the same way.
_MISSING: dict[str, Any] = {"NULL": True}

#: pandas' (major, minor) version: what ``string_dtype()`` depends on.
PANDAS_VERSION: tuple[int, int] = tuple(int(p) for p in pd.__version__.split(".")[:2])  # type: ignore[assignment]

# Filled lazily: the default string dtype depends on pandas' options
# (``mode.string_storage``), which a user may set after import.
_STRING_DTYPE: pd.StringDtype | None = None


def string_dtype() -> pd.StringDtype:
    """Return the dtype of string columns: pandas' ``str`` (missing values are NaN).

    pandas 3 infers it for text (``pd.Series(["a"]).dtype``); pandas 2.3 names it
    ``pd.StringDtype(na_value=np.nan)``; pandas 2.2 has the same dtype (Arrow storage, NaN
    for missing) under its first name, ``pd.StringDtype("pyarrow_numpy")``.
    """
    global _STRING_DTYPE
    if _STRING_DTYPE is None:
        if PANDAS_VERSION >= (2, 3):
            _STRING_DTYPE = pd.StringDtype(na_value=np.nan)
        else:
            _STRING_DTYPE = pd.StringDtype(cast(Any, "pyarrow_numpy"))  # 2.3 renamed it
    return _STRING_DTYPE


# --------------------------------------------------------------------------- #
# Scalar decoding
# --------------------------------------------------------------------------- #


def _num_auto(s: str) -> int | float:
    """``int`` if the number string has no '.', 'e' or 'E', else ``float``."""
    if "." in s or "e" in s or "E" in s:
        return float(s)
    return int(s)


def to_bytes(v: str | bytes | bytearray | memoryview) -> bytes:
    """Return a wire ``B`` value: base64 ``str`` is decoded, bytes-like is kept."""
    if isinstance(v, str):
        return base64.b64decode(v)
    if isinstance(v, bytes):
        return v
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    raise TypeError(f"a B value must be a base64 str or bytes, not {type(v).__name__}")


NUMBER_FUNCS: dict[str, Callable[[str], Any]] = {
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
            return to_bytes(av["B"])
        if "SS" in av:
            return set(av["SS"])
        if "NS" in av:
            return set(map(num, av["NS"]))
        if "BS" in av:
            return set(map(to_bytes, av["BS"]))
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
    mode: _make_decoder(func) for mode, func in NUMBER_FUNCS.items()
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


_GC_LOCK = threading.Lock()
_GC_PAUSES = 0
_GC_WAS_ENABLED = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many containers are created.

    Decoding builds hundreds of thousands of lists, dicts and sets; such an
    allocation burst triggers full collections that scan the whole heap
    (including the caller's wire items). Measured on 200,000 items: the list
    column alone took 1.0 s with the collector running, 0.33 s paused. The
    decoded values form no reference cycles, so nothing is left behind.

    Safe to nest and to use from several threads at once (the threads of a
    parallel scan): the collector is disabled by the first pause and
    re-enabled by the last one to end, and only if it was enabled before.
    """
    global _GC_PAUSES, _GC_WAS_ENABLED
    with _GC_LOCK:
        if _GC_PAUSES == 0:
            _GC_WAS_ENABLED = gc.isenabled()
            if _GC_WAS_ENABLED:
                gc.disable()
        _GC_PAUSES += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES -= 1
            if _GC_PAUSES == 0 and _GC_WAS_ENABLED:
                gc.enable()


def _object_column(values: list[Any]) -> pd.Series:
    """Make an object column.

    Nested lists stay elements (never a 2-D array), and the explicit dtype
    stops pandas 3 from inferring "str" for all-str data.
    """
    arr = np.fromiter(values, dtype=object, count=len(values))
    return pd.Series(arr, dtype=object, copy=False)


_NONE = np.array(None, dtype=object)  # what ``np.equal`` compares an object array with


def _extract(vals: list[dict[str, Any]], tag: str) -> tuple[list[Any], np.ndarray | None] | None:
    """Return the ``tag`` payload of every value, and the mask of missing rows.

    Returns ``None`` when a value is neither ``tag`` nor NULL/absent (the
    column mixes types). The mask is ``None`` when no row is missing.
    """
    got = [av.get(tag) for av in vals]
    if None not in got:
        return got, None
    mask = np.equal(np.fromiter(got, dtype=object, count=len(got)), _NONE)
    for i in np.flatnonzero(mask).tolist():
        if "NULL" not in vals[i]:
            return None
    return got, mask


# A column is a list of *segments*, one per page (plus runs of missing rows),
# each decoded while its page is hot in the CPU cache:
#   ("missing", count)
#   ("S", array)                     pandas string array (built per page:
#                                    the strings are read while cache-hot)
#   ("N", mask, sub, conv, exact)    numbers converted per the mode (see
#                                    convert_numbers); ``exact`` keeps the
#                                    integral strings of a float page (see
#                                    integral_values)
#   ("BOOL", data, mask)             data: bool ndarray (False where missing)
#   ("obj", values)                  decoded Python objects (B, sets, L, M,
#                                    or a page where the column mixes types)
# ``mask`` is a bool ndarray of missing rows, or None when none is missing.
_Segment = tuple[Any, ...]


def convert_numbers(present: list[str], numbers: str) -> tuple[str, Any]:
    """Convert the present number strings of one page.

    Returns ``("int", int64 array)``, ``("big", list of int)`` (beyond int64),
    ``("float", float64 array)`` or ``("dec", list of Decimal)``.
    """
    if numbers == "decimal":
        return "dec", list(map(Decimal, present))
    if numbers == "auto":
        joined = "".join(present)
        if "." not in joined and "e" not in joined and "E" not in joined:
            try:
                return "int", np.fromiter(map(int, present), np.int64, len(present))
            except OverflowError:
                return "big", list(map(int, present))
    return "float", np.fromiter(map(float, present), np.float64, len(present))


def integral_values(present: list[str], floats: np.ndarray) -> tuple[np.ndarray, list[int]] | None:
    """Positions and exact values of the integral strings of a float page.

    Needed only if the column later turns out to mix types (each value is
    then decoded on its own: ``"5"`` -> ``5`` even on a page that also holds
    ``"2.5"``). Only values whose float is integral are candidates, so the
    strings themselves need not be kept.
    """
    cand = np.flatnonzero(np.floor(floats) == floats).tolist()
    idx = [i for i in cand if not ("." in (v := present[i]) or "e" in v or "E" in v)]
    if not idx:
        return None
    return np.array(idx, dtype=np.intp), [int(present[i]) for i in idx]


def _decode_segment(vals: list[dict[str, Any]], numbers: str) -> _Segment:
    """Decode one page's values of one column into a segment.

    The kind is guessed from the first non-NULL value and checked while the
    payloads are extracted; values that mix types are decoded one by one.
    """
    for first in vals:
        if "NULL" not in first:
            break
    else:
        return ("missing", len(vals))
    for tag in ("S", "N", "BOOL"):
        if tag in first:
            found = _extract(vals, tag)
            if found is None:
                break  # mixed types
            got, mask = found
            if tag == "S":
                return ("S", _string_array(got))
            if tag == "N":
                present = got if mask is None else [s for s in got if s is not None]
                sub, conv = convert_numbers(present, numbers)
                exact = None
                if sub == "float" and numbers == "auto":
                    exact = integral_values(present, conv)
                return ("N", mask, sub, conv, exact)
            if mask is None:
                return ("BOOL", np.fromiter(got, np.bool_, len(got)), None)
            return ("BOOL", np.fromiter((v is True for v in got), np.bool_, len(got)), mask)
    return ("obj", list(map(_DECODERS[numbers], vals)))


def _string_array(strs: list[Any]) -> Any:
    """Return a pandas default-string array (None -> NaN)."""
    # Via an object ndarray: 2x faster than pd.array(list) with pyarrow.
    arr = np.fromiter(strs, dtype=object, count=len(strs))
    return pd.array(arr, dtype=string_dtype())


def _scatter(values: np.ndarray, mask: np.ndarray | None, fill: Any, dtype: Any) -> np.ndarray:
    """``values`` placed at the rows where ``mask`` is False, ``fill`` elsewhere."""
    if mask is None:
        return values.astype(dtype, copy=False)
    full = np.full(len(mask), fill, dtype=dtype)
    full[~mask] = values
    return full


def _scatter_list(values: list[Any], mask: np.ndarray | None) -> list[Any]:
    """``values`` placed at the rows where ``mask`` is False, None elsewhere."""
    if mask is None:
        return values
    it = iter(values)
    return [None if m else next(it) for m in mask.tolist()]


def _segment_objects(seg: _Segment, numbers: str) -> list[Any]:
    """Return a segment's values as Python objects (for object columns)."""
    kind = seg[0]
    if kind == "missing":
        return [None] * seg[1]
    if kind == "S":
        return seg[1].to_numpy(dtype=object, na_value=None).tolist()
    if kind == "obj":
        return seg[1]
    if kind == "BOOL":
        bools, mask = seg[1].tolist(), seg[2]
        if mask is None:
            return bools
        return [None if m else v for v, m in zip(bools, mask.tolist(), strict=True)]
    # "N": each value as decoded on its own (auto: int if integral else float).
    _, mask, sub, conv, exact = seg
    values = conv.tolist() if isinstance(conv, np.ndarray) else list(conv)
    if exact is not None:
        for i, v in zip(exact[0].tolist(), exact[1], strict=True):
            values[i] = v
    return _scatter_list(values, mask)


def _column_from_segments(segs: list[_Segment], n: int, numbers: str) -> Any:
    """One pandas column (array-like) from a column's segments."""
    kinds = {seg[0] for seg in segs}
    kinds.discard("missing")
    if not kinds:
        return _object_column([None] * n)
    if len(kinds) == 1:
        (kind,) = kinds
        if kind == "S":
            arrays = [seg[1] if seg[0] == "S" else _string_array([None] * seg[1]) for seg in segs]
            if len(arrays) == 1:
                return arrays[0]
            return type(arrays[0])._concat_same_type(arrays)
        if kind == "BOOL":
            return _bool_from_segments(segs, n)
        if kind == "N":
            return _numbers_from_segments(segs, n, numbers)
    values: list[Any] = []
    for seg in segs:
        values += _segment_objects(seg, numbers)
    return _object_column(values)


def _masked_join(parts: list[tuple[np.ndarray, np.ndarray | None]], array_type: Any) -> Any:
    """Concatenate (values, missing-mask or None) pieces of one column.

    A plain numpy array when no piece has a mask, else ``array_type(values,
    mask)`` (pandas' nullable ``BooleanArray`` / ``IntegerArray``).
    """
    data = np.concatenate([values for values, _ in parts])
    if all(mask is None for _, mask in parts):
        return data
    mask = np.concatenate(
        [np.zeros(len(values), dtype=np.bool_) if m is None else m for values, m in parts]
    )
    return array_type(data, mask)


def _missing_piece(n: int, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n, dtype=dtype), np.ones(n, dtype=np.bool_)


def _bool_from_segments(segs: list[_Segment], n: int) -> Any:
    parts = [
        _missing_piece(seg[1], np.bool_) if seg[0] == "missing" else (seg[1], seg[2])
        for seg in segs
    ]
    return _masked_join(parts, pd.arrays.BooleanArray)


def _numbers_from_segments(segs: list[_Segment], n: int, numbers: str) -> Any:
    subs = {seg[2] for seg in segs if seg[0] == "N"}

    if "float" in subs:
        parts: list[np.ndarray] = []
        for seg in segs:
            if seg[0] == "missing":
                parts.append(np.full(seg[1], np.nan))
                continue
            _, mask, sub, conv, _ = seg
            if sub == "big":
                conv = np.fromiter(map(float, conv), np.float64, len(conv))
            parts.append(_scatter(conv, mask, np.nan, np.float64))
        return np.concatenate(parts)

    if subs == {"int"}:
        pieces = [
            _missing_piece(seg[1], np.int64) if seg[0] == "missing"
            else (_scatter(seg[3], seg[1], 0, np.int64), seg[1])
            for seg in segs
        ]
        return _masked_join(pieces, pd.arrays.IntegerArray)

    # Decimals, or integers some of which are beyond int64 (exact Python
    # ints): an object column.
    values: list[Any] = []
    for seg in segs:
        values += _segment_objects(seg, numbers)
    return _object_column(values)


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
            raise InvalidArgumentError(f"key_names must hold attribute names (str), got {name!r}")
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
        # column -> decoded segments covering rows 0.. (a run of missing rows
        # for the pages before the column first appeared; the tail is padded
        # at to_frame).
        self._cols: dict[str, list[_Segment]] = {}
        self._rows: dict[str, int] = {}
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
            If an item is not a mapping of DynamoDB attribute values. The
            builder is then left unchanged.

        Examples
        --------
        >>> fb = FrameBuilder()
        >>> fb.add_items([{"a": {"S": "x"}}, {"b": {"N": "2.5"}}])
        >>> fb.columns, len(fb)
        (['a', 'b'], 2)

        The read path also passes pages parsed by Arrow
        (:class:`xacct_nb._decode_arrow.ArrowItems`): they are decoded from
        their columns, or, if that is not certain to give exactly this
        decoder's result, from their original JSON.
        """
        decode_columns = getattr(items, "decode_columns", None)
        if decode_columns is not None:
            n = len(items)  # type: ignore[arg-type]
            if not n:
                return
            with gc_paused():
                fast = decode_columns(self._numbers, self._flatten, self._cols)
            if fast is not None:
                self._commit(fast, n)
                return
            items = items.wire_items()  # type: ignore[attr-defined]
        if not isinstance(items, list):
            items = list(items)
        if not items:
            return
        numbers = self._numbers
        decoded: dict[str, _Segment] = {}
        with gc_paused():
            try:
                if self._flatten:
                    items = list(map(_flatten_item, items))
                page = _page_columns(items)
            except (AttributeError, TypeError) as exc:
                raise InvalidArgumentError(
                    f"items must be dicts mapping attribute names to DynamoDB "
                    f"attribute values such as {{'S': 'x'}} ({exc})"
                ) from None
            for name, vals in page.items():
                try:
                    decoded[name] = _decode_segment(vals, numbers)
                except InvalidArgumentError as exc:
                    raise InvalidArgumentError(f"attribute {name!r}: {exc}") from None
                except (AttributeError, TypeError, ValueError, KeyError, ArithmeticError) as exc:
                    raise InvalidArgumentError(
                        f"attribute {name!r} holds a value that is not a valid DynamoDB "
                        f"attribute value ({type(exc).__name__}: {exc})"
                    ) from exc

        # Commit (nothing above changed the builder).
        self._commit(decoded, len(items))

    def _commit(self, decoded: dict[str, _Segment], n: int) -> None:
        """Append one decoded page: ``{column: segment}`` in first-seen order, n rows."""
        n0 = self._nrows
        cols, rows = self._cols, self._rows
        for name, seg in decoded.items():
            segs = cols.get(name)
            if segs is None:
                segs = cols[name] = []
                rows[name] = 0
            gap = n0 - rows[name]
            if gap:
                segs.append(("missing", gap))
            segs.append(seg)
        n1 = n0 + n
        for name in decoded:
            rows[name] = n1
        self._nrows = n1

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
        with gc_paused():
            for name in self.columns:
                segs = self._cols.get(name, [])
                gap = n - self._rows.get(name, 0)
                if gap:
                    segs = [*segs, ("missing", gap)]
                data[name] = _column_from_segments(segs, n, self._numbers)
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
        self._rows = dict.fromkeys(self._cols, 0)
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
    """Return an empty DataFrame whose columns are ``key_names`` (object dtype).

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
