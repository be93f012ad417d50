"""Table references and key schemas.

A table is named by its name or its ARN. Key names come from DescribeTable,
cached per (session, table) together with the whole description
(:attr:`KeySchema.description`: sizes, billing, indexes, for cost estimates);
a role without ``dynamodb:DescribeTable`` can pass ``key_schema=`` instead and
never needs it.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, NoCredentialsError

from ._clients import client
from ._errors import ConfigurationError, InvalidArgumentError, translate_client_error

if TYPE_CHECKING:  # pragma: no cover
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE_ARN_RE = re.compile(
    r"^arn:(aws[a-z-]*):dynamodb:([a-z0-9-]+):(\d{12}):table/([A-Za-z0-9_.-]{3,255})$"
)
TABLE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


@dataclass(frozen=True)
class TableRef:
    """A table as the user named it: ``name`` always, ``arn`` parts when an ARN was given."""

    name: str
    arn: str | None = None
    region: str | None = None
    account: str | None = None

    @property
    def request_name(self) -> str:
        """What to send as ``TableName``: DynamoDB accepts the ARN, which reaches other accounts."""
        return self.arn or self.name

    def __str__(self) -> str:
        return self.arn or self.name


def parse_table(table: str) -> TableRef:
    """Parse a table name or table ARN.

    >>> parse_table("arn:aws:dynamodb:us-east-1:222222222222:table/Orders").account
    '222222222222'
    >>> parse_table("Orders").name
    'Orders'
    """
    if isinstance(table, TableRef):
        return table
    if not isinstance(table, str):
        raise InvalidArgumentError(
            f"table must be a table name or table ARN (a str), not {type(table).__name__}."
        )
    match = TABLE_ARN_RE.match(table)
    if match:
        return TableRef(name=match.group(4), arn=table, region=match.group(2), account=match.group(3))
    if table.startswith("arn:"):
        raise InvalidArgumentError(
            f"{table!r} is not a DynamoDB table ARN: expected "
            "'arn:aws:dynamodb:REGION:ACCOUNT:table/NAME'."
        )
    if not TABLE_NAME_RE.match(table):
        raise InvalidArgumentError(
            f"{table!r} is not a valid DynamoDB table name: 3-255 characters of letters, "
            "digits, '_', '-' and '.'."
        )
    return TableRef(name=table)


@dataclass(frozen=True)
class KeySchema:
    """Key attribute names of a table and its indexes (from DescribeTable or given)."""

    partition: str
    sort: str | None = None
    #: index name -> (partition, sort, kind) where kind is "GSI" or "LSI"
    indexes: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)
    attribute_types: dict[str, str] = field(default_factory=dict)
    item_count: int | None = None
    size_bytes: int | None = None
    #: DynamoDB's whole ``Table`` description when the schema came from DescribeTable
    #: (sizes, billing mode, index sizes, stream, ...); ``None`` when given by the caller.
    description: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.partition,) if self.sort is None else (self.partition, self.sort)

    def for_index(self, index: str | None, table: str) -> tuple[str, str | None, str | None]:
        """(partition, sort, kind) of the table (index None) or of one of its indexes."""
        if index is None:
            return self.partition, self.sort, None
        if index not in self.indexes:
            known = ", ".join(sorted(self.indexes)) or "none"
            raise InvalidArgumentError(
                f"Table {table!r} has no index {index!r} (its indexes: {known})."
            )
        return self.indexes[index]

    @classmethod
    def from_description(cls, desc: Mapping[str, Any]) -> KeySchema:
        def keys(schema: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
            part = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
            sort = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
            return part, sort

        partition, sort = keys(desc["KeySchema"])
        indexes: dict[str, tuple[str, str | None, str]] = {}
        for kind, entry in (("GSI", "GlobalSecondaryIndexes"), ("LSI", "LocalSecondaryIndexes")):
            for ix in desc.get(entry, []) or []:
                indexes[ix["IndexName"]] = (*keys(ix["KeySchema"]), kind)
        return cls(
            partition=partition,
            sort=sort,
            indexes=indexes,
            attribute_types={
                a["AttributeName"]: a["AttributeType"] for a in desc.get("AttributeDefinitions", [])
            },
            item_count=desc.get("ItemCount"),
            size_bytes=desc.get("TableSizeBytes"),
            description=desc,
        )

    @classmethod
    def coerce(cls, value: Any) -> KeySchema:
        """Accept a KeySchema, ``"pk"``, ``("pk", "sk")`` or ``{"partition": ..., "sort": ...}``.

        The dict may also give the key types, ``"types": {"pk": "S", "sk": "N"}``
        (``S``, ``N`` or ``B``): key values are then checked before sending.

        >>> KeySchema.coerce({"partition": "pk", "types": {"pk": "N"}}).attribute_types
        {'pk': 'N'}
        """
        if isinstance(value, KeySchema):
            return value
        if isinstance(value, str):
            return cls(partition=value)
        if isinstance(value, (tuple, list)) and 1 <= len(value) <= 2 and all(
            isinstance(v, str) for v in value
        ):
            return cls(partition=value[0], sort=value[1] if len(value) == 2 else None)
        if isinstance(value, dict) and isinstance(value.get("partition"), str):
            types = value.get("types") or {}
            if not isinstance(types, dict) or not all(
                isinstance(k, str) and t in ("S", "N", "B") for k, t in types.items()
            ):
                raise InvalidArgumentError(
                    f"key_schema types={types!r} must map key names to 'S', 'N' or 'B'."
                )
            return cls(partition=value["partition"], sort=value.get("sort"),
                       attribute_types=dict(types))
        raise InvalidArgumentError(
            f"key_schema={value!r} is not understood: pass the partition key name, "
            "a (partition, sort) tuple, or {'partition': ..., 'sort': ...}."
        )


#: error codes of a denied DescribeTable (its messages then name ``key_schema=``)
_DENIED_CODES = ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation")

_cache: weakref.WeakKeyDictionary[Any, dict[str, KeySchema]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def describe(session: Any, table: TableRef, *, refresh: bool = False) -> KeySchema:
    """DescribeTable, cached per session and table."""
    with _cache_lock:
        per_session = _cache.setdefault(session, {})
        if not refresh and str(table) in per_session:
            return per_session[str(table)]
    try:
        ddb: DynamoDBClient = client(session, "dynamodb")
        desc = ddb.describe_table(TableName=table.request_name)["Table"]
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        what = f"DescribeTable of {str(table)!r}"
        if code in _DENIED_CODES:
            what += (
                " (needed only for the key names: a role without dynamodb:DescribeTable "
                "passes them as key_schema=('partition_key', 'sort_key'), e.g. "
                "key_schema=('customer_id', 'order_ts'))"
            )
        raise translate_client_error(exc, table=str(table), what=what) from None
    except NoCredentialsError:
        raise ConfigurationError(
            f"No AWS credentials to describe {str(table)!r}: configure account A's identity "
            "(AWS_PROFILE, `aws sso login`, ...) or use xn.connect() / xn.assume_role."
        ) from None
    schema = KeySchema.from_description(desc)
    with _cache_lock:
        _cache.setdefault(session, {})[str(table)] = schema
    return schema


def key_schema_for(session: Any, table: TableRef, key_schema: Any = None) -> KeySchema:
    """Return the given ``key_schema`` if any, else DescribeTable's (cached)."""
    if key_schema is not None:
        return KeySchema.coerce(key_schema)
    return describe(session, table)


def frame_keys(schema: KeySchema, index: str | None, columns: Any) -> tuple[str, ...]:
    """Return the key attributes a frame puts first: the table's, the index's, within ``columns``."""
    names = list(schema.key_names)
    if index is not None:
        part, sort, _ = schema.indexes.get(index, (None, None, None))
        names += [n for n in (part, sort) if n and n not in names]
    if columns is not None:
        wanted = {columns} if isinstance(columns, str) else set(columns)
        names = [n for n in names if n in wanted]
    return tuple(names)
