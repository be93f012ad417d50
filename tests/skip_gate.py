"""The dependency gate of tests/conftest.py: under CI, a skip for a missing package is a failure.

``pytest.importorskip`` keeps the suite usable where an optional package is not
installed (a plain ``pip install xacct-nb[dev]`` without ``[dask]``, say). In CI,
and in every environment of ``make test-matrix``, every package is meant to be
there: with ``XACCT_REQUIRE_DEPS=1`` such a skip fails the test (or the module,
when it is skipped at collection), naming what is missing, so a check can never
quietly not run.
"""

from __future__ import annotations

import os
import re
from typing import Any

#: The environment flag that CI (.ci/run) and ``make test-matrix`` set.
DEPS_VAR = "XACCT_REQUIRE_DEPS"

# pytest.importorskip's reasons ("could not import 'dask': No module named 'dask'"), and the
# ImportError text of a hand-written skip.
_MISSING = re.compile(r"could not import|No module named|cannot import name")


def deps_required() -> bool:
    """Whether ``XACCT_REQUIRE_DEPS`` asks for every dependency (CI)."""
    return os.environ.get(DEPS_VAR, "").strip().lower() not in ("", "0", "false", "no")


def skip_reason(longrepr: Any) -> str:
    """The reason of a skipped report (its ``longrepr`` is ``(path, line, reason)``)."""
    reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
    return reason.removeprefix("Skipped: ")


def missing_dependency(reason: str) -> bool:
    """Whether a skip's reason says that a package could not be imported."""
    return _MISSING.search(reason) is not None


def failure(what: str, reason: str) -> str:
    """The message of a missing-dependency skip turned into a failure."""
    return (f"{DEPS_VAR}=1: {what} was skipped because a dependency is missing ({reason}); "
            "install every extra (make install) or unset the flag")
