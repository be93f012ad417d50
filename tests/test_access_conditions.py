"""verify_access reasons about conditions: allowed, allowed with conditions, denied, not tested.

One sandbox for the module; each role shape is a role in account B (or, for the
resource-policy case, the analyst's own identity and the table's policy), probed
over HTTP. Every case checks the report for every action, the hint text, and that
no hint widens a grant: the suggested change, applied to the policy, allows the
action and leaves every other decision of the table as it was.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

import xacct_nb as xn
from xacct_nb import policies
from xacct_nb._access import (
    ALLOWED,
    CONDITIONAL,
    DENIED,
    NOT_TESTED,
    apply_fix,
    grant,
    satisfying_context,
)
from xacct_nb._evaluator import Policy

pytestmark = pytest.mark.sandbox

A, C, D, N = ALLOWED, CONDITIONAL, DENIED, NOT_TESTED
READS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem")
WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
          "dynamodb:BatchWriteItem")
LK = "every one of the partitions (dynamodb:LeadingKeys)"
ATTRS = "every one of the attributes (dynamodb:Attributes) in"
INDEX = "Query index status-index"
INDEX2 = "Query index order-id-index"


@dataclass
class Case:
    """A role shape: its policies, how it is probed, and the report expected."""

    name: str
    docs: Any  # callable(sb) -> {policy name: document}
    expect: dict[str, str]  # action -> status (every probed action)
    conditions: dict[str, str] = field(default_factory=dict)  # action -> condition substring
    hints: dict[str, str] = field(default_factory=dict)  # action -> hint substring
    denied: tuple[str, ...] = ()  # allowed is False (a status C row outside the user's key)
    probe: dict[str, Any] = field(default_factory=dict)  # verify_access keyword arguments
    mfa: bool = False
    known: bool = True  # pass policies=
    trust_mfa: bool = False


def _table(sb):
    return sb.table_arn


def _index(sb):
    return f"{sb.table_arn}/index/*"


def _seed(sb):
    return {"ReadMyCrossAccountTable": {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": list(READS), "Resource": _table(sb)}]}}


def _with(doc_fn, *statements):
    def build(sb):
        docs = doc_fn(sb)
        docs["Extra"] = {"Version": "2012-10-17", "Statement": [s(sb) for s in statements]}
        return docs
    return build


def _stmt(effect, actions, resource=_table, condition=None, sid=None, key="Action"):
    def build(sb):
        out = {"Effect": effect, key: actions,
               "Resource": resource(sb) if callable(resource) else resource}
        if sid:
            out["Sid"] = sid
        if condition:
            out["Condition"] = condition
        return out
    return build


def _reader(sb):
    return {"Read": policies.read_only_policy(_table(sb))}


def _writer(sb):
    return {"WriteOwnPartitions": policies.leading_keys_write_policy(
        _table(sb), ["C-0001", "C-0002"])}


def _attribute_reader(sb):
    return {"ReadSomeAttributes": policies.attribute_limited_read_policy(
        _table(sb), ["total", "status"], key_attributes=["customer_id", "order_ts"])}


def _only(statement_fn):
    return lambda sb: {"Only": {"Version": "2012-10-17", "Statement": [statement_fn(sb)]}}


ALL_READ = {"DescribeTable": A, "GetItem": A, "Query": A, "Scan": A, "BatchGetItem": A,
            INDEX: A}
NO_WRITES = {"PutItem": D, "UpdateItem": D, "DeleteItem": D, "BatchWriteItem": D}
ALL_WRITES = {"PutItem": A, "UpdateItem": A, "DeleteItem": A, "BatchWriteItem": A}
C_WRITES = {"PutItem": C, "UpdateItem": C, "DeleteItem": C, "BatchWriteItem": C}
WRITER_LK = f"{LK} in ['C-0001', 'C-0002']"
MFA = "MFA (aws:MultiFactorAuthPresent) = 'true'"
DESCRIBE = _stmt("Allow", "dynamodb:DescribeTable")

CASES = [
    Case("seed-exact", _seed,
         {"DescribeTable": D, "GetItem": A, "Query": A, "Scan": A, "BatchGetItem": A,
          **NO_WRITES},
         hints={"DescribeTable": "add dynamodb:DescribeTable to the Action list of the "
                                 "statement",
                "PutItem": "does not allow dynamodb:PutItem"}),
    Case("seed-unknown-policies", _seed,
         {"DescribeTable": D, "GetItem": A, "Query": A, "Scan": A, "BatchGetItem": A,
          **NO_WRITES},
         hints={"PutItem": "pass partitions=['<your partition>']"}, known=False),
    Case("seed-key-schema", _seed,
         {"DescribeTable": D, "GetItem": A, "Query": A, "Scan": A, "BatchGetItem": A,
          **NO_WRITES}, probe={"key_schema": ("customer_id", "order_ts")}),
    Case("reader", _reader, {**ALL_READ, **NO_WRITES},
         hints={"PutItem": "add {\"Sid\": \"AllowPutItem\""}),
    Case("writer-no-key", _writer, {**ALL_READ, **C_WRITES},
         conditions={w: WRITER_LK for w in C_WRITES}, hints={"PutItem": "stay within it"}),
    Case("writer-unknown-policies", _writer, {**ALL_READ, **NO_WRITES},
         hints={"PutItem": "unless the role may use only some partitions"}, known=False),
    Case("writer-partition-inside", _writer, {**ALL_READ, **C_WRITES},
         conditions={w: WRITER_LK for w in C_WRITES}, probe={"partitions": ["C-0001"]}),
    Case("writer-partition-outside", _writer, {**ALL_READ, **C_WRITES},
         conditions={w: WRITER_LK for w in C_WRITES},
         hints={"PutItem": "Or, for every action of statement 'WriteOwnPartitions': add "
                           "'C-0050' to its dynamodb:LeadingKeys list."},
         denied=("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"),
         probe={"partitions": ["C-0050"]}),
    Case("writer-partitions-probed-unknown", _writer,
         {**ALL_READ, **C_WRITES},
         conditions={"PutItem": "allowed for 'C-0001'; denied for 'C-0050'"},
         denied=("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"),
         probe={"partitions": ["C-0001", "C-0050"]}, known=False),
    Case("leading-keys-reads", _with(lambda sb: {}, DESCRIBE, _stmt(
        "Allow", list(READS), condition={"ForAllValues:StringEquals": {
            "dynamodb:LeadingKeys": ["C-0001"]}}, sid="ReadOwnPartition")),
         {"DescribeTable": A, "GetItem": C, "Query": C, "Scan": A, "BatchGetItem": C,
          INDEX: D, **NO_WRITES},
         conditions={"GetItem": f"{LK} = 'C-0001'", "Query": f"{LK} = 'C-0001'"},
         hints={"Scan": "does not limit dynamodb:Scan"}),
    Case("attribute-limited-reader", _attribute_reader,
         {"DescribeTable": A, "GetItem": C, "Query": C, "Scan": C, "BatchGetItem": C,
          INDEX: C, **NO_WRITES},
         conditions={"Query": f"{ATTRS} ['customer_id', 'order_ts', 'total', 'status']",
                     "GetItem": "a projection"},
         hints={"Scan": "stay within it", "PutItem": "add {\"Sid\": \"AllowPutItem\""}),
    Case("attribute-limited-unknown", _attribute_reader,
         {"DescribeTable": A, "GetItem": C, "Query": C, "Scan": C, "BatchGetItem": C,
          INDEX: D, **NO_WRITES},
         conditions={"Scan": "only with a projection"}, known=False),
    Case("explicit-deny-scan", _with(_reader, _stmt("Deny", "dynamodb:Scan", "*",
                                                    sid="NoFullScans")),
         {**ALL_READ, "Scan": D, **NO_WRITES},
         hints={"Scan": "explicitly denies dynamodb:Scan (Extra statement 'NoFullScans'): "
                        "remove dynamodb:Scan from the Deny statement 'NoFullScans'"}),
    Case("index-only", _with(lambda sb: {}, DESCRIBE, _stmt("Allow", "dynamodb:Query", _index)),
         {"DescribeTable": A, "GetItem": D, "Query": D, "Scan": D, "BatchGetItem": D,
          INDEX: A, **NO_WRITES},
         hints={"Query": "add dynamodb:Query to the Action list"}),
    Case("mfa-required-with-mfa", _with(lambda sb: {}, DESCRIBE, _stmt(
        "Allow", list(READS), condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
         {"DescribeTable": A, "GetItem": C, "Query": C, "Scan": C, "BatchGetItem": C,
          INDEX: D, **NO_WRITES}, conditions={"Query": MFA}, mfa=True, trust_mfa=True),
    Case("mfa-required-without-mfa", _with(lambda sb: {}, DESCRIBE, _stmt(
        "Allow", list(READS), condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
         {"DescribeTable": A, "GetItem": C, "Query": C, "Scan": C, "BatchGetItem": C,
          INDEX: D, **NO_WRITES}, conditions={"Scan": MFA},
         hints={"Scan": "assume the role with MFA"},
         denied=("GetItem", "Query", "Scan", "BatchGetItem")),
    Case("not-action", _only(lambda sb: {
        "Effect": "Allow", "NotAction": [*WRITES, "dynamodb:Scan"],
        "Resource": [_table(sb), _index(sb)]}),
         {**ALL_READ, "Scan": D, **NO_WRITES}, hints={"Scan": "add {\"Sid\": \"AllowScan\""}),
    Case("wildcards", _only(lambda sb: {
        "Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:Describe*", "dynamodb:Query"],
        "Resource": "arn:aws:dynamodb:*:*:table/MyCross*"}),
         {**ALL_READ, "Scan": D, "BatchGetItem": D, **NO_WRITES}),
    Case("wildcard-deny", _with(lambda sb: {"RW": policies.read_write_policy(_table(sb))},
                                _stmt("Deny", "dynamodb:*Item", "*", sid="NoItems")),
         {"DescribeTable": A, "GetItem": D, "Query": A, "Scan": A, "BatchGetItem": D,
          INDEX: A, **NO_WRITES},
         hints={"GetItem": "narrow or remove that Deny statement"}),
    Case("read-write", lambda sb: {"RW": policies.read_write_policy(_table(sb))},
         {**ALL_READ, **ALL_WRITES}),
    Case("writer-without-update", _with(lambda sb: {}, _stmt(
        "Allow", ["dynamodb:DescribeTable", *READS]), _stmt(
        "Allow", ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
        condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["C-0001"]}},
        sid="WriteOwn")),
         {**ALL_READ, INDEX: D, "PutItem": C, "UpdateItem": D, "DeleteItem": C, "BatchWriteItem": C},
         hints={"UpdateItem": "add dynamodb:UpdateItem to the Action list of statement "
                              "'WriteOwn' in Extra (it keeps that statement's conditions: "
                              f"{LK} = 'C-0001')"}),
    Case("deny-scan-outside-vpc", _with(_reader, _stmt(
        "Deny", "dynamodb:Scan", "*", sid="ScanFromVpcOnly",
        condition={"StringNotEquals": {"aws:SourceVpc": "vpc-0123"}})),
         {**ALL_READ, "Scan": C, **NO_WRITES},
         conditions={"Scan": "not when source VPC (aws:SourceVpc) != 'vpc-0123'"},
         hints={"Scan": "send the requests from the network"}, denied=("Scan",)),
    Case("time-window-open", _with(lambda sb: {}, DESCRIBE, _stmt(
        "Allow", list(READS), condition={"DateLessThan": {"aws:CurrentTime":
                                                          "2999-01-01T00:00:00Z"}})),
         {"DescribeTable": A, "GetItem": C, "Query": C, "Scan": C, "BatchGetItem": C,
          INDEX: D, **NO_WRITES},
         conditions={"GetItem": "time (aws:CurrentTime) before '2999-01-01T00:00:00Z'"}),
    Case("time-window-closed", _with(lambda sb: {}, DESCRIBE, _stmt(
        "Allow", list(READS), condition={"DateLessThan": {"aws:CurrentTime":
                                                          "2020-01-01T00:00:00Z"}})),
         {"DescribeTable": A, "GetItem": C, "Query": C, "Scan": C, "BatchGetItem": C,
          INDEX: D, **NO_WRITES}, hints={"Query": "time window is not now"},
         denied=("GetItem", "Query", "Scan", "BatchGetItem")),
    Case("select-specific-only", _with(lambda sb: {}, DESCRIBE, _stmt(
        "Allow", ["dynamodb:Query", "dynamodb:Scan"],
        condition={"StringEquals": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}})),
         {"DescribeTable": A, "GetItem": D, "Query": C, "Scan": C, "BatchGetItem": D,
          INDEX: D, **NO_WRITES},
         conditions={"Scan": "Select (dynamodb:Select) = 'SPECIFIC_ATTRIBUTES'"},
         hints={"GetItem": "add dynamodb:GetItem to the Action list"}),
    Case("no-policies", lambda sb: {"Nothing": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}},
         {"DescribeTable": D, "GetItem": N, "Query": N, "Scan": D, "BatchGetItem": N,
          **{w: N for w in NO_WRITES}},
         hints={"GetItem": "not tested: DescribeTable is denied, so the key names are "
                           "unknown; pass key_schema=('partition_key', 'sort_key') or key=",
                "Scan": "does not allow dynamodb:Scan"}),
]


@pytest.fixture(scope="module")
def sb():
    with xn.sandbox.start() as sandbox:
        sandbox.admin_session("A").client("iam").put_user_policy(
            UserName="analyst", PolicyName="AssumeTestRoles",
            PolicyDocument=json.dumps(policies.assume_role_policy(
                f"arn:aws:iam::{sandbox.account_b}:role/Shape*")))
        yield sandbox


@pytest.fixture(scope="module")
def reports(sb):
    """Create every role once, assume it, probe it: {case name: (report, docs)}."""
    iam = sb.admin_session("B").client("iam")
    jobs = []
    for number, case in enumerate(CASES):
        name = f"Shape{number:02d}"
        docs = case.docs(sb)
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            policies.trust_policy(sb.account_a, require_mfa=case.trust_mfa)))
        for policy, doc in docs.items():
            iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(doc))
        jobs.append((case, f"arn:aws:iam::{sb.account_b}:role/{name}", docs))

    def probe(job):
        case, arn, docs = job
        mfa = {"mfa_serial": sb.mfa_serial, "mfa_token": "123456"} if case.mfa else {}
        session = xn.assume_role(arn, source_session=sb.analyst_session(), **mfa)
        kwargs = dict(case.probe)
        if case.known:
            kwargs["policies"] = sb.role_policies(arn)
        return case.name, (xn.verify_access(session, sb.table, **kwargs), docs)

    with ThreadPoolExecutor(8) as pool:  # the probes wait on the server: overlap them
        return dict(pool.map(probe, jobs))


def _decisions(docs, sb, resource_policy=None, principal=None):
    """Every decision of the table: (status, condition) per action and resource."""
    known = ([Policy(n, d) for n, d in docs.items()] if isinstance(docs, dict)
             else list(docs))
    if resource_policy is not None:
        known.append(Policy("table resource policy", resource_policy, "resource"))
    out = {}
    for resource in (sb.table_arn, f"{sb.table_arn}/index/status-index",
                     f"{sb.table_arn}/index/order-id-index"):
        for action in ("dynamodb:DescribeTable", *READS, *WRITES):
            out[action, resource] = grant(known, action, resource, principal=principal).key()
    return out, known


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_role_shape(case, reports, sb):
    report, docs = reports[case.name]
    frame = report.frame.set_index("action")
    got = dict(zip(report.frame.action, report.frame.status, strict=True))
    expect = dict(case.expect)
    if INDEX in expect:  # the demo table has two indexes: both answer alike here
        expect[INDEX2] = expect[INDEX]
    assert got == expect, str(report)
    for action, text in case.conditions.items():
        assert text in frame.loc[action, "condition"], (action, frame.loc[action, "condition"])
    for action, text in case.hints.items():
        assert text in frame.loc[action, "hint"], (action, frame.loc[action, "hint"])
    for action, status in got.items():
        expected = {A: True, C: action not in case.denied, D: False, N: None}[status]
        assert report.allowed(action) is expected, (action, str(report))
        row = frame.loc[action]
        assert "xacct-probe" not in row.hint, row.hint  # never the random probe key
        if status == N:
            assert row.hint.startswith("not tested: ") and "pass " in row.hint
        if status in (D, C) and report.allowed(action) is False:
            assert row.hint, action
        if status == C and case.known:
            assert row.condition
            assert "{\"Effect\": \"Allow\"" not in row.hint  # no unconditional allow proposed
    if not case.known:
        return
    # No hint widens a grant: apply each suggested change; the action becomes allowed and
    # every other decision of the table stays the same.
    before, known = _decisions(docs, sb)
    for action, row in frame.iterrows():
        if not isinstance(row.fix, dict):
            continue
        fixed = apply_fix(known, row.fix)
        after, _ = _decisions(fixed, sb)
        target = (row.fix["action"], row.resource)
        g = grant(fixed, *target)
        assert g.status != DENIED, (action, row.fix)
        decision = policies.simulate(
            [p.document for p in fixed], target[0], target[1],
            context=satisfying_context(g) or None)
        assert decision.allowed, (action, decision)
        if row.fix["op"] == "add_value":  # the partition the user named is now allowed
            context = dict(satisfying_context(g), **{"dynamodb:LeadingKeys": [row.fix["value"]]})
            assert policies.simulate([p.document for p in fixed], *target, context=context).allowed
        changed = {k for k in before if before[k] != after[k]}
        assert {a for a, _ in changed} <= {target[0]}, (action, changed)
        # the conditions kept: a conditional grant stays conditional
        if before[target][0] == CONDITIONAL:
            assert after[target][0] == CONDITIONAL


def test_resource_policy_alone(sb):
    """The analyst (account A) reads by table ARN: its own policy and the table's must allow."""
    ledger = sb.table_arn.replace(sb.table, sb.private_table)
    own = policies.read_only_policy(ledger)
    sb.admin_session("A").client("iam").put_user_policy(
        UserName="analyst", PolicyName="ReadLedger", PolicyDocument=json.dumps(own))
    shared = {"Version": "2012-10-17", "Statement": [{
        "Sid": "ShareLedgerWithA", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{sb.account_a}:root"},
        "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"],
        "Resource": ledger}]}
    sb.admin_session("B").client("dynamodb").put_resource_policy(
        ResourceArn=ledger, Policy=json.dumps(shared))
    analyst = sb.analyst_session()
    report = xn.verify_access(analyst, ledger, policies={"ReadLedger": own},
                              resource_policy=shared)
    got = dict(zip(report.frame.action, report.frame.status, strict=True))
    assert got == {"DescribeTable": A, "GetItem": A, "Query": A, "Scan": D,
                   "BatchGetItem": D, **NO_WRITES}, str(report)
    scan = report.frame.set_index("action").loc["Scan"]
    assert scan.hint.startswith("The table's resource policy (owner's account) does not allow "
                                "dynamodb:Scan")
    assert "add dynamodb:Scan to the Action list of statement 'ShareLedgerWithA'" in scan.hint
    principal = report.caller_b["Arn"]
    known = [Policy("ReadLedger", own), Policy("table resource policy", shared, "resource")]
    fixed = apply_fix(known, scan.fix)
    assert grant(fixed, "dynamodb:Scan", ledger, principal=principal).status == ALLOWED
    for action in ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"):
        assert (grant(fixed, action, ledger, principal=principal).key()
                == grant(known, action, ledger, principal=principal).key())
    decision = policies.simulate(own, "dynamodb:Scan", ledger, principal=principal,
                                 resource_policy=fixed[1].document)
    assert decision.allowed


def test_seed_reads_need_key_schema(sb, reports):
    """The seed's role (no DescribeTable): readers say to pass key_schema=, and it works."""
    session = xn.assume_role(f"arn:aws:iam::{sb.account_b}:role/Shape00",
                             source_session=sb.analyst_session())
    with pytest.raises(xn.AccessDeniedError, match=r"passes them as key_schema=\("):
        xn.read_query(session, sb.table, "C-0001")
    with pytest.raises(xn.AccessDeniedError, match="key_schema="):
        xn.read_items(session, sb.table, [{"customer_id": "C-0001", "order_ts": "x"}])
    df = xn.read_query(session, sb.table, "C-0001", key_schema=("customer_id", "order_ts"))
    assert len(df) > 0
    report, _ = reports["seed-exact"]
    assert any("key names found from the Scan's LastEvaluatedKey" in n for n in report.notes)


def test_report_views_show_conditions(reports):
    report, _ = reports["writer-no-key"]
    text = str(report)
    assert "PutItem" in text and "ALLOWED WITH CONDITIONS" in text
    assert f"if: {WRITER_LK}" in text
    html = report._repr_html_()
    assert "#d1ecf1" in html and "allowed with conditions" in html
    assert report.status("dynamodb:PutItem") == CONDITIONAL
    assert report.condition("PutItem") == WRITER_LK
    assert report.ok  # conditional grants are allowed
