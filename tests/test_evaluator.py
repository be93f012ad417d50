"""The policy evaluator against a table of cases, decided as AWS documents them.

References: IAM User Guide, "Policy evaluation logic", "Cross-account policy
evaluation logic", "IAM JSON policy elements: Condition operators" (incl.
"...IfExists", "Condition operator to check existence of condition keys",
"Multivalued context keys"), and the DynamoDB fine-grained access control
examples (dynamodb:LeadingKeys, dynamodb:Attributes, dynamodb:Select).
The cases checked sentence by sentence against the guide (ARN operators, policy
variables, IP addresses, NotPrincipal, account delegation, set operators with
every base operator) are in tests/test_evaluator_guide.py.
"""

from __future__ import annotations

import pytest

import xacct_nb as xn
from xacct_nb import policies
from xacct_nb._evaluator import Policy, Request, evaluate, evaluate_cross_account

A, B = "111111111111", "222222222222"
TABLE = f"arn:aws:dynamodb:us-east-1:{B}:table/Orders"
INDEX = TABLE + "/index/status-index"
OTHER = f"arn:aws:dynamodb:us-east-1:{B}:table/Ledger"
ROLE = f"arn:aws:iam::{B}:role/Reader"
USER_A = f"arn:aws:iam::{A}:user/analyst"
SESSION_B = f"arn:aws:sts::{B}:assumed-role/Reader/me"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", condition=None, sid=None, **extra):
    st = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if condition:
        st["Condition"] = condition
    if sid:
        st["Sid"] = sid
    return st


def deny(action, resource="*", condition=None, sid=None):
    st = allow(action, resource, condition, sid)
    st["Effect"] = "Deny"
    return st


# (id, statements, action, resource, context, expected decision)
CASES = [
    # -- the basics: explicit deny > allow > implicit deny
    ("allow-exact", [allow("dynamodb:Query", TABLE)], "dynamodb:Query", TABLE, {}, "Allow"),
    ("implicit-deny-other-action", [allow("dynamodb:Query", TABLE)], "dynamodb:PutItem", TABLE, {},
     "ImplicitDeny"),
    ("implicit-deny-no-statements", [], "dynamodb:Query", TABLE, {}, "ImplicitDeny"),
    ("explicit-deny-beats-allow", [allow("dynamodb:*", "*"), deny("dynamodb:DeleteItem", TABLE)],
     "dynamodb:DeleteItem", TABLE, {}, "ExplicitDeny"),
    ("deny-elsewhere-does-not-matter", [allow("dynamodb:*", "*"), deny("dynamodb:*", OTHER)],
     "dynamodb:Scan", TABLE, {}, "Allow"),
    ("deny-with-unmet-condition-does-not-apply",
     [allow("dynamodb:Query", TABLE),
      deny("dynamodb:Query", TABLE, {"Bool": {"aws:MultiFactorAuthPresent": "false"}})],
     "dynamodb:Query", TABLE, {"aws:MultiFactorAuthPresent": True}, "Allow"),
    # -- actions: wildcards, case, NotAction
    ("action-wildcard-prefix", [allow("dynamodb:Get*", TABLE)], "dynamodb:GetItem", TABLE, {},
     "Allow"),
    ("action-wildcard-not-substring", [allow("dynamodb:Get*", TABLE)], "dynamodb:BatchGetItem",
     TABLE, {}, "ImplicitDeny"),
    ("action-wildcard-middle", [allow("dynamodb:*Item", TABLE)], "dynamodb:PutItem", TABLE, {},
     "Allow"),
    ("action-question-mark", [allow("dynamodb:?etItem", TABLE)], "dynamodb:GetItem", TABLE, {},
     "Allow"),
    ("action-case-insensitive", [allow("DynamoDB:query", TABLE)], "dynamodb:Query", TABLE, {},
     "Allow"),
    ("action-list", [allow(["dynamodb:GetItem", "dynamodb:Query"], TABLE)], "dynamodb:Query", TABLE,
     {}, "Allow"),
    ("notaction-allows-the-rest", [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
     "dynamodb:Scan", TABLE, {}, "Allow"),
    ("notaction-excludes", [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
     "iam:CreateUser", f"arn:aws:iam::{B}:user/x", {}, "ImplicitDeny"),
    ("deny-notaction-denies-everything-else",
     [allow("dynamodb:*"), {"Effect": "Deny", "NotAction": ["dynamodb:Get*", "dynamodb:Query"],
                            "Resource": "*"}],
     "dynamodb:PutItem", TABLE, {}, "ExplicitDeny"),
    ("deny-notaction-leaves-listed",
     [allow("dynamodb:*"), {"Effect": "Deny", "NotAction": ["dynamodb:Get*", "dynamodb:Query"],
                            "Resource": "*"}],
     "dynamodb:GetItem", TABLE, {}, "Allow"),
    # -- resources: table vs index ARNs, wildcards, NotResource, case
    ("table-arn-does-not-cover-index", [allow("dynamodb:Query", TABLE)], "dynamodb:Query", INDEX,
     {}, "ImplicitDeny"),
    ("index-wildcard", [allow("dynamodb:Query", TABLE + "/index/*")], "dynamodb:Query", INDEX, {},
     "Allow"),
    ("table-star-spans-slashes", [allow("dynamodb:Query", TABLE + "*")], "dynamodb:Query", INDEX,
     {}, "Allow"),
    ("account-wildcard", [allow("dynamodb:Query", "arn:aws:dynamodb:*:*:table/Orders")],
     "dynamodb:Query", TABLE, {}, "Allow"),
    ("resource-case-sensitive", [allow("dynamodb:Query", TABLE.lower())], "dynamodb:Query", TABLE,
     {}, "ImplicitDeny"),
    ("notresource-excludes", [{"Effect": "Allow", "Action": "dynamodb:*", "NotResource": OTHER}],
     "dynamodb:Scan", OTHER, {}, "ImplicitDeny"),
    ("notresource-allows-others", [{"Effect": "Allow", "Action": "dynamodb:*", "NotResource": OTHER}],
     "dynamodb:Scan", TABLE, {}, "Allow"),
    ("deny-notresource",
     [allow("dynamodb:*"), {"Effect": "Deny", "Action": "dynamodb:*", "NotResource": [TABLE, INDEX]}],
     "dynamodb:Scan", OTHER, {}, "ExplicitDeny"),
    # -- String operators
    ("string-equals", [allow("sts:AssumeRole", ROLE, {"StringEquals": {"sts:ExternalId": "abc"}})],
     "sts:AssumeRole", ROLE, {"sts:ExternalId": "abc"}, "Allow"),
    ("string-equals-wrong", [allow("sts:AssumeRole", ROLE, {"StringEquals": {"sts:ExternalId": "abc"}})],
     "sts:AssumeRole", ROLE, {"sts:ExternalId": "abd"}, "ImplicitDeny"),
    ("string-equals-missing-key", [allow("sts:AssumeRole", ROLE,
                                         {"StringEquals": {"sts:ExternalId": "abc"}})],
     "sts:AssumeRole", ROLE, {}, "ImplicitDeny"),
    ("string-equals-case-sensitive-value",
     [allow("sts:AssumeRole", ROLE, {"StringEquals": {"sts:ExternalId": "abc"}})],
     "sts:AssumeRole", ROLE, {"sts:ExternalId": "ABC"}, "ImplicitDeny"),
    ("condition-key-case-insensitive",
     [allow("sts:AssumeRole", ROLE, {"StringEquals": {"STS:externalid": "abc"}})],
     "sts:AssumeRole", ROLE, {"sts:ExternalId": "abc"}, "Allow"),
    ("string-equals-ignore-case",
     [allow("dynamodb:Scan", TABLE, {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "DATA"}})],
     "dynamodb:Scan", TABLE, {"aws:PrincipalTag/team": "data"}, "Allow"),
    ("string-values-are-ored",
     [allow("dynamodb:Scan", TABLE, {"StringEquals": {"aws:PrincipalTag/team": ["a", "b"]}})],
     "dynamodb:Scan", TABLE, {"aws:PrincipalTag/team": "b"}, "Allow"),
    ("string-not-equals-missing-key-is-true",
     [allow("dynamodb:Scan", TABLE, {"StringNotEquals": {"aws:PrincipalTag/team": "x"}})],
     "dynamodb:Scan", TABLE, {}, "Allow"),
    ("string-not-equals-match-is-false",
     [allow("dynamodb:Scan", TABLE, {"StringNotEquals": {"aws:PrincipalTag/team": "x"}})],
     "dynamodb:Scan", TABLE, {"aws:PrincipalTag/team": "x"}, "ImplicitDeny"),
    ("string-like", [allow("dynamodb:Scan", TABLE, {"StringLike": {"aws:userid": "AROA*:jane"}})],
     "dynamodb:Scan", TABLE, {"aws:userid": "AROAXYZ:jane"}, "Allow"),
    ("string-not-like", [deny("dynamodb:Scan", TABLE, {"StringNotLike": {"aws:userid": "AROA*"}}),
                         allow("dynamodb:Scan", TABLE)],
     "dynamodb:Scan", TABLE, {"aws:userid": "AIDAUSER"}, "ExplicitDeny"),
    # -- Numeric and Date operators
    ("numeric-less-than", [allow("sts:AssumeRole", ROLE, {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})],
     "sts:AssumeRole", ROLE, {"aws:MultiFactorAuthAge": 120}, "Allow"),
    ("numeric-less-than-fails", [allow("sts:AssumeRole", ROLE, {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})],
     "sts:AssumeRole", ROLE, {"aws:MultiFactorAuthAge": 7200}, "ImplicitDeny"),
    ("numeric-greater-than-equals", [allow("dynamodb:Scan", TABLE, {"NumericGreaterThanEquals": {"s:n": 5}})],
     "dynamodb:Scan", TABLE, {"s:n": "5"}, "Allow"),
    ("numeric-not-equals", [allow("dynamodb:Scan", TABLE, {"NumericNotEquals": {"s:n": 5}})],
     "dynamodb:Scan", TABLE, {"s:n": 5}, "ImplicitDeny"),
    ("date-less-than", [allow("dynamodb:Scan", TABLE, {"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}})],
     "dynamodb:Scan", TABLE, {"aws:CurrentTime": "2026-11-27T12:00:00Z"}, "Allow"),
    ("date-greater-than-fails", [allow("dynamodb:Scan", TABLE, {"DateGreaterThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}})],
     "dynamodb:Scan", TABLE, {"aws:CurrentTime": "2026-11-27T12:00:00Z"}, "ImplicitDeny"),
    # -- Bool, Null, IfExists
    ("bool-mfa-present", [allow("sts:AssumeRole", ROLE, {"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
     "sts:AssumeRole", ROLE, {"aws:MultiFactorAuthPresent": True}, "Allow"),
    ("bool-mfa-absent", [allow("sts:AssumeRole", ROLE, {"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
     "sts:AssumeRole", ROLE, {}, "ImplicitDeny"),
    ("bool-mfa-false", [allow("sts:AssumeRole", ROLE, {"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
     "sts:AssumeRole", ROLE, {"aws:MultiFactorAuthPresent": "false"}, "ImplicitDeny"),
    ("bool-if-exists-missing-is-true",
     [allow("sts:AssumeRole", ROLE, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})],
     "sts:AssumeRole", ROLE, {}, "Allow"),
    ("bool-if-exists-present-false",
     [allow("sts:AssumeRole", ROLE, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})],
     "sts:AssumeRole", ROLE, {"aws:MultiFactorAuthPresent": False}, "ImplicitDeny"),
    ("deny-bool-if-exists-false-no-mfa-key",
     [allow("dynamodb:*"), deny("dynamodb:*", "*", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})],
     "dynamodb:Scan", TABLE, {}, "ExplicitDeny"),
    ("null-true-key-absent", [allow("dynamodb:Scan", TABLE, {"Null": {"dynamodb:Attributes": "true"}})],
     "dynamodb:Scan", TABLE, {}, "Allow"),
    ("null-true-key-present", [allow("dynamodb:Scan", TABLE, {"Null": {"dynamodb:Attributes": "true"}})],
     "dynamodb:Scan", TABLE, {"dynamodb:Attributes": ["a"]}, "ImplicitDeny"),
    ("null-false-key-present", [allow("dynamodb:Scan", TABLE, {"Null": {"dynamodb:LeadingKeys": "false"}})],
     "dynamodb:Scan", TABLE, {"dynamodb:LeadingKeys": ["C-1"]}, "Allow"),
    ("string-equals-if-exists-present-wrong",
     [allow("dynamodb:Query", TABLE, {"StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}})],
     "dynamodb:Query", TABLE, {"dynamodb:Select": "ALL_ATTRIBUTES"}, "ImplicitDeny"),
    # -- set operators with DynamoDB keys
    ("leading-keys-subset", [allow("dynamodb:PutItem", TABLE, {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["C-1", "C-2"]}})],
     "dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ["C-2"]}, "Allow"),
    ("leading-keys-outside", [allow("dynamodb:PutItem", TABLE, {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["C-1", "C-2"]}})],
     "dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ["C-2", "C-3"]}, "ImplicitDeny"),
    ("for-all-values-missing-key-is-vacuously-true",
     [allow("dynamodb:Scan", TABLE, {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["C-1"]}})],
     "dynamodb:Scan", TABLE, {}, "Allow"),
    ("attributes-for-all-values",
     [allow("dynamodb:Query", TABLE, {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["customer_id", "order_ts", "total"]}})],
     "dynamodb:Query", TABLE, {"dynamodb:Attributes": ["customer_id", "total"]}, "Allow"),
    ("attributes-extra-one-denied",
     [allow("dynamodb:Query", TABLE, {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["customer_id", "order_ts", "total"]}})],
     "dynamodb:Query", TABLE, {"dynamodb:Attributes": ["customer_id", "ssn"]}, "ImplicitDeny"),
    ("for-any-value", [allow("dynamodb:Query", TABLE, {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["total"]}})],
     "dynamodb:Query", TABLE, {"dynamodb:Attributes": ["customer_id", "total"]}, "Allow"),
    ("for-any-value-missing-key-is-false",
     [allow("dynamodb:Query", TABLE, {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["total"]}})],
     "dynamodb:Query", TABLE, {}, "ImplicitDeny"),
    ("deny-for-any-value-sensitive-attribute",
     [allow("dynamodb:*"), deny("dynamodb:*", TABLE, {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ssn"]}})],
     "dynamodb:GetItem", TABLE, {"dynamodb:Attributes": ["name", "ssn"]}, "ExplicitDeny"),
    ("for-all-values-string-like", [allow("dynamodb:PutItem", TABLE, {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["C-00*"]}})],
     "dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ["C-0001", "C-0099"]}, "Allow"),
    ("select-specific-attributes",
     [allow("dynamodb:Query", TABLE, {"StringEquals": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}})],
     "dynamodb:Query", TABLE, {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}, "Allow"),
    # -- Arn operators
    ("arn-like", [allow("dynamodb:Scan", TABLE, {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{B}:role/Read*"}})],
     "dynamodb:Scan", TABLE, {"aws:PrincipalArn": ROLE}, "Allow"),
    ("arn-not-equals", [allow("dynamodb:Scan", TABLE, {"ArnNotEquals": {"aws:PrincipalArn": ROLE}})],
     "dynamodb:Scan", TABLE, {"aws:PrincipalArn": ROLE}, "ImplicitDeny"),
    # -- several operators and keys: all must hold
    ("operators-are-anded",
     [allow("sts:AssumeRole", ROLE, {"StringEquals": {"sts:ExternalId": "abc"},
                                     "Bool": {"aws:MultiFactorAuthPresent": "true"}})],
     "sts:AssumeRole", ROLE, {"sts:ExternalId": "abc"}, "ImplicitDeny"),
    ("keys-are-anded",
     [allow("dynamodb:Scan", TABLE, {"StringEquals": {"k:a": "1", "k:b": "2"}})],
     "dynamodb:Scan", TABLE, {"k:a": "1", "k:b": "3"}, "ImplicitDeny"),
]


@pytest.mark.parametrize(
    ("statements", "action", "resource", "context", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_identity_policy_cases(statements, action, resource, context, expected):
    decision = evaluate([Policy("p", doc(*statements))], Request(SESSION_B, action, resource, context))
    assert decision.decision == expected
    if expected != "ImplicitDeny":
        assert decision.policy == "p" and decision.statement is not None
    else:
        assert decision.statement is None and "no identity-based policy allows" in decision.reason


def test_there_are_enough_cases():
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


# -- resource policies, trust policies, and two accounts -------------------------------------

TRUST = policies.trust_policy(A, external_id="ext-123")
CALLER = {"CallerPolicy": policies.assume_role_policy(ROLE)}


@pytest.mark.parametrize(
    ("principal", "caller_policies", "context", "expected", "reason"),
    [
        (USER_A, CALLER, {"sts:ExternalId": "ext-123"}, "Allow", "allowed by identity"),
        (USER_A, CALLER, {}, "ImplicitDeny", "trust policy of the resource's account"),
        (USER_A, CALLER, {"sts:ExternalId": "wrong"}, "ImplicitDeny", "trust policy"),
        (USER_A, {}, {"sts:ExternalId": "ext-123"}, "ImplicitDeny", "no identity-based policy"),
        (f"arn:aws:sts::{A}:assumed-role/AssumeDynamoDBAccessRole/s", CALLER,
         {"sts:ExternalId": "ext-123"}, "Allow", "allowed"),
        ("arn:aws:iam::333333333333:user/mallory", CALLER, {"sts:ExternalId": "ext-123"},
         "ImplicitDeny", "trust policy"),
    ],
)
def test_cross_account_assume_role(principal, caller_policies, context, expected, reason):
    decision = policies.simulate(caller_policies, "sts:AssumeRole", ROLE, principal=principal,
                                 context=context, resource_policy=TRUST)
    assert decision.decision == expected
    assert reason in str(decision)


def test_mfa_trust_policy():
    trust = policies.trust_policy(A, require_mfa=True)
    no_mfa = policies.simulate(CALLER, "sts:AssumeRole", ROLE, principal=USER_A, resource_policy=trust)
    assert not no_mfa.allowed
    with_mfa = policies.simulate(CALLER, "sts:AssumeRole", ROLE, principal=USER_A,
                                 resource_policy=trust, context={"aws:MultiFactorAuthPresent": True})
    assert with_mfa.allowed and with_mfa.sid == "AssumeCrossAccountRoles"


def test_trust_naming_a_role_matches_its_sessions_only():
    trust = policies.trust_policy(f"arn:aws:iam::{A}:role/AssumeDynamoDBAccessRole")
    session = f"arn:aws:sts::{A}:assumed-role/AssumeDynamoDBAccessRole/nb"
    assert policies.simulate(CALLER, "sts:AssumeRole", ROLE, principal=session,
                             resource_policy=trust).allowed
    assert not policies.simulate(CALLER, "sts:AssumeRole", ROLE, principal=USER_A,
                                 resource_policy=trust).allowed


def test_table_resource_policy_cross_account():
    resource_policy = doc({"Sid": "ShareWithA", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                           "Action": ["dynamodb:Query", "dynamodb:GetItem"], "Resource": [TABLE, INDEX]})
    caller = {"ReadShared": policies.read_only_policy(TABLE)}
    ok = policies.simulate(caller, "dynamodb:Query", TABLE, principal=USER_A, resource_policy=resource_policy)
    assert ok.allowed
    scan = policies.simulate(caller, "dynamodb:Scan", TABLE, principal=USER_A, resource_policy=resource_policy)
    assert scan.decision == "ImplicitDeny" and "resource-based policy" in scan.reason
    # Both sides are needed across accounts: the resource policy alone is not enough.
    alone = policies.simulate({}, "dynamodb:Query", TABLE, principal=USER_A, resource_policy=resource_policy)
    assert not alone.allowed and "no identity-based policy" in alone.reason


def test_same_account_resource_policy_alone_allows():
    # The resource policy names the session itself: "If a resource-based policy grants
    # permission directly to the IAM user or the session principal that is making the
    # request, then an implicit deny in an identity-based policy [...] does not impact the
    # final decision." (Naming only the account would delegate: see test_evaluator_guide.py.)
    resource_policy = doc({"Effect": "Allow", "Principal": {"AWS": SESSION_B.replace("sts", "sts")},
                           "Action": "dynamodb:Scan", "Resource": TABLE})
    decision = evaluate_cross_account([], [Policy("table", resource_policy, "resource")],
                                      Request(SESSION_B, "dynamodb:Scan", TABLE), B)
    assert decision.allowed and decision.policy == "table"


def test_explicit_deny_in_resource_policy_wins():
    resource_policy = doc({"Sid": "NoScans", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:Scan",
                           "Resource": TABLE})
    decision = policies.simulate({"Admin": doc(allow("*"))}, "dynamodb:Scan", TABLE,
                                 resource_policy=resource_policy)
    assert decision.decision == "ExplicitDeny" and decision.sid == "NoScans"
    assert "explicit deny in resource policy" in decision.reason


def test_generated_policies_decide_as_intended():
    writer = policies.leading_keys_write_policy(TABLE, ["C-0001"])
    assert policies.simulate(writer, "dynamodb:PutItem", TABLE,
                             context={"dynamodb:LeadingKeys": ["C-0001"]}).allowed
    denied = policies.simulate(writer, "dynamodb:PutItem", TABLE,
                               context={"dynamodb:LeadingKeys": ["C-0002"]})
    assert denied.decision == "ImplicitDeny"
    reader = policies.read_only_policy(TABLE)
    assert policies.simulate(reader, "dynamodb:Query", INDEX).sid == "ReadTables"
    assert not policies.simulate(reader, "dynamodb:Query", OTHER).allowed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "Query"}, "action must look like 'dynamodb:Query'"),
        ({"resource": "Orders"}, "resource must be an ARN"),
    ],
)
def test_simulate_bad_input(kwargs, message):
    args = {"action": "dynamodb:Query", "resource": TABLE, **kwargs}
    with pytest.raises(xn.InvalidArgumentError, match=message):
        policies.simulate({}, args["action"], args["resource"])


def test_bad_policy_documents():
    with pytest.raises(xn.InvalidArgumentError, match="has no Statement"):
        evaluate([Policy("broken", {"Version": "2012-10-17"})], Request(USER_A, "s3:x", TABLE))
    with pytest.raises(xn.InvalidArgumentError, match="Unsupported condition operator 'IpAddressX'"):
        evaluate([Policy("p", doc(allow("dynamodb:Scan", TABLE, {"IpAddressX": {"aws:SourceIp": "1"}})))],
                 Request(USER_A, "dynamodb:Scan", TABLE, {"aws:SourceIp": "1"}))
