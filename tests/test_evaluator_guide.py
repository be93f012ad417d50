"""The evaluator against cases taken from the IAM User Guide, each with the sentence it checks.

Pages quoted (docs.aws.amazon.com/IAM/latest/UserGuide/...):

* OPS  -- "IAM JSON policy elements: Condition operators"
          (reference_policies_elements_condition_operators.html)
* MULTI -- "Single-valued vs. multivalued context keys" and "Multivalued context
          keys examples" (reference_policies_condition-single-vs-multi-valued-context-keys.html,
          reference_policies_condition_examples-multi-valued-context-keys.html)
* VARS -- "IAM policy elements: Variables and tags" (reference_policies_variables.html)
* NOTP -- "AWS JSON policy elements: NotPrincipal" (reference_policies_elements_notprincipal.html)
* PRIN -- "AWS JSON policy elements: Principal" (reference_policies_elements_principal.html)
* EVAL -- "Policy evaluation logic" (reference_policies_evaluation-logic.html)
* XACCT -- "Cross-account policy evaluation logic"
          (reference_policies_evaluation-logic-cross-account.html)

Each case quotes the guide (``quote``). Where the guide is silent the quote starts
with ``CHOICE:`` and states the conservative reading the evaluator takes (written
down in the module docstring of ``xacct_nb._evaluator``): a value that cannot be
compared, or an empty set under a set operator, never satisfies an Allow and
always satisfies a Deny.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

import xacct_nb as xn
from xacct_nb import policies
from xacct_nb._evaluator import Policy, Request, evaluate, evaluate_cross_account

A, B = "111111111111", "222222222222"
BOB_ACCOUNT = "444455556666"
DAVID = f"arn:aws:iam::{B}:user/David"
SESSION = f"arn:aws:sts::{B}:assumed-role/Reader/jane"
ROLE = f"arn:aws:iam::{B}:role/Reader"
USER_A = f"arn:aws:iam::{A}:user/analyst"
BUCKET = "arn:aws:s3:::mybucket"
TABLE = f"arn:aws:dynamodb:us-east-1:{B}:table/Orders"
BOB = f"arn:aws:iam::{BOB_ACCOUNT}:user/Bob"
ALICE = f"arn:aws:iam::{BOB_ACCOUNT}:user/Alice"
BOB_ROOT = f"arn:aws:iam::{BOB_ACCOUNT}:root"
AUDIT_SESSION = f"arn:aws:sts::{BOB_ACCOUNT}:assumed-role/cross-account-read-only-role/cross-account-audit-app"
AUDIT_ROLE = f"arn:aws:iam::{BOB_ACCOUNT}:role/cross-account-read-only-role"
AUDIT_BUCKET = "arn:aws:s3:::Bucket_AccountAudit"

ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def allow(action: Any = "*", resource: Any = "*", condition: dict[str, Any] | None = None,
          **extra: Any) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if condition is not None:
        st["Condition"] = condition
    return st


def deny(action: Any = "*", resource: Any = "*", condition: dict[str, Any] | None = None,
         **extra: Any) -> dict[str, Any]:
    return {**allow(action, resource, condition, **extra), "Effect": "Deny"}


def when(condition: dict[str, Any]) -> list[dict[str, Any]]:
    """An identity policy allowing everything under ``condition``."""
    return [allow("*", "*", condition)]


def deny_when(condition: dict[str, Any]) -> list[dict[str, Any]]:
    """Allow everything, but deny everything under ``condition``."""
    return [ALLOW_ALL, deny("*", "*", condition)]


@dataclass
class Case:
    id: str
    quote: str  # the guide's sentence or example this case checks (CHOICE: where it is silent)
    expected: str
    identity: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    principal: str = DAVID
    action: str = "s3:GetObject"
    resource: str = BUCKET + "/David/notes.txt"
    #: statements of the resource's policy; None: only identity policies are evaluated
    resource_policy: list[dict[str, Any]] | None = None
    resource_kind: str = "resource"
    resource_account: str | None = B
    version: str | None = "2012-10-17"

    def decide(self) -> str:
        identity_doc: dict[str, Any] = {"Statement": self.identity}
        if self.version:
            identity_doc["Version"] = self.version
        request = Request(self.principal, self.action, self.resource, self.context)
        mine = [Policy("identity", identity_doc)] if self.identity else []
        if self.resource_policy is None:
            return evaluate(mine, request).decision
        theirs = [Policy("resource", {"Version": "2012-10-17", "Statement": self.resource_policy},
                         self.resource_kind)]
        return evaluate_cross_account(mine, theirs, request, self.resource_account).decision


OPS_MISSING = ("If the key that you specify in a policy condition is not present in the request "
               "context, the values do not match and the condition is false.")
OPS_NEGATED_MISSING = ("If the policy condition requires that the key is not matched, such as "
                       "StringNotLike or ArnNotLike, and the right key is not present, the "
                       "condition is true.")
GUIDE_PATTERN = "arn:aws:someservice:*:111122223333:finance/*"
GUIDE_VALUE = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
TAG_DENY = {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}
TAG_QUOTE = ("MULTI example DenyRestrictedTags: \"ForAllValues:StringNotLike\": {\"aws:TagKeys\": "
             "\"key1*\"} -- ")
NOTP_BOB = [allow("s3:*", "*", Principal={"AWS": BOB_ACCOUNT}),
            {"Effect": "Deny", "NotPrincipal": {"AWS": [BOB, BOB_ROOT]}, "Action": "s3:*",
             "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"]}]
NOTP_AUDIT = [allow("s3:*", "*", Principal={"AWS": BOB_ACCOUNT}),
              {"Effect": "Deny",
               "NotPrincipal": {"AWS": [AUDIT_SESSION, AUDIT_ROLE, BOB_ROOT]},
               "Action": "s3:*", "Resource": [AUDIT_BUCKET, AUDIT_BUCKET + "/*"]}]

CASES: list[Case] = [
    # == OPS: the missing-key rule =============================================================
    Case("ops-missing-key-string-equals-is-false", OPS_MISSING, "ImplicitDeny",
         when({"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}})),
    Case("ops-missing-key-string-not-like-is-true", OPS_NEGATED_MISSING, "Allow",
         when({"StringNotLike": {"aws:PrincipalTag/job-category": "iamuser-*"}})),
    Case("ops-missing-key-arn-not-like-is-true", OPS_NEGATED_MISSING, "Allow",
         when({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:topic"}})),
    Case("ops-missing-key-deny-string-not-equals-denies", OPS_NEGATED_MISSING, "ExplicitDeny",
         deny_when({"StringNotEquals": {"aws:PrincipalTag/team": "data"}})),
    # == OPS: string operators =================================================================
    Case("ops-string-equals-principal-tag",
         "OPS: the principal making the request must be tagged with the iamuser-admin job category",
         "Allow", when({"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}),
         {"aws:PrincipalTag/job-category": "iamuser-admin"}),
    Case("ops-string-equals-untagged-user",
         "OPS: If a user without the tag attempts to view or edit an access key, the condition "
         "returns false and the request is implicitly denied by this statement.", "ImplicitDeny",
         when({"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}),
         {"aws:PrincipalTag/other": "x"}),
    Case("ops-string-equals-is-case-sensitive", "OPS: StringEquals -- Exact matching, case sensitive",
         "ImplicitDeny", when({"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}),
         {"aws:PrincipalTag/job-category": "IAMUser-Admin"}),
    Case("ops-string-equals-ignore-case", "OPS: StringEqualsIgnoreCase -- Exact matching, ignoring case",
         "Allow", when({"StringEqualsIgnoreCase": {"aws:PrincipalTag/job-category": "iamuser-admin"}}),
         {"aws:PrincipalTag/job-category": "IAMUser-Admin"}),
    Case("ops-string-not-equals-ignore-case",
         "OPS: StringNotEqualsIgnoreCase -- Negated matching, ignoring case", "ImplicitDeny",
         when({"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/job-category": "iamuser-admin"}}),
         {"aws:PrincipalTag/job-category": "IAMUSER-ADMIN"}),
    Case("ops-string-like-needs-wildcards-for-partial-match",
         "OPS: StringLike -- You must specify wildcards to achieve partial string matches.",
         "ImplicitDeny", when({"StringLike": {"aws:PrincipalTag/job-category": "iamuser"}}),
         {"aws:PrincipalTag/job-category": "iamuser-admin"}),
    Case("ops-string-like-question-mark",
         "OPS: StringLike -- single-character match wildcards (?) anywhere in the string",
         "Allow", when({"StringLike": {"aws:PrincipalTag/job-category": "iamuser-?dmin"}}),
         {"aws:PrincipalTag/job-category": "iamuser-admin"}),
    Case("ops-string-not-like-matching-value",
         "OPS: StringNotLike -- Negated case-sensitive matching", "ExplicitDeny",
         deny_when({"StringNotLike": {"aws:userid": "AROA*"}}), {"aws:userid": "AIDAEXAMPLE"}),
    # == OPS: numeric ==========================================================================
    Case("ops-numeric-max-keys-10", "OPS: the requester can list *up to* 10 objects in "
         "example_bucket at a time (NumericLessThanEquals s3:max-keys 10)", "Allow",
         when({"NumericLessThanEquals": {"s3:max-keys": "10"}}), {"s3:max-keys": "10"},
         action="s3:ListBucket", resource="arn:aws:s3:::example_bucket"),
    Case("ops-numeric-max-keys-11", "OPS: only the operations that include the max-keys context "
         "key with a value of less than or equal to 10 would be allowed", "ImplicitDeny",
         when({"NumericLessThanEquals": {"s3:max-keys": "10"}}), {"s3:max-keys": "11"},
         action="s3:ListBucket", resource="arn:aws:s3:::example_bucket"),
    Case("ops-numeric-decimal", "OPS: comparing a key to an integer or decimal value", "Allow",
         when({"NumericGreaterThan": {"s:n": "2.5"}}), {"s:n": "2.75"}),
    Case("choice-numeric-not-equals-non-number-allow",
         "CHOICE: a non-number cannot be compared, so NumericNotEquals 'abc' vs 5 never "
         "satisfies an Allow", "ImplicitDeny", when({"NumericNotEquals": {"s:n": "5"}}),
         {"s:n": "abc"}),
    Case("choice-numeric-not-equals-non-number-deny",
         "CHOICE: a non-number cannot be compared, so NumericNotEquals 'abc' vs 5 always "
         "satisfies a Deny", "ExplicitDeny", deny_when({"NumericNotEquals": {"s:n": "5"}}),
         {"s:n": "abc"}),
    # == OPS: date =============================================================================
    Case("ops-date-token-issued-2020", "OPS: the temporary security credentials used to make the "
         "request were issued in 2020 (DateGreaterThan aws:TokenIssueTime 2020-01-01T00:00:01Z)",
         "Allow", when({"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}),
         {"aws:TokenIssueTime": "2020-06-01T12:00:00Z"}),
    Case("ops-date-iam-user-without-token",
         "OPS: In this example, if an IAM user attempts to view or edit an access key, the "
         "request is denied.", "ImplicitDeny",
         when({"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}})),
    Case("ops-date-epoch", "OPS: You must specify date/time values with one of the W3C "
         "implementations of the ISO 8601 date formats or in epoch (UNIX) time.", "Allow",
         when({"DateLessThan": {"aws:CurrentTime": "1893456000"}}),  # 2030-01-01
         {"aws:CurrentTime": "2026-11-30T12:00:00Z"}),
    # == OPS: bool and binary ==================================================================
    Case("ops-bool-secure-transport-false-denies", "OPS BooleanExample: deny all S3 actions on a "
         "bucket and its contents if the request is not over SSL", "ExplicitDeny",
         deny_when({"Bool": {"aws:SecureTransport": "false"}}), {"aws:SecureTransport": False}),
    Case("ops-bool-secure-transport-true", "OPS BooleanExample: \"Bool\": {\"aws:SecureTransport\": "
         "\"false\"} does not deny a request over SSL", "Allow",
         deny_when({"Bool": {"aws:SecureTransport": "false"}}), {"aws:SecureTransport": "true"}),
    Case("ops-binary-equals", "OPS: BinaryEquals compares the value of the specified key byte for "
         "byte against a base-64 encoded representation of the binary value in the policy",
         "Allow", when({"BinaryEquals": {"k:bin": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}),
         {"k:bin": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}),
    Case("ops-binary-no-policy-variable", "OPS: You can not use a policy variable with the Binary "
         "condition operator. (${...} is compared as written)", "Allow",
         when({"BinaryEquals": {"k:bin": "${aws:username}"}}),
         {"k:bin": "${aws:username}", "aws:username": "David"}),
    # == OPS: IP address =======================================================================
    Case("ops-ip-in-range", "OPS: the request must come from the IP range 203.0.113.0 to "
         "203.0.113.255", "Allow", when({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
         {"aws:SourceIp": "203.0.113.7"}),
    Case("ops-ip-out-of-range", "OPS: the request must come from the IP range 203.0.113.0 to "
         "203.0.113.255", "ImplicitDeny", when({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
         {"aws:SourceIp": "198.51.100.1"}),
    Case("ops-ip-ipv6", "OPS: mix IPv4 and IPv6 addresses to cover all of your organization's "
         "valid IP addresses", "Allow",
         when({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}),
         {"aws:SourceIp": "2001:db8:1234:5678:abcd::1"}),
    Case("ops-ip-ipv6-outside", "OPS: The value must be in the standard CIDR format (for example, "
         "203.0.113.0/24 or 2001:DB8:1234:5678::/64)", "ImplicitDeny",
         when({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}),
         {"aws:SourceIp": "2001:db8:1234:9999::1"}),
    Case("ops-ip-default-prefix-32", "OPS: If you specify an IP address without the associated "
         "routing prefix, IAM uses the default prefix value of /32.", "ImplicitDeny",
         when({"IpAddress": {"aws:SourceIp": "203.0.113.5"}}), {"aws:SourceIp": "203.0.113.6"}),
    Case("ops-ip-default-prefix-32-same", "OPS: If you specify an IP address without the "
         "associated routing prefix, IAM uses the default prefix value of /32.", "Allow",
         when({"IpAddress": {"aws:SourceIp": "203.0.113.5"}}), {"aws:SourceIp": "203.0.113.5"}),
    Case("ops-ip-vpc-endpoint-no-source-ip", "OPS: The aws:SourceIp key is always present in the "
         "request context, except when the requester uses a VPC endpoint to make the request. In "
         "this case, the condition returns false and the request is implicitly denied by this "
         "statement.", "ImplicitDeny", when({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
    Case("ops-not-ip-address-outside-denies", "OPS: NotIpAddress -- All IP addresses except the "
         "specified IP address or range", "ExplicitDeny",
         deny_when({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
         {"aws:SourceIp": "198.51.100.1"}),
    Case("ops-not-ip-address-inside", "OPS: NotIpAddress -- All IP addresses except the specified "
         "IP address or range", "Allow",
         deny_when({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
         {"aws:SourceIp": "203.0.113.9"}),
    Case("ops-not-ip-address-missing-key", OPS_NEGATED_MISSING + " (NotIpAddress is the negated "
         "IP operator)", "ExplicitDeny",
         deny_when({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
    Case("choice-ip-not-an-address", "CHOICE: 'not-an-ip' cannot be compared: never satisfies an "
         "Allow", "ImplicitDeny", when({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
         {"aws:SourceIp": "not-an-ip"}),
    # == OPS: ARN ==============================================================================
    Case("ops-arn-string-like-crosses-colons", "OPS: With a StringLike condition, the match "
         "succeeds. The first asterisk matches us-east-2:999999999999:store/abc:", "Allow",
         when({"StringLike": {"aws:SourceArn": GUIDE_PATTERN}}), {"aws:SourceArn": GUIDE_VALUE}),
    Case("ops-arn-like-matches-between-colons", "OPS: With an ArnLike condition, which matches "
         "elements between colons, the match fails.", "ImplicitDeny",
         when({"ArnLike": {"aws:SourceArn": GUIDE_PATTERN}}), {"aws:SourceArn": GUIDE_VALUE}),
    Case("ops-arn-equals-like-arn-like", "OPS: The ArnEquals and ArnLike condition operators "
         "behave identically.", "ImplicitDeny",
         when({"ArnEquals": {"aws:SourceArn": GUIDE_PATTERN}}), {"aws:SourceArn": GUIDE_VALUE}),
    Case("ops-arn-equals-wildcard-in-segment", "OPS: Each of the six colon-delimited components "
         "of the ARN is checked separately and each can include multi-character match wildcards",
         "Allow", when({"ArnEquals": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}}),
         {"aws:SourceArn": "arn:aws:someservice:us-east-2:111122223333:finance/document.txt"}),
    Case("ops-arn-like-is-case-sensitive", "OPS: ArnEquals, ArnLike -- Case-sensitive matching of "
         "the ARN.", "ImplicitDeny", when({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{B}:role/reader"}}),
         {"aws:PrincipalArn": ROLE}),
    Case("ops-arn-not-equals-wildcard-excluded", "OPS: The ArnNotEquals and ArnNotLike condition "
         "operators behave identically.", "Allow",
         deny_when({"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{B}:role/Read*"}}),
         {"aws:PrincipalArn": ROLE}),
    Case("ops-arn-not-equals-wildcard-others-denied", "OPS: ArnNotEquals, ArnNotLike -- Negated "
         "matching for ARN.", "ExplicitDeny",
         deny_when({"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{B}:role/Read*"}}),
         {"aws:PrincipalArn": f"arn:aws:iam::{B}:role/Admin"}),
    Case("ops-arn-not-like-across-colons", "OPS: ArnNotLike of the guide's pattern: the first "
         "asterisk matches only us-east-2 and fails on 999999999999:store/abc:", "ExplicitDeny",
         deny_when({"ArnNotLike": {"aws:SourceArn": GUIDE_PATTERN}}), {"aws:SourceArn": GUIDE_VALUE}),
    Case("ops-arn-source-arn-missing", "OPS: If an IAM user attempts to perform this operation "
         "directly, the condition returns false and the request is implicitly denied by this "
         "statement.", "ImplicitDeny",
         when({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:TOPIC-ID"}})),
    Case("choice-arn-like-value-not-an-arn", "CHOICE: a value that is not a six-part ARN cannot "
         "be compared: ArnNotLike never satisfies an Allow", "ImplicitDeny",
         when({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"}}), {"aws:SourceArn": "topic"}),
    # == OPS: ...IfExists and Null =============================================================
    Case("ops-if-exists-present-match", "OPS: If the resource being checked has an "
         "\"ec2:InstanceType\" condition key, then allow the action only if the key value begins "
         "with \"t1.\", \"t2.\", or \"m3.\"", "Allow",
         when({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}),
         {"ec2:InstanceType": "t2.micro"}, action="ec2:RunInstances", resource="*"),
    Case("ops-if-exists-present-no-match", "OPS: allow the action only if the key value begins "
         "with \"t1.\", \"t2.\", or \"m3.\"", "ImplicitDeny",
         when({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}),
         {"ec2:InstanceType": "m5.large"}, action="ec2:RunInstances", resource="*"),
    Case("ops-if-exists-missing-is-true", "OPS: If the key is not present, evaluate the condition "
         "element as true.", "Allow",
         when({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}),
         action="ec2:RunInstances", resource="*"),
    Case("ops-this-policy-does-not-work", "OPS THISPOLICYDOESNOTWORK: These additional resources do "
         "not have the ec2:InstanceType condition key, so the StringLike check fails", "ImplicitDeny",
         when({"StringLike": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}),
         action="ec2:RunInstances", resource="*"),
    Case("ops-deny-negated-if-exists-missing-tag", "OPS: If you are using an \"Effect\": \"Deny\" "
         "element with a negated condition operator like StringNotEqualsIfExists, the request is "
         "still denied even if the tag is missing.", "ExplicitDeny",
         deny_when({"StringNotEqualsIfExists": {"aws:ResourceTag/team": "data"}})),
    Case("ops-null-true-no-temporary-credentials", "OPS: the user must not be using temporary "
         "credentials (the key must not exist) for the user to use the Amazon EC2 API", "Allow",
         when({"Null": {"aws:TokenIssueTime": "true"}}), action="ec2:DescribeInstances"),
    Case("ops-null-true-with-temporary-credentials", "OPS: If the user is using temporary "
         "credentials, then the key aws:TokenIssueTime exists and has a value.", "ImplicitDeny",
         when({"Null": {"aws:TokenIssueTime": "true"}}),
         {"aws:TokenIssueTime": "2026-11-30T10:00:00Z"}, action="ec2:DescribeInstances"),
    Case("ops-null-false-key-present", "OPS: false (the key exists and its value is not null)",
         "Allow", when({"Null": {"aws:TokenIssueTime": "false"}}),
         {"aws:TokenIssueTime": "2026-11-30T10:00:00Z"}),
    # == MULTI: set operators ==================================================================
    Case("multi-for-all-values-missing-key", "MULTI: ForAllValues [...] It also returns true if "
         "there are no context keys in the request.", "Allow",
         when({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}})),
    Case("multi-for-all-values-subset", "MULTI: The condition returns true if each context key "
         "value in the request matches at least one context key value in the policy.", "Allow",
         when({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}),
         {"aws:TagKeys": ["environment"]}),
    Case("multi-for-all-values-extra-key", "MULTI: The condition returns true if each context key "
         "value in the request matches at least one context key value in the policy.",
         "ImplicitDeny",
         when({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}),
         {"aws:TagKeys": ["environment", "owner"]}),
    Case("multi-for-any-value-one-matches", "MULTI: ForAnyValue [...] returns true if any one of "
         "the context key values in the request matches any one of the context key values in the "
         "policy", "Allow", when({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}}),
         {"aws:TagKeys": ["owner", "environment"]}),
    Case("multi-for-any-value-missing-key", "MULTI: ForAnyValue [...] If there are no context keys "
         "in the request, the condition returns false.", "ImplicitDeny",
         when({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}})),
    Case("multi-deny-tags-key1-legal", TAG_QUOTE + "aws:TagKeys key1:legal: No match", "Allow",
         deny_when(TAG_DENY), {"aws:TagKeys": ["key1:legal"]}),
    Case("multi-deny-tags-key1-hr-personnel", TAG_QUOTE + "aws:TagKeys key1:hr, key1:personnel: "
         "No match", "Allow", deny_when(TAG_DENY), {"aws:TagKeys": ["key1:hr", "key1:personnel"]}),
    Case("multi-deny-tags-key2-audit", TAG_QUOTE + "aws:TagKeys key2:audit: Match", "ExplicitDeny",
         deny_when(TAG_DENY), {"aws:TagKeys": ["key2:audit"]}),
    Case("multi-deny-tags-no-key", TAG_QUOTE + "No aws:TagKeys in the request context: Match",
         "ExplicitDeny", deny_when(TAG_DENY)),
    Case("multi-null-false-guards-for-all-values", "MULTI: You can prevent missing context keys or "
         "context keys with empty values from evaluating to true by including a Null condition "
         "operator with a false value in your policy", "ImplicitDeny",
         when({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]},
               "Null": {"aws:TagKeys": "false"}})),
    Case("choice-for-all-values-empty-set-allow", "CHOICE: an empty set under a set operator (the "
         "guide only covers a missing key) never satisfies an Allow", "ImplicitDeny",
         when({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}}), {"aws:TagKeys": []}),
    Case("choice-for-all-values-empty-set-deny", "CHOICE: an empty set under a set operator always "
         "satisfies a Deny", "ExplicitDeny",
         deny_when({"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}), {"aws:TagKeys": []}),
    Case("choice-for-any-value-empty-string-allow", "CHOICE: an empty string under a set operator "
         "never satisfies an Allow", "ImplicitDeny",
         when({"ForAnyValue:StringLike": {"aws:TagKeys": "*"}}), {"aws:TagKeys": ""}),
    Case("choice-for-any-value-empty-string-deny", "CHOICE: an empty string under a set operator "
         "always satisfies a Deny", "ExplicitDeny",
         deny_when({"ForAnyValue:StringEquals": {"aws:TagKeys": "secret"}}), {"aws:TagKeys": [""]}),
    Case("choice-multivalued-without-set-operator-allow", "MULTI: Multivalued context keys require "
         "a condition set operator. CHOICE: without one, an Allow needs every value to match",
         "ImplicitDeny", when({"StringEquals": {"aws:TagKeys": "environment"}}),
         {"aws:TagKeys": ["environment", "owner"]}),
    Case("choice-multivalued-without-set-operator-deny", "MULTI: Multivalued context keys require "
         "a condition set operator. CHOICE: without one, one matching value is enough to deny",
         "ExplicitDeny", deny_when({"StringEquals": {"aws:TagKeys": "owner"}}),
         {"aws:TagKeys": ["environment", "owner"]}),
    # == VARS: policy variables ================================================================
    Case("vars-username-in-resource", "VARS: When this policy is evaluated, IAM replaces the "
         "variable ${aws:username} with the friendly name of the actual current user.", "Allow",
         [allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::mybucket/${aws:username}/*")],
         {"aws:username": "David"}),
    Case("vars-username-other-users-folder", "VARS: allow each user to have access to his or her "
         "own objects in an Amazon S3 bucket", "ImplicitDeny",
         [allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::mybucket/${aws:username}/*")],
         {"aws:username": "David"}, resource=BUCKET + "/Adele/notes.txt"),
    Case("vars-username-in-condition", "VARS: \"Condition\": {\"StringLike\": {\"s3:prefix\": "
         "[\"${aws:username}/*\"]}}", "Allow",
         [allow("s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": ["${aws:username}/*"]}})],
         {"aws:username": "David", "s3:prefix": "David/2026/"}, action="s3:ListBucket",
         resource=BUCKET),
    Case("vars-username-in-condition-other-prefix", "VARS: the policy allows [...] objects with a "
         "prefix David (${aws:username}/*)", "ImplicitDeny",
         [allow("s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": ["${aws:username}/*"]}})],
         {"aws:username": "David", "s3:prefix": "Adele/"}, action="s3:ListBucket", resource=BUCKET),
    Case("vars-principal-tag-in-resource", "VARS: the following Resource element refers to only a "
         "bucket that is named the same as the value in the requesting user's department tag",
         "Allow", [allow("s3:*", "arn:aws:s3:::bucket/${aws:PrincipalTag/department}")],
         {"aws:PrincipalTag/department": "finance"}, resource="arn:aws:s3:::bucket/finance"),
    Case("vars-queue-name", "VARS: \"Resource\": \"arn:aws:sqs:us-east-2:*:${aws:username}-queue\"",
         "Allow", [allow("sqs:*", "arn:aws:sqs:us-east-2:*:${aws:username}-queue")],
         {"aws:username": "David"}, action="sqs:SendMessage",
         resource=f"arn:aws:sqs:us-east-2:{B}:David-queue"),
    Case("vars-not-present-statement-invalid", "VARS: not present means that the value is not in "
         "the current request information, and any attempt to match it fails and causes the "
         "statement to be invalid.", "ImplicitDeny",
         [allow("s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/*")],
         principal=SESSION, resource=BUCKET + "/${aws:username}/x"),
    Case("vars-not-present-deny-statement-invalid", "VARS: If AWS cannot resolve a variable, this "
         "might cause the entire statement to be invalid. (a Deny that cannot be resolved does "
         "not apply)", "Allow",
         [ALLOW_ALL, deny("s3:*", "*", {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}})],
         {"aws:PrincipalTag/team": "x"}, principal=SESSION),
    Case("vars-default-value", "VARS: anonymous users will not populate the ${aws:userid} variable. "
         "You can set the default value to anonymous for those users.", "Allow",
         when({"StringEquals": {"k:owner": "${aws:userid, 'anonymous'}"}}), {"k:owner": "anonymous"}),
    Case("vars-default-value-unused", "VARS: ${aws:userid, 'anonymous'} -- the default is only for "
         "requests without the key", "ImplicitDeny",
         when({"StringEquals": {"k:owner": "${aws:userid, 'anonymous'}"}}),
         {"k:owner": "anonymous", "aws:userid": "AIDAEXAMPLE"}),
    Case("vars-special-star", "VARS: ${*} - use where you need an * (asterisk) character.",
         "ImplicitDeny", [allow("s3:GetObject", "arn:aws:s3:::mybucket/${*}")],
         resource=BUCKET + "/anything"),
    Case("vars-special-star-literal", "VARS: ${*} - use where you need an * (asterisk) character.",
         "Allow", [allow("s3:GetObject", "arn:aws:s3:::mybucket/${*}")], resource=BUCKET + "/*"),
    Case("vars-special-question-mark", "VARS: ${?} - use where you need a ? (question mark) "
         "character.", "ImplicitDeny", when({"StringLike": {"k:q": "why${?}"}}), {"k:q": "whyX"}),
    Case("vars-special-dollar", "VARS: ${$} - use where you need a $ (dollar sign) character.",
         "Allow", when({"StringEquals": {"k:price": "${$}5"}}), {"k:price": "$5"}),
    Case("vars-no-version-literal", "VARS: If you don't include the Version element [...] variables "
         "like ${aws:username} are treated as literal strings in the policy.", "ImplicitDeny",
         [allow("s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/*")],
         {"aws:username": "David"}, version=None),
    Case("vars-not-before-fifth-colon", "VARS: You can't use a variable to replace parts of the ARN "
         "before the fifth colon, such as the service or account.", "ImplicitDeny",
         [allow("dynamodb:*", "arn:aws:dynamodb:us-east-1:${aws:PrincipalAccount}:table/Orders")],
         {"aws:PrincipalAccount": B}, action="dynamodb:Query", resource=TABLE),
    Case("vars-arn-operator", "OPS: You can use a policy variable with the ARN condition operator.",
         "Allow", when({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:role/*"}}),
         {"aws:PrincipalAccount": B, "aws:PrincipalArn": ROLE}),
    Case("vars-source-account", "VARS: You can use a policy variable for Condition values in any "
         "condition that involves the string operators or the ARN operators.", "ImplicitDeny",
         when({"StringEquals": {"aws:ResourceAccount": "${aws:SourceAccount}"}}),
         {"aws:ResourceAccount": B, "aws:SourceAccount": A}),
    Case("vars-key-names-case-insensitive", "VARS: Key names are case-insensitive. For example, "
         "aws:CurrentTime is equivalent to AWS:currenttime.", "Allow",
         [allow("s3:GetObject", "arn:aws:s3:::mybucket/${AWS:UserName}/*")],
         {"aws:username": "David"}),
    Case("vars-not-with-numeric", "OPS: You can not use a policy variable with the Numeric "
         "condition operator. (the variable stays literal: not a number, fails closed)",
         "ImplicitDeny", when({"NumericLessThanEquals": {"s3:max-keys": "${s3:limit}"}}),
         {"s3:max-keys": "1", "s3:limit": "10"}),
    Case("vars-no-multivalued-variable", "MULTI: You can use any available single-valued context "
         "key as a policy variable, but you can't use a multivalued context key as a policy "
         "variable.", "ImplicitDeny", when({"StringEquals": {"k:tag": "${aws:TagKeys}"}}),
         {"k:tag": "a", "aws:TagKeys": ["a", "b"]}),
    # == NOTP ==================================================================================
    Case("notp-bob-is-not-denied", "NOTP: all principals except the user named Bob in AWS account "
         "444455556666 are explicitly denied access to a resource", "Allow", [ALLOW_ALL],
         principal=BOB, resource="arn:aws:s3:::BUCKETNAME/x", resource_policy=NOTP_BOB,
         resource_account=B),
    Case("notp-alice-is-denied", "NOTP: all principals except the user named Bob [...] are "
         "explicitly denied (the account ARN in NotPrincipal does not exempt Alice)",
         "ExplicitDeny", [ALLOW_ALL], principal=ALICE, resource="arn:aws:s3:::BUCKETNAME/x",
         resource_policy=NOTP_BOB, resource_account=B),
    Case("notp-bob-without-account-arn", "NOTP: If the NotPrincipal element contained only Bob's "
         "ARN, the effect of the policy might be to explicitly deny access to the AWS account that "
         "contains the user Bob. CHOICE: it does", "ExplicitDeny", [ALLOW_ALL], principal=BOB,
         resource="arn:aws:s3:::BUCKETNAME/x",
         resource_policy=[{**NOTP_BOB[1], "NotPrincipal": {"AWS": BOB}}, NOTP_BOB[0]],
         resource_account=B),
    Case("notp-audit-session-not-denied", "NOTP: all principals except the assumed-role user named "
         "cross-account-audit-app in AWS account 444455556666 are explicitly denied access",
         "Allow", [ALLOW_ALL], principal=AUDIT_SESSION, resource=AUDIT_BUCKET + "/x",
         resource_policy=NOTP_AUDIT),
    Case("notp-other-session-denied", "NOTP: When you specify an assumed-role session in a "
         "NotPrincipal element, you cannot use a wildcard (*) to mean \"all sessions\". Principals "
         "must always name a specific session.", "ExplicitDeny", [ALLOW_ALL],
         principal=AUDIT_SESSION.replace("cross-account-audit-app", "other-app"),
         resource=AUDIT_BUCKET + "/x", resource_policy=NOTP_AUDIT),
    Case("notp-session-without-role-arn", "NOTP: If the NotPrincipal element was missing the ARN "
         "of the role, the effect of the policy might be to explicitly deny access to the role. "
         "CHOICE: it does", "ExplicitDeny", [ALLOW_ALL], principal=AUDIT_SESSION,
         resource=AUDIT_BUCKET + "/x",
         resource_policy=[NOTP_AUDIT[0], {**NOTP_AUDIT[1],
                                          "NotPrincipal": {"AWS": [AUDIT_SESSION, BOB_ROOT]}}]),
    Case("notp-allow-not-supported", "NOTP: NotPrincipal must be used with \"Effect\":\"Deny\". "
         "Using it with \"Effect\":\"Allow\" is not supported. (it grants nothing)", "ImplicitDeny",
         [ALLOW_ALL], principal=USER_A, action="dynamodb:Query", resource=TABLE,
         resource_policy=[{"Effect": "Allow", "NotPrincipal": {"AWS": BOB}, "Action": "*",
                           "Resource": "*"}]),
    # == PRIN / EVAL: same account =============================================================
    Case("eval-same-account-user-granted-directly", "EVAL: If a resource-based policy grants "
         "permission directly to the IAM user or the session principal that is making the "
         "request, then an implicit deny in an identity-based policy [...] does not impact the "
         "final decision.", "Allow", [], principal=DAVID, action="dynamodb:Query",
         resource=TABLE, resource_policy=[allow("dynamodb:Query", TABLE, Principal={"AWS": DAVID})]),
    Case("prin-same-account-root-delegates", "PRIN: This delegates authority to the account. [...] "
         "an administrator in that account must then grant access to an identity (IAM user or "
         "role) in that account.", "ImplicitDeny", [], principal=DAVID, action="dynamodb:Query",
         resource=TABLE,
         resource_policy=[allow("dynamodb:Query", TABLE, Principal={"AWS": f"arn:aws:iam::{B}:root"})]),
    Case("prin-same-account-id-delegates", "PRIN: The account ARN and the shortened account ID "
         "behave the same way. Both delegate permissions to the account.", "ImplicitDeny", [],
         principal=SESSION, action="dynamodb:Query", resource=TABLE,
         resource_policy=[allow("dynamodb:Query", TABLE, Principal={"AWS": B})]),
    Case("prin-same-account-root-plus-identity", "PRIN: Using the account ARN in the Principal "
         "element does not limit permissions to only the root user of the account.", "Allow",
         [allow("dynamodb:Query", TABLE)], principal=DAVID, action="dynamodb:Query",
         resource=TABLE,
         resource_policy=[allow("dynamodb:Query", TABLE, Principal={"AWS": f"arn:aws:iam::{B}:root"})]),
    Case("eval-same-account-role-arn-grants-session", "EVAL: Resource-based policies that grant "
         "permissions to an IAM role ARN are limited by an implicit deny in a permissions "
         "boundary or session policy. (not by the identity-based policy)", "Allow", [],
         principal=SESSION, action="dynamodb:Query", resource=TABLE,
         resource_policy=[allow("dynamodb:Query", TABLE, Principal={"AWS": ROLE})]),
    Case("eval-same-account-identity-alone", "EVAL: If an action is allowed by an identity-based "
         "policy, a resource-based policy, or both, then AWS allows the action.", "Allow",
         [allow("dynamodb:Query", TABLE)], principal=DAVID, action="dynamodb:Query",
         resource=TABLE, resource_policy=[]),
    Case("eval-explicit-deny-in-resource-policy", "EVAL: An explicit deny in either of these "
         "policies overrides the allow.", "ExplicitDeny", [allow("dynamodb:Query", TABLE)],
         principal=DAVID, action="dynamodb:Query", resource=TABLE,
         resource_policy=[deny("dynamodb:Query", TABLE, Principal="*")]),
    Case("eval-trust-policy-must-allow", "EVAL: IAM role trust policies and KMS key policies are "
         "exceptions to this logic, because they must explicitly allow access for principals.",
         "ImplicitDeny", [allow("sts:AssumeRole", ROLE)], principal=DAVID,
         action="sts:AssumeRole", resource=ROLE, resource_kind="trust",
         resource_policy=[allow("sts:AssumeRole", ROLE,
                                Principal={"AWS": f"arn:aws:iam::{B}:user/Other"})]),
    Case("eval-trust-policy-names-user", "EVAL: If a resource-based policy grants permission "
         "directly to the IAM user [...] an implicit deny in an identity-based policy [...] does "
         "not impact the final decision.", "Allow", [], principal=DAVID, action="sts:AssumeRole",
         resource=ROLE, resource_kind="trust",
         resource_policy=[allow("sts:AssumeRole", ROLE, Principal={"AWS": DAVID})]),
    # == XACCT =================================================================================
    Case("xacct-identity-without-resource-policy", "XACCT: Additionally, the resource-based policy "
         "in AccountB must allow the requester in AccountA to access the resource.",
         "ImplicitDeny", [allow("dynamodb:Query", TABLE)], principal=USER_A,
         action="dynamodb:Query", resource=TABLE, resource_policy=[]),
    Case("xacct-resource-without-identity-policy", "XACCT: For cross-account requests, the "
         "requester in the trusted AccountA must have an identity-based policy.", "ImplicitDeny",
         [], principal=USER_A, action="dynamodb:Query", resource=TABLE,
         resource_policy=[allow("dynamodb:Query", TABLE, Principal={"AWS": USER_A})]),
    Case("xacct-both-allow", "XACCT: The request is allowed only if both evaluations return a "
         "decision of Allow.", "Allow", [allow("dynamodb:Query", TABLE)], principal=USER_A,
         action="dynamodb:Query", resource=TABLE,
         resource_policy=[allow("dynamodb:Query", TABLE, Principal={"AWS": f"arn:aws:iam::{A}:root"})]),
    Case("xacct-other-account-not-named", "XACCT: The resource-based policy in the trusting account "
         "must specify the principal of the trusted account that will have access the resource.",
         "ImplicitDeny", [allow("dynamodb:Query", TABLE)],
         principal="arn:aws:iam::333333333333:user/mallory", action="dynamodb:Query",
         resource=TABLE,
         resource_policy=[allow("dynamodb:Query", TABLE, Principal={"AWS": f"arn:aws:iam::{A}:root"})]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_guide_case(case: Case) -> None:
    assert case.decide() == case.expected, f"{case.id}: {case.quote}"


def test_cases_are_many_distinct_and_quoted():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    for c in CASES:
        assert len(c.quote) > 20, c.id
        assert c.id.startswith("choice-") == ("CHOICE:" in c.quote) or "CHOICE:" in c.quote, c.id


# -- every operator with a missing key --------------------------------------------------------

POSITIVE = {
    "StringEquals": "a", "StringEqualsIgnoreCase": "a", "StringLike": "a*",
    "NumericEquals": "1", "NumericLessThan": "1", "NumericLessThanEquals": "1",
    "NumericGreaterThan": "1", "NumericGreaterThanEquals": "1",
    "DateEquals": "2026-01-01T00:00:00Z", "DateLessThan": "2026-01-01T00:00:00Z",
    "DateLessThanEquals": "2026-01-01T00:00:00Z", "DateGreaterThan": "2026-01-01T00:00:00Z",
    "DateGreaterThanEquals": "2026-01-01T00:00:00Z", "Bool": "true", "BinaryEquals": "YQ==",
    "IpAddress": "203.0.113.0/24", "ArnEquals": "arn:aws:s3:::b", "ArnLike": "arn:aws:s3:::*",
}
NEGATED = {
    "StringNotEquals": "a", "StringNotEqualsIgnoreCase": "a", "StringNotLike": "a*",
    "NumericNotEquals": "1", "DateNotEquals": "2026-01-01T00:00:00Z",
    "NotIpAddress": "203.0.113.0/24", "ArnNotEquals": "arn:aws:s3:::b",
    "ArnNotLike": "arn:aws:s3:::*",
}


def _holds(operator: str, value: Any, context: dict[str, Any], effect: str = "Allow") -> bool:
    statement = {"Effect": "Allow", "Action": "*", "Resource": "*",
                 "Condition": {operator: {"k:key": value}}}
    policies_ = [Policy("p", {"Version": "2012-10-17", "Statement": [statement]})]
    if effect == "Deny":
        statement["Effect"] = "Deny"
        policies_.append(Policy("all", {"Version": "2012-10-17", "Statement": [ALLOW_ALL]}))
        return evaluate(policies_, Request(DAVID, "s3:GetObject", BUCKET, context)).decision == (
            "ExplicitDeny")
    return evaluate(policies_, Request(DAVID, "s3:GetObject", BUCKET, context)).allowed


@pytest.mark.parametrize("operator", sorted(POSITIVE))
def test_missing_key_positive_operators_are_false(operator):
    # OPS: "If the key that you specify in a policy condition is not present in the request
    # context, the values do not match and the condition is false."
    assert not _holds(operator, POSITIVE[operator], {})
    assert not _holds(operator, POSITIVE[operator], {}, "Deny")


@pytest.mark.parametrize("operator", sorted(NEGATED))
def test_missing_key_negated_operators_are_true(operator):
    # OPS: "If the policy condition requires that the key is not matched [...] and the right key
    # is not present, the condition is true."
    assert _holds(operator, NEGATED[operator], {})
    assert _holds(operator, NEGATED[operator], {}, "Deny")


@pytest.mark.parametrize("operator", sorted({**POSITIVE, **NEGATED}))
def test_missing_key_if_exists_is_true(operator):
    # OPS: "If the key is not present, evaluate the condition element as true."
    value = {**POSITIVE, **NEGATED}[operator]
    assert _holds(operator + "IfExists", value, {})
    assert _holds(operator + "IfExists", value, {}, "Deny")


def test_missing_key_null():
    # OPS: "use either true (the key doesn't exist — it is null) or false (the key exists and its
    # value is not null)."
    assert _holds("Null", "true", {}) and not _holds("Null", "false", {})
    assert _holds("Null", "false", {"k:key": "x"}) and not _holds("Null", "true", {"k:key": "x"})
    # MULTI: "context keys with empty values" count as null
    assert _holds("Null", "true", {"k:key": []})


def test_null_if_exists_is_refused():
    # OPS: "You can add IfExists to the end of any condition operator name except the Null
    # condition"
    with pytest.raises(xn.InvalidArgumentError, match="IfExists cannot be added to the Null"):
        _holds("NullIfExists", "true", {})


# -- set operators with every base operator ---------------------------------------------------

# (operator, policy value, a context value that matches, one that does not)
BASES = [
    ("StringEquals", "a", "a", "b"), ("StringNotEquals", "a", "b", "a"),
    ("StringEqualsIgnoreCase", "a", "A", "b"), ("StringNotEqualsIgnoreCase", "a", "b", "A"),
    ("StringLike", "a*", "ab", "ba"), ("StringNotLike", "a*", "ba", "ab"),
    ("NumericEquals", "1", "1.0", "2"), ("NumericNotEquals", "1", "2", "1"),
    ("NumericLessThan", "5", "4", "5"), ("NumericLessThanEquals", "5", "5", "6"),
    ("NumericGreaterThan", "5", "6", "5"), ("NumericGreaterThanEquals", "5", "5", "4"),
    ("DateEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00Z"),
    ("DateNotEquals", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"),
    ("DateLessThan", "2026-01-01T00:00:00Z", "2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z"),
    ("DateLessThanEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
    ("DateGreaterThan", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"),
    ("DateGreaterThanEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ("Bool", "true", "true", "false"), ("BinaryEquals", "YQ==", "YQ==", "Yg=="),
    ("IpAddress", "203.0.113.0/24", "203.0.113.1", "198.51.100.1"),
    ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", "203.0.113.1"),
    ("ArnEquals", "arn:aws:s3:::b*", "arn:aws:s3:::bx", "arn:aws:s3:::c"),
    ("ArnLike", "arn:aws:s3:::b*", "arn:aws:s3:::bx", "arn:aws:s3:::c"),
    ("ArnNotEquals", "arn:aws:s3:::b*", "arn:aws:s3:::c", "arn:aws:s3:::bx"),
    ("ArnNotLike", "arn:aws:s3:::b*", "arn:aws:s3:::c", "arn:aws:s3:::bx"),
]


@pytest.mark.parametrize(("base", "policy", "good", "bad"), BASES, ids=[b[0] for b in BASES])
def test_for_all_values(base, policy, good, bad):
    # MULTI: "The condition returns true if each context key value in the request matches at
    # least one context key value in the policy. It also returns true if there are no context
    # keys in the request."
    op = f"ForAllValues:{base}"
    assert _holds(op, policy, {"k:key": [good, good]})
    assert not _holds(op, policy, {"k:key": [good, bad]})
    assert _holds(op, policy, {})
    assert not _holds(op, policy, {"k:key": []})  # CHOICE: an empty set never allows
    assert _holds(op, policy, {"k:key": []}, "Deny")  # ... and always denies


@pytest.mark.parametrize(("base", "policy", "good", "bad"), BASES, ids=[b[0] for b in BASES])
def test_for_any_value(base, policy, good, bad):
    # MULTI: ForAnyValue "returns true if any one of the context key values in the request
    # matches [...] If there are no context keys in the request, the condition returns false."
    op = f"ForAnyValue:{base}"
    assert _holds(op, policy, {"k:key": [bad, good]})
    assert not _holds(op, policy, {"k:key": [bad, bad]})
    assert not _holds(op, policy, {})
    assert not _holds(op, policy, {"k:key": [""]})  # CHOICE: an empty string never allows
    assert _holds(op, policy, {"k:key": ""}, "Deny")  # ... and always denies


@pytest.mark.parametrize(("base", "policy", "good", "bad"), BASES, ids=[b[0] for b in BASES])
def test_single_operator_on_one_value(base, policy, good, bad):
    assert _holds(base, policy, {"k:key": good}) and not _holds(base, policy, {"k:key": bad})
    assert _holds(base, policy, {"k:key": [good]})  # a one-element list is one value


# -- simulate() across accounts ---------------------------------------------------------------


def test_simulate_other_account_without_resource_policy_denies():
    # XACCT: "the resource-based policy in AccountB must allow the requester in AccountA"
    reader = policies.read_only_policy(TABLE)
    decision = policies.simulate(reader, "dynamodb:Query", TABLE, principal=USER_A)
    assert decision.decision == "ImplicitDeny"
    assert decision.reason == (
        "the resource's account has no resource-based policy that allows the dynamodb:Query "
        "action for this principal: across accounts both sides must allow"
    )
    assert decision.side == "resource"
    # the same account (and the default principal) still decide on the identity side alone
    assert policies.simulate(reader, "dynamodb:Query", TABLE, principal=DAVID).allowed
    assert policies.simulate(reader, "dynamodb:Query", TABLE).allowed


def test_same_account_root_grant_explains_the_delegation():
    # PRIN: "This delegates authority to the account."
    grant = {"Version": "2012-10-17", "Statement": [
        allow("dynamodb:Query", TABLE, Principal={"AWS": f"arn:aws:iam::{B}:root"})]}
    decision = policies.simulate({}, "dynamodb:Query", TABLE, principal=DAVID,
                                 resource_policy=grant)
    assert decision.decision == "ImplicitDeny"
    assert decision.reason == (
        "no identity-based or resource-based policy allows the dynamodb:Query action (the "
        f"resource policy policy grants the account {B}, which delegates to the account's IAM "
        "policies: an identity-based policy must allow too)"
    )
