"""``make test-matrix``: the suite on the lowest declared, the pinned and the newest versions.

Three environments, built with uv (fresh each run):

``lowest``
    Python 3.11, ``uv pip install --resolution lowest-direct``: every package
    ``pyproject.toml`` names at the lowest version it declares.
``pinned``
    Python 3.12, ``requirements/constraints.txt``: ``make test`` (lint, the
    whole suite, the notebooks, the browser test) in ``.venv``.
``newest``
    Python 3.13, no constraints: the newest releases that ``pyproject.toml``
    admits. Its versions are compared with the constraints: what ``make lock``
    would change.

``lowest`` and ``newest`` run ``pytest tests xacct_nb -m "not browser"`` (the
unit, sandbox and doctest suites; the notebooks and the browser test run in
``pinned``, whose outputs they compare), both at once; then ``pinned`` runs alone. Every
run sets ``XACCT_REQUIRE_DEPS=1``: a test skipped for a missing package fails.
Each environment prints the versions it resolved; the end is a table of
results and times. The exit status is non-zero if any environment failed.

Usage: ``python tools/matrix.py [lowest] [pinned] [newest]`` (default: all three);
``python tools/matrix.py --find-python 3.12`` prints that interpreter's path.
Only the standard library: it runs before any environment exists.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATRIX = ROOT / "build" / "matrix"
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
EXTRAS = "notebooks,dev,dask"
#: What lowest and newest run (the notebooks and the browser test run in pinned).
PYTEST = ["-m", "pytest", "tests", "xacct_nb", "-m", "not browser", "-q", "-rfEs",
          "-p", "no:cacheprovider", "--durations=5"]


@dataclass
class Env:
    """One environment of the matrix, and what happened to it."""

    name: str
    python: str
    note: str
    versions: dict[str, str] = field(default_factory=dict)
    install_s: float = 0.0
    test_s: float = 0.0
    summary: str = ""
    ok: bool = False


ENVS = {
    "lowest": Env("lowest", "3.11", "lowest declared (uv --resolution lowest-direct)"),
    "pinned": Env("pinned", "3.12", "requirements/constraints.txt (make test)"),
    "newest": Env("newest", "3.13", "newest releases, no constraints"),
}


def say(message: str) -> None:
    """Print a line of the matrix's own (flushed: it interleaves with make's output)."""
    print(f"test-matrix: {message}", flush=True)


def find_python(version: str) -> str | None:
    """Return the path of a working ``python<version>``: on PATH, pyenv's, the system's, uv's."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    installed = sorted(
        glob.glob(str(root / "versions" / f"{version}.*" / "bin" / f"python{version}")),
        key=lambda p: [int(x) for x in re.findall(r"\d+", Path(p).parents[1].name)],
        reverse=True,
    )
    candidates = [shutil.which(f"python{version}"), *installed,
                  f"/usr/local/bin/python{version}", f"/usr/bin/python{version}"]
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    for candidate in candidates:
        if candidate and _runs(candidate, version):
            return candidate
    if Path(uv).exists():
        found = subprocess.run([uv, "python", "find", "--no-python-downloads", version],
                               capture_output=True, text=True, check=False).stdout.strip()
        if found and _runs(found, version):
            return found
    return None


def _runs(python: str, version: str) -> bool:
    """Whether ``python`` starts (a pyenv shim of another version does not) and is ``version``."""
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return False
    return out.returncode == 0 and out.stdout.strip() == version


def declared() -> list[str]:
    """Return the names of the packages pyproject.toml declares (the matrix's extras too)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in EXTRAS.split(","):
        specs += project["optional-dependencies"][extra]
    return sorted({_name(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in specs})


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def freeze(uv: str, python: str) -> dict[str, str]:
    """``{package: version}`` installed in the environment of ``python``."""
    out = subprocess.run([uv, "pip", "freeze", "--python", python],
                         capture_output=True, text=True, check=True).stdout
    versions = {}
    for line in out.splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            versions[_name(name)] = version.strip()
    return versions


def pins() -> dict[str, str]:
    """``{package: version}`` of requirements/constraints.txt."""
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[_name(name.split("[")[0])] = version.strip()
    return found


def clean_env() -> dict[str, str]:
    """Return the environment of lowest and newest: no AWS_* / XACCT_* but XACCT_REQUIRE_DEPS=1."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "XACCT_", "VIRTUAL_ENV", "PYTHONPATH"))}
    # (XACCT_REQUIRE_BROWSER is left out: the browser test runs in pinned, not here)
    env["XACCT_REQUIRE_DEPS"] = "1"
    return env


def build(env: Env, uv: str) -> str:
    """Make ``build/matrix/<name>`` afresh with uv; return its python."""
    python = find_python(env.python)
    if python is None:
        raise SystemExit(
            f"test-matrix: Python {env.python} is not installed, and the {env.name} environment "
            f"needs it: install it (pyenv install {env.python}, uv python install {env.python}, "
            f"or apt-get install python{env.python}), then run make test-matrix again."
        )
    where = MATRIX / env.name
    started = time.monotonic()
    subprocess.run([uv, "venv", "--quiet", "--clear", "--python", python, str(where)], check=True)
    target = where / "bin" / "python"
    install = [uv, "pip", "install", "--quiet", "--python", str(target), "-e", f".[{EXTRAS}]"]
    if env.name == "lowest":
        install[4:4] = ["--resolution", "lowest-direct"]
    else:
        install[4:4] = ["--upgrade", "--refresh"]  # the newest, not what uv's cache holds
    subprocess.run(install, check=True, cwd=ROOT)
    env.install_s = time.monotonic() - started
    return str(target)


def show_versions(env: Env, uv: str, python: str) -> None:
    """Print the Python and the declared packages' versions of an environment."""
    env.versions = freeze(uv, python)
    interpreter = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    shown = ", ".join(f"{name} {env.versions[name]}" for name in declared()
                      if name in env.versions)
    say(f"{env.name} ({env.note}): Python {interpreter}: {shown}")


def show_changes(newest: dict[str, str]) -> None:
    """Print what the newest resolution changes against the constraints (what make lock would)."""
    pinned = pins()
    changed = [f"{name} {pinned[name]} -> {version}" for name, version in sorted(newest.items())
               if name in pinned and pinned[name] != version and name != "xacct-nb"]
    say(f"newest against requirements/constraints.txt: {len(changed)} package(s) differ"
        + (" (make lock would take them):" if changed else "."))
    for line in changed:
        print(f"    {line}", flush=True)


def run_pinned(env: Env, uv: str) -> None:
    """``make test`` in .venv (Python 3.12, the constraints): the whole suite."""
    started = time.monotonic()
    result = subprocess.run(["make", "test"], cwd=ROOT, check=False)
    env.test_s = time.monotonic() - started
    env.ok = result.returncode == 0
    venv_python = str(ROOT / ".venv" / "bin" / "python")
    if Path(venv_python).exists():
        show_versions(env, uv, venv_python)
        version = env.python
        if not _runs(venv_python, version):
            env.ok = False
            say(f"pinned: .venv is not Python {version}: rm -r .venv and run make test-matrix again")
    env.summary = "make test " + ("passed" if env.ok else f"failed (exit {result.returncode})")


def start_suite(env: Env, python: str) -> tuple[subprocess.Popen[bytes], Path, float]:
    """Start the suite of an environment in the background (its output in build/matrix/)."""
    log = MATRIX / f"{env.name}.log"
    handle = log.open("wb")
    proc = subprocess.Popen([python, *PYTEST], cwd=ROOT, env=clean_env(), stdout=handle,
                            stderr=subprocess.STDOUT)
    return proc, log, time.monotonic()


def main(argv: list[str] | None = None) -> int:
    """Run the matrix (or find an interpreter); return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("envs", nargs="*", metavar="ENV",
                        help="lowest, pinned or newest (default: all three)")
    parser.add_argument("--find-python", metavar="X.Y", help="print a working pythonX.Y's path")
    args = parser.parse_args(argv)
    if args.find_python:
        found = find_python(args.find_python)
        if found is None:
            return 1
        print(found)
        return 0
    unknown = [name for name in args.envs if name not in ENVS]
    if unknown:
        parser.error(f"no environment {unknown[0]!r}: choose from {', '.join(ENVS)}")
    names = args.envs or list(ENVS)
    uv = shutil.which("uv", path=str(ROOT / ".venv" / "bin")) or shutil.which("uv")
    if uv is None:
        say("uv is not installed: run make install first (it comes with the [dev] extra)")
        return 2
    MATRIX.mkdir(parents=True, exist_ok=True)
    envs = [ENVS[name] for name in names]
    started = time.monotonic()
    running = []
    for env in envs:
        if env.name == "pinned":
            continue
        say(f"{env.name}: building build/matrix/{env.name} (Python {env.python}, {env.note})")
        python = build(env, uv)
        show_versions(env, uv, python)
        if env.name == "newest":
            show_changes(env.versions)
        running.append((env, *start_suite(env, python)))
        say(f"{env.name}: pytest {' '.join(PYTEST[2:])} (output: build/matrix/{env.name}.log)")
    for env, proc, log, begun in running:
        code = proc.wait()
        env.test_s = time.monotonic() - begun
        env.ok = code == 0
        text = log.read_text(errors="replace")
        print(f"\n---- {env.name}: {log.relative_to(ROOT)} ----", flush=True)
        print(text if not env.ok else "\n".join(text.splitlines()[-25:]), flush=True)
        # pytest's last line: "2767 passed, 3 deselected in 1176.09s (0:19:36)" (-q: no rules)
        last = [line for line in text.splitlines()
                if re.search(r"\b\d+ (passed|failed|errors?)\b.* in [\d.]+s", line)]
        env.summary = last[-1].strip("= ") if last else f"pytest exit {code}"
        if env.ok and re.search(r"\bskipped\b", env.summary):
            env.ok = False
            env.summary += " (a skip in the matrix hides a check)"
    # after the others, alone: its browser test measures how fast the page answers
    if "pinned" in names:
        say("pinned: make test (Python 3.12, requirements/constraints.txt)")
        run_pinned(ENVS["pinned"], uv)
    print(flush=True)
    say(f"{'environment':<11} {'python':<7} {'install':>8} {'tests':>8}  result")
    for env in envs:
        say(f"{env.name:<11} {env.python:<7} {env.install_s:>7.0f}s {env.test_s:>7.0f}s  "
            f"{'ok' if env.ok else 'FAILED'}: {env.summary}")
    say(f"total {time.monotonic() - started:.0f}s")
    return 0 if all(env.ok for env in envs) else 1


if __name__ == "__main__":
    sys.exit(main())
