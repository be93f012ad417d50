"""The exception hierarchy and the mapping of AWS error codes onto it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb import _errors
from xacct_nb._errors import ERROR_CODES, translate_client_error


def _client_error(code: str, message: str = "AWS says no", op: str = "Query") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


def _subtree(cls: type) -> set[type]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _subtree(sub)
    return found


MODULES = ["xacct_nb"] + sorted(
    info.name for info in pkgutil.walk_packages(xn.__path__, "xacct_nb.")
)


def test_every_exception_of_errors_is_in_the_tree_and_public():
    tree = _subtree(xn.XacctError)
    classes = [obj for _, obj in inspect.getmembers(_errors, inspect.isclass)
               if issubclass(obj, BaseException) and obj.__module__ == _errors.__name__]
    assert len(classes) >= 15
    for cls in classes:
        assert cls in tree or issubclass(cls, Warning), cls
        assert getattr(xn, cls.__name__) is cls  # all public
        assert cls.__name__ in xn.__all__
    public = {cls for cls in tree if not cls.__name__.startswith("_")
              and not cls.__module__.startswith("xacct_nb.sandbox.")}  # the server's own
    assert public <= set(classes)  # the public tree lives in _errors


@pytest.mark.parametrize("name", MODULES)
def test_every_exception_of_every_module_is_in_the_tree(name):
    module = importlib.import_module(name)
    tree = _subtree(xn.XacctError)
    for attr, obj in vars(module).items():
        if not (inspect.isclass(obj) and issubclass(obj, BaseException)):
            continue
        if obj.__module__ != module.__name__:
            continue  # imported: checked where it is defined
        where = f"{name}.{attr}"
        if issubclass(obj, Warning):
            assert module is _errors, f"{where}: warnings live in xacct_nb._errors"
            continue
        assert obj in tree, f"{where} is not an XacctError"
        if name.startswith("xacct_nb.sandbox.") and issubclass(obj, xn.SandboxError):
            # The sandbox's server answers these on the wire (AWS's error formats); they
            # never reach a caller of the package, so they stay with the server.
            continue
        if not attr.startswith("_"):
            assert module is _errors, f"{where}: public exceptions live in xacct_nb._errors"
            assert attr in xn.__all__, f"{where} is public but not in xacct_nb.__all__"


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
