"""Process-wide test hygiene: nothing in the suite may reach a real AWS account.

This runs before any test, doctest or notebook kernel starts (kernels inherit
the environment), so no ``AWS_*`` variable from the developer's shell, and no
``~/.aws`` file, is ever seen. ``tests/conftest.py`` repeats the clean-up per
test with ``monkeypatch`` for tests that set variables themselves.
"""

import os
import tempfile

for _name in list(os.environ):
    if _name.startswith(("AWS_", "XACCT_")):
        del os.environ[_name]
_EMPTY = tempfile.mkdtemp(prefix="xacct-tests-aws-")
os.environ["AWS_CONFIG_FILE"] = os.path.join(_EMPTY, "config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(_EMPTY, "credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
# Notebook outputs are compared by nbval: progress bars (whose widget ids vary)
# stay off unless a cell asks for one.
os.environ["XACCT_PROGRESS"] = "never"
