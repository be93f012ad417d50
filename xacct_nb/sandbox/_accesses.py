"""What a request asks for, in IAM's terms, and which policies apply to it (sandbox side).

For each DynamoDB call the sandbox works out what AWS would evaluate: the
action (``dynamodb:Query``), the resource (the table or index ARN; one per
table for batch calls) and the request context (``dynamodb:LeadingKeys``,
``dynamodb:Attributes``, ``dynamodb:Select``, ``dynamodb:ReturnValues`` and
the global ``aws:*`` keys). The policies come from moto's IAM and DynamoDB
backends: a user's or role's inline and managed policies (and its groups'),
a role's trust policy, a table's resource policy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from .._evaluator import Policy

_NAME_RE = re.compile(r"#[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Access:
    """One authorization question: ``action`` on ``resource`` with ``context``."""

    action: str
    resource: str
    account: str
    context: dict[str, Any] = field(default_factory=dict)


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    if not text.lstrip().startswith("{"):
        text = unquote(text)
    return json.loads(text)


def _managed_document(policy: Any) -> dict[str, Any]:
    for version in getattr(policy, "versions", []):
        if getattr(version, "is_default", False):
            return _document(version.document)
    return _document(getattr(policy, "document", "{}"))


def identity_policies(account: str, arn: str, kind: str) -> list[Policy]:
    """Inline and managed policies of the user or role behind ``arn``."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account]["aws"]
    out: list[Policy] = []
    if kind == "role-session":
        role_name = arn.split("/")[1]
        role = next((r for r in list(iam.roles.values()) if r.name == role_name), None)
        if role is None:
            return out
        for name, doc in role.policies.items():
            out.append(Policy(f"role {role_name} inline policy {name}", _document(doc)))
        for policy_arn, policy in role.managed_policies.items():
            out.append(Policy(f"managed policy {policy_arn}", _managed_document(policy)))
        return out
    user_name = arn.rsplit("/", 1)[-1]
    user = iam.users.get(user_name)
    if user is None:
        return out
    for name, doc in user.policies.items():
        out.append(Policy(f"user {user_name} inline policy {name}", _document(doc)))
    for policy_arn, policy in user.managed_policies.items():
        out.append(Policy(f"managed policy {policy_arn}", _managed_document(policy)))
    for group in iam.get_groups_for_user(user_name):
        for name, doc in group.policies.items():
            out.append(Policy(f"group {group.name} inline policy {name}", _document(doc)))
        for policy_arn, policy in group.managed_policies.items():
            out.append(Policy(f"managed policy {policy_arn}", _managed_document(policy)))
    return out


def trust_policy(role_arn: str) -> Policy | None:
    """The trust policy of a role, or None if there is no such role."""
    from moto.iam.models import iam_backends

    match = re.match(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$", role_arn)
    if not match or match.group(1) not in iam_backends:
        return None
    for role in list(iam_backends[match.group(1)]["aws"].roles.values()):
        if role.name == match.group(2):
            return Policy(f"trust policy of role {role.name}",
                          _document(role.assume_role_policy_document), "trust")
    return None


def table_policy(account: str, region: str, table_arn: str) -> Policy | None:
    """A table's resource-based policy, if it has one."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[account][region]
    policy = getattr(backend, "resource_policies", {}).get(table_arn)
    if policy is None:
        return None
    return Policy(f"resource policy of {table_arn.split('/')[-1]}", _document(policy.policy_doc),
                  "resource")


def _table(request_name: str, account: str, region: str) -> tuple[str, str, str]:
    """(table ARN, table name, owning account) for a TableName that may be an ARN."""
    match = re.match(r"^arn:aws[\w-]*:dynamodb:([\w-]+):(\d{12}):table/([^/]+)$", request_name)
    if match:
        return request_name, match.group(3), match.group(2)
    return f"arn:aws:dynamodb:{region}:{account}:table/{request_name}", request_name, account


def _key_names(account: str, region: str, table: str, index: str | None) -> tuple[str | None, ...]:
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[account][region]
    found = backend.tables.get(table)
    if found is None:
        return (None,)
    if index:
        for ix in list(found.global_indexes) + list(found.indexes):
            if ix.name == index:
                hash_key = next((k["AttributeName"] for k in ix.schema if k["KeyType"] == "HASH"), None)
                return (hash_key,)
    return (found.hash_key_attr,)


def _scalar(value: dict[str, Any]) -> str | None:
    for tag in ("S", "N", "B"):
        if tag in value:
            return str(value[tag])
    return None


def _names_in(expression: str | None, names: dict[str, str]) -> list[str]:
    """Top-level attribute names used by a projection (placeholders resolved)."""
    if not expression:
        return []
    out = []
    for path in expression.split(","):
        first = re.split(r"[.\[]", path.strip(), maxsplit=1)[0].strip()
        if first:
            out.append(names.get(first, first))
    return list(dict.fromkeys(out))


def _update_names(expression: str | None, names: dict[str, str]) -> list[str]:
    if not expression:
        return []
    keywords = {"SET", "REMOVE", "ADD", "DELETE", "if_not_exists", "list_append"}
    out = []
    for token in _NAME_RE.findall(expression):
        if token in keywords:
            continue
        out.append(names.get(token, token))
    return list(dict.fromkeys(out))


def _query_leading_key(body: dict[str, Any], hash_key: str | None) -> list[str]:
    if hash_key is None:
        return []
    names = body.get("ExpressionAttributeNames") or {}
    values = body.get("ExpressionAttributeValues") or {}
    expression = body.get("KeyConditionExpression") or ""
    for name, placeholder in re.findall(r"(#?[A-Za-z0-9_.]+)\s*=\s*(:[A-Za-z0-9_]+)", expression):
        if names.get(name, name) == hash_key and placeholder in values:
            value = _scalar(values[placeholder])
            return [value] if value is not None else []
    legacy = (body.get("KeyConditions") or {}).get(hash_key)
    if legacy and legacy.get("AttributeValueList"):
        value = _scalar(legacy["AttributeValueList"][0])
        return [value] if value is not None else []
    return []


def _select(body: dict[str, Any], index: str | None) -> str:
    if body.get("Select"):
        return str(body["Select"])
    if body.get("ProjectionExpression") or body.get("AttributesToGet"):
        return "SPECIFIC_ATTRIBUTES"
    return "ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES"


def dynamodb_accesses(operation: str, body: dict[str, Any], account: str, region: str) -> list[Access]:
    """The authorization questions of one DynamoDB request."""
    action = f"dynamodb:{operation}"
    names = body.get("ExpressionAttributeNames") or {}
    if operation in ("BatchGetItem", "BatchWriteItem"):
        out = []
        for request_name, entry in (body.get("RequestItems") or {}).items():
            arn, table, owner = _table(request_name, account, region)
            (hash_key,) = _key_names(owner, region, table, None)
            context: dict[str, Any] = {}
            if operation == "BatchGetItem":
                keys = entry.get("Keys") or []
                attrs = _names_in(entry.get("ProjectionExpression"),
                                  entry.get("ExpressionAttributeNames") or {})
                attrs += [a for a in entry.get("AttributesToGet") or [] if a not in attrs]
            else:
                keys, attrs = [], []
                for write in entry:
                    if "PutRequest" in write:
                        item = write["PutRequest"].get("Item") or {}
                        keys.append(item)
                        attrs += [a for a in item if a not in attrs]
                    elif "DeleteRequest" in write:
                        keys.append(write["DeleteRequest"].get("Key") or {})
            leading = [v for k in keys if hash_key in k and (v := _scalar(k[hash_key])) is not None]
            if leading:
                context["dynamodb:LeadingKeys"] = list(dict.fromkeys(leading))
            if attrs:
                context["dynamodb:Attributes"] = attrs
            out.append(Access(action, arn, owner, context))
        return out
    if operation == "ListTables":
        return [Access(action, f"arn:aws:dynamodb:{region}:{account}:table/*", account)]
    if operation in ("ExportTableToPointInTime", "DescribeExport") and (
        body.get("TableArn") or body.get("ExportArn")
    ):
        # Exports are authorized on the table (start) and on TABLE/export/ID (describe).
        arn = str(body.get("ExportArn") if operation == "DescribeExport" else body.get("TableArn"))
        owner = arn.split(":")[4] if arn.count(":") >= 5 else account
        return [Access(action, arn, owner)]
    if operation == "ListExports":
        return [Access(action, "*", account)]  # no resource-level permissions in IAM
    if "ResourceArn" in body and "TableName" not in body:
        arn = str(body["ResourceArn"])
        owner = arn.split(":")[4] if arn.count(":") >= 5 else account
        return [Access(action, arn, owner)]
    if "TableName" not in body:
        return [Access(action, "*", account)]
    arn, table, owner = _table(str(body["TableName"]), account, region)
    index = body.get("IndexName")
    resource = f"{arn}/index/{index}" if index else arn
    context = {}
    (hash_key,) = _key_names(owner, region, table, index)
    leading: list[str] = []
    attrs: list[str] = []
    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        key = body.get("Key") or {}
        if hash_key in key and (value := _scalar(key[hash_key])) is not None:
            leading = [value]
    if operation == "PutItem":
        item = body.get("Item") or {}
        if hash_key in item and (value := _scalar(item[hash_key])) is not None:
            leading = [value]
        attrs = list(item)
    if operation == "Query":
        leading = _query_leading_key(body, hash_key)
    if operation in ("GetItem", "Query", "Scan"):
        attrs = _names_in(body.get("ProjectionExpression"), names)
        attrs += [a for a in body.get("AttributesToGet") or [] if a not in attrs]
    if operation == "UpdateItem":
        attrs = list(body.get("Key") or {}) + [
            a for a in _update_names(body.get("UpdateExpression"), names)
            if a not in (body.get("Key") or {})
        ]
        attrs += [a for a in body.get("AttributeUpdates") or {} if a not in attrs]
    if leading:
        context["dynamodb:LeadingKeys"] = leading
    if attrs:
        context["dynamodb:Attributes"] = attrs
    if operation in ("Query", "Scan"):
        context["dynamodb:Select"] = _select(body, index)
    if body.get("ReturnValues"):
        context["dynamodb:ReturnValues"] = body["ReturnValues"]
    return [Access(action, resource, owner, context)]


def iam_access(action: str, form: dict[str, str], account: str) -> Access:
    """The resource an IAM call is about (a role, a user, a policy, or '*')."""
    if "RoleName" in form:
        resource = f"arn:aws:iam::{account}:role/{form['RoleName']}"
    elif "UserName" in form:
        resource = f"arn:aws:iam::{account}:user/{form['UserName']}"
    elif "PolicyArn" in form:
        resource = form["PolicyArn"]
    else:
        resource = "*"
    return Access(f"iam:{action}", resource, account)


# -- S3 (the buckets that table exports are written to) -----------------------------------

#: Bucket-level subresources whose IAM action is not just Get/Put/Delete + "Bucket" + name.
_S3_BUCKET_ACTIONS = {
    ("GET", "uploads"): "s3:ListBucketMultipartUploads",
    ("GET", "location"): "s3:GetBucketLocation",
    ("GET", "versions"): "s3:ListBucketVersions",
    ("POST", "delete"): "s3:DeleteObject",
    ("GET", "encryption"): "s3:GetEncryptionConfiguration",
    ("PUT", "encryption"): "s3:PutEncryptionConfiguration",
}


def s3_access(method: str, path: str, query: str, headers: dict[str, str], account: str) -> Access:
    """The IAM action and resource of one S3 REST request (path-style addressing).

    ``GET /bucket`` is ``s3:ListBucket`` (with ``s3:prefix``), ``GET
    /bucket/key`` ``s3:GetObject``, ``PUT /bucket/key`` ``s3:PutObject``,
    ``DELETE /bucket/key?uploadId=`` ``s3:AbortMultipartUpload``, and a bucket
    subresource ``?policy`` / ``?acl`` / ... ``s3:{Get,Put,Delete}Bucket<Name>``.
    """
    params = {k: v[0] if v else "" for k, v in parse_qs(query, keep_blank_values=True).items()}
    bucket, _, key = path.lstrip("/").partition("/")
    method = method.upper()
    if not bucket:
        return Access("s3:ListAllMyBuckets", "*", account)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    context: dict[str, Any] = {}
    if headers.get("x-amz-acl"):
        context["s3:x-amz-acl"] = headers["x-amz-acl"]
    if not key:
        for sub in params:
            action = _S3_BUCKET_ACTIONS.get((method, sub))
            if action is None and sub[:1].isalpha() and method in ("GET", "PUT", "DELETE") and sub not in (
                "list-type", "prefix", "delimiter", "max-keys", "marker", "continuation-token",
                "start-after", "encoding-type", "fetch-owner",
            ):
                verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}[method]
                action = f"s3:{verb}Bucket{sub[:1].upper()}{sub[1:]}"
            if action is not None:
                return Access(action, bucket_arn, account, context)
        if method == "PUT":
            return Access("s3:CreateBucket", bucket_arn, account, context)
        if method == "DELETE":
            return Access("s3:DeleteBucket", bucket_arn, account)
        if "prefix" in params:
            context["s3:prefix"] = params["prefix"]
        return Access("s3:ListBucket", bucket_arn, account, context)  # GET, HEAD
    object_arn = f"{bucket_arn}/{key}"
    if "acl" in params:
        action = "s3:GetObjectAcl" if method == "GET" else "s3:PutObjectAcl"
    elif "tagging" in params:
        action = {"GET": "s3:GetObjectTagging", "DELETE": "s3:DeleteObjectTagging"}.get(
            method, "s3:PutObjectTagging")
    elif method == "DELETE":
        action = "s3:AbortMultipartUpload" if "uploadId" in params else "s3:DeleteObject"
    elif method in ("GET", "HEAD"):
        action = "s3:ListMultipartUploadParts" if "uploadId" in params else "s3:GetObject"
    else:  # PUT, POST: uploads, parts, completion
        action = "s3:PutObject"
    return Access(action, object_arn, account, context)


def bucket_owner_and_policy(bucket: str) -> tuple[str | None, Policy | None]:
    """The account that owns ``bucket`` (None if there is no such bucket) and its policy."""
    from moto.s3.models import s3_backends

    found = s3_backends.bucket_accounts.get(bucket)
    if found is None:
        return None, None
    partition, owner = found
    try:
        policy = s3_backends[owner][partition].buckets[bucket].policy
    except KeyError:
        return owner, None
    if not policy:
        return owner, None
    text = policy.decode() if isinstance(policy, bytes) else str(policy)
    return owner, Policy(f"bucket policy of {bucket}", _document(text), "resource")
