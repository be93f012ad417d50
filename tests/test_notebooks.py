"""The tutorial notebooks: structure, and no credential in any saved output.

(nbval runs and compares them in `make test`; ruff lints them with the code.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
SECRET_PATTERNS = [
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),  # access key ids
    re.compile(r"(?i)(aws_secret_access_key|secretaccesskey|sessiontoken|session_token)"),
    # a 40-character secret access key (base64 alphabet, mixed case and digits), standing alone
    re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}\d)(?=[A-Za-z0-9/+]{0,39}[a-z])"
               r"(?=[A-Za-z0-9/+]{0,39}[A-Z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
]
TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "application/json")


def _outputs(notebook: dict) -> list[str]:
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append("".join(output["text"]))
            for mime in TEXT_TYPES:
                value = output.get("data", {}).get(mime)
                if value is not None:
                    texts.append(value if isinstance(value, str) else json.dumps(value))
            if output.get("output_type") == "error":
                texts.append("\n".join(output.get("traceback", [])))
    return texts


def test_the_tutorials_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "01_setup_cross_account_access.ipynb",
        "02_verify_access.ipynb",
        "03_explore_with_widgets.ipynb",
        "04_analysis_report.ipynb",
        "05_scale_out.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_connect_and_was_run_in_order(path):
    notebook = json.loads(path.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert "conn = xn.connect()" in "".join(code[0]["source"])
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(code) + 1)), "re-run with `make notebooks`"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_credential_in_saved_outputs(path):
    texts = _outputs(json.loads(path.read_text()))
    assert texts, "outputs are committed so nbval can compare them"
    for text in texts:
        for pattern in SECRET_PATTERNS:
            match = pattern.search(text)
            assert match is None, f"{path.name}: {match.group(0)[:8]}... looks like a credential"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_without_widget_state(path):
    """Widget models are runtime state: `make notebooks` strips them (03 was 130 KB of it)."""
    nb = json.loads(path.read_text())
    assert "widgets" not in nb.get("metadata", {})
    assert path.stat().st_size < 400_000


def test_the_scanner_catches_credentials():
    fake = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "text": "key ASIAABCDEFGHIJKLMNOP secret "
                                          "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}]}]}
    (text,) = _outputs(fake)
    assert SECRET_PATTERNS[0].search(text) and SECRET_PATTERNS[2].search(text)
