"""The package's layers, top to bottom: the one place their order is declared.

A module imports only from its own layer or the layers below it, never in a
cycle, and never a private (``_name``) name of another module: what others
use is exported under a public name. ``tests/test_layers.py`` parses every
module's imports (function-level ones included) and enforces this.

- faces: what users and tools touch: the re-exports, the CLI, the
  explorer's widgets;
- capabilities: what the package does: connect, read, write, export and
  snapshots, Dask, access verification, setup plans (``policies`` is their
  public namespace), the explorer's logic; and ``sandbox``, a subpackage
  that counts as one unit and may import only foundations and ``policies``;
- mechanisms: how it is done: the request engine (paging, resume, the one
  retry/backoff policy, threads, progress, stats), the read-capacity budget
  and throttling back-pressure (and the ``xacct.toml`` reader), sessions, key schemas,
  expressions, the one value encoder (writes, keys, conditions), the one
  botocore client config, the automatic parallelism of a Scan;
- foundations: decoding (exact and fast path), policy documents (plans and
  CloudFormation templates included) and the evaluator, errors, input
  checks and the guard that turns foreign exceptions into errors, log
  redaction, the version.

>>> [name for name, _ in LAYERS]
['faces', 'capabilities', 'mechanisms', 'foundations']
"""

from __future__ import annotations

__all__ = ["LAYERS", "SANDBOX", "SANDBOX_MAY_IMPORT"]

#: (layer, modules of ``xacct_nb``), top layer first.
LAYERS: tuple[tuple[str, list[str]], ...] = (
    ("faces", ["__init__", "_cli", "_explorer", "_app", "_demo"]),
    (
        "capabilities",
        [
            "_access",
            "_connect",
            "_describe",
            "_explorer_logic",
            "_export",
            "_partiql",
            "_read",
            "_read_items",
            "_setup",
            "_snapshot",
            "_write",
            "cache",
            "dask",
            "policies",
            "sandbox",
        ],
    ),
    (
        "mechanisms",
        [
            "_budget",
            "_cache",
            "_clients",
            "_encode",
            "_engine",
            "_expressions",
            "_parallel",
            "_schema",
            "_sessions",
            "_timeformat",
        ],
    ),
    (
        "foundations",
        [
            "_cloudformation",
            "_decode",
            "_decode_arrow",
            "_documents",
            "_errors",
            "_evaluator",
            "_layers",
            "_plan_documents",
            "_redaction",
            "_validate",
            "_version",
        ],
    ),
)
#: The subpackage that counts as one unit.
SANDBOX = "sandbox"
#: Besides the foundations, the sandbox may import only these.
SANDBOX_MAY_IMPORT = ("policies",)
