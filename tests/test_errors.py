"""The exception hierarchy and the mapping of AWS error codes onto it."""

from __future__ import annotations

import inspect

import pytest
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb import _errors
from xacct_nb._errors import ERROR_CODES, translate_client_error


def _client_error(code: str, message: str = "AWS says no", op: str = "Query") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


def test_every_exception_derives_from_the_base():
    classes = [obj for _, obj in inspect.getmembers(_errors, inspect.isclass)
               if issubclass(obj, Exception) and obj.__module__ == _errors.__name__]
    assert len(classes) >= 12
    for cls in classes:
        assert issubclass(cls, xn.XacctError)
        assert getattr(xn, cls.__name__) is cls  # all public


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_mapped_code(code):
    cls, hint = ERROR_CODES[code]
    err = translate_client_error(_client_error(code), table="Orders",
                                 role_arn="arn:aws:iam::222222222222:role/R")
    assert type(err) is cls
    text = str(err)
    assert f"Query on table 'Orders' (as arn:aws:iam::222222222222:role/R) failed: {code}" in text
    assert "AWS says no" in text
    assert hint in text
    if isinstance(err, xn.AwsError):
        assert err.code == code and err.operation == "Query" and err.table == "Orders"


def test_unknown_code_is_still_ours():
    err = translate_client_error(_client_error("SomethingNew"), what="Scan of 'T'")
    assert type(err) is xn.AwsError
    assert str(err).startswith("Scan of 'T' failed: SomethingNew: AWS says no.")


def test_categories_users_catch():
    assert issubclass(xn.InvalidArgumentError, ValueError)
    for cls in (xn.AccessDeniedError, xn.AssumeRoleError, xn.TableNotFoundError,
                xn.ExpiredCredentialsError, xn.IncompleteReadError, xn.IncompleteWriteError):
        assert issubclass(cls, xn.AwsError)
    report = object()
    assert xn.IncompleteWriteError("x", report=report).report is report
    assert xn.IncompleteReadError("x", last_evaluated_key={"k": 1}).last_evaluated_key == {"k": 1}
