"""``make demo``: execute the notebooks into HTML whose widgets render offline.

``jupyter nbconvert --to html --execute`` embeds the widgets' state in the HTML, but
the page loads the code that draws them (require.js and the
``@jupyter-widgets/html-manager`` renderer) from public CDNs, and the renderer
loads third-party widget modules such as ``anywidget`` (``itables.widget.ITable``)
from another CDN: without internet access the page shows no widget at all.

This module runs nbconvert with every one of those scripts next to the HTML, in
``<output-dir>/_static/``:

* ``require.js`` (npm package ``requirejs`` 2.3.8, MIT) and
  ``html-manager/embed-amd.js`` with its Font Awesome font files (npm package
  ``@jupyter-widgets/html-manager`` 1.0.15, BSD-3-Clause; the fonts are Font
  Awesome Free, SIL OFL 1.1) come from the npm registry's tarballs, checked
  against the pinned ``sha512`` integrity values of the registry's metadata and
  kept in a cache (``build/npm-cache/`` by default), so only the first run needs
  the registry. ``NPM_CONFIG_REGISTRY`` points at a mirror. When a tarball cannot
  be had, the run warns and that script stays on its CDN: the demo still completes.
* ``anywidget/index.js``, the AMD build of anywidget's front end (MIT), is copied
  from the installed ``anywidget`` Python package (its ``nbextension/index.js``),
  so it always matches the kernel's anywidget. A ``require`` configuration put at
  the top of each page maps the module ``anywidget`` to it: the renderer asks
  require.js for a widget module before it tries a CDN. The widget's own code
  (``_esm``, ``_css``) is in the embedded state already.

``_static/LICENSES.md`` names what was copied and under which license.

Run as ``python -m xacct_nb._demo --output-dir build/demo notebooks/*.ipynb``
(``make demo`` does).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ._errors import XacctError

DEFAULT_REGISTRY = "https://registry.npmjs.org"
STATIC = "_static"
#: Marks a page this module has already post-processed (the step is idempotent).
MARKER = "data-xacct-demo"


@dataclass(frozen=True)
class NpmAsset:
    """Files taken from one npm tarball, pinned by version and integrity."""

    name: str
    version: str
    integrity: str  # the registry metadata's ``dist.integrity``
    license: str
    #: tarball member (``package/...``) or a directory ending in ``/`` with
    #: ``suffixes`` -> destination directory or file, relative to ``_static``
    files: tuple[tuple[str, str], ...]
    suffixes: tuple[str, ...] = ()
    note: str = ""

    @property
    def tarball_name(self) -> str:
        """The tarball's file name, ``html-manager-1.0.15.tgz``."""
        return f"{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    def tarball_url(self, registry: str = DEFAULT_REGISTRY) -> str:
        """Where the registry serves the tarball."""
        return f"{registry.rstrip('/')}/{self.name}/-/{self.tarball_name}"


REQUIREJS = NpmAsset(
    name="requirejs",
    version="2.3.8",
    integrity="sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
    license="MIT",
    files=(("package/require.js", "require.js"),),
)
HTML_MANAGER = NpmAsset(
    name="@jupyter-widgets/html-manager",
    version="1.0.15",
    integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
    license="BSD-3-Clause",
    files=(
        ("package/dist/embed-amd.js", "html-manager/embed-amd.js"),
        ("package/dist/embed.js.LICENSE.txt", "html-manager/embed.js.LICENSE.txt"),
        # the Font Awesome files the renderer's CSS loads, relative to embed-amd.js
        ("package/dist/", "html-manager/"),
    ),
    suffixes=(".woff2", ".woff", ".ttf", ".eot", ".svg"),
    note="the font files are Font Awesome Free 5 (SIL OFL 1.1)",
)
#: Used when a tarball cannot be had: nbconvert's own defaults.
CDN_REQUIRE_JS = "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"


class _AssetError(XacctError):
    """A tarball could not be downloaded, or did not match its integrity value."""


def matches_integrity(data: bytes, integrity: str) -> bool:
    """Whether ``data`` matches an npm ``dist.integrity`` value (``sha512-<base64>``).

    Several space-separated values may be given; any one matching is enough.
    Only ``sha512`` and ``sha384``/``sha256`` are understood; anything else
    (and an empty value) never matches.
    """
    for item in integrity.split():
        algo, _, digest = item.partition("-")
        if algo not in ("sha512", "sha384", "sha256") or not digest:
            continue
        try:
            expected = base64.b64decode(digest, validate=True)
        except ValueError:
            continue
        if hashlib.new(algo, data).digest() == expected:
            return True
    return False


def _download(url: str, timeout: float = 60.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https only)
        data: bytes = response.read()
    return data


def fetch_tarball(
    asset: NpmAsset,
    cache_dir: Path,
    registry: str = DEFAULT_REGISTRY,
    download: Callable[[str], bytes] = _download,
) -> Path:
    """Return the cached, verified tarball of ``asset``, downloading it when needed.

    A cached file that does not match the integrity value is downloaded again;
    a download that does not match raises :class:`_AssetError` and is not kept.
    """
    path = cache_dir / asset.tarball_name
    if path.is_file() and matches_integrity(path.read_bytes(), asset.integrity):
        return path
    url = asset.tarball_url(registry)
    try:
        data = download(url)
    except OSError as exc:  # URLError, timeouts, refused connections
        raise _AssetError(f"cannot download {url}: {exc}") from exc
    if not matches_integrity(data, asset.integrity):
        raise _AssetError(f"{url} does not match its pinned integrity {asset.integrity[:20]}...")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False, suffix=".part") as tmp:
        tmp.write(data)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)
    return path


def extract(asset: NpmAsset, tarball: Path, static_dir: Path) -> list[Path]:
    """Copy the files ``asset`` names from ``tarball`` into ``static_dir``.

    Only regular files named by ``asset.files`` are written, each to a path
    this function builds (never a path taken from the archive).
    """
    written: list[Path] = []
    with tarfile.open(tarball, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        for source, dest in asset.files:
            if source.endswith("/"):
                picked = [
                    (m, dest + name[len(source):])
                    for name, m in members.items()
                    if name.startswith(source)
                    and "/" not in name[len(source):]
                    and name.endswith(asset.suffixes)
                ]
            elif source in members:
                picked = [(members[source], dest)]
            else:
                raise _AssetError(f"{asset.tarball_name} has no {source}")
            for member, rel in picked:
                target = static_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file
                target.write_bytes(handle.read())
                written.append(target)
    return written


def anywidget_amd() -> Path | None:
    """Return the installed ``anywidget`` package's AMD front end (``None`` without it)."""
    spec = importlib.util.find_spec("anywidget")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "nbextension" / "index.js"
        if path.is_file():
            return path
    return None


@dataclass
class DemoAssets:
    """What the pages load: the nbconvert settings and the ``require`` paths."""

    require_js_url: str = CDN_REQUIRE_JS
    widget_renderer_url: str = ""  # "": nbconvert's CDN default
    require_paths: dict[str, str] = field(default_factory=dict)
    licenses: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def nbconvert_args(self) -> list[str]:
        """Return the ``--HTMLExporter.*`` options that point the pages at these assets."""
        args = [f"--HTMLExporter.require_js_url={self.require_js_url}"]
        if self.widget_renderer_url:
            args.append(f"--HTMLExporter.widget_renderer_url={self.widget_renderer_url}")
        return args


def prepare_assets(
    output_dir: Path,
    cache_dir: Path,
    registry: str = DEFAULT_REGISTRY,
    download: Callable[[str], bytes] = _download,
) -> DemoAssets:
    """Put the scripts in ``output_dir/_static`` and say how the pages find them.

    Never raises for a missing asset: that script stays on its CDN and
    ``warnings`` says so.
    """
    static_dir = output_dir / STATIC
    static_dir.mkdir(parents=True, exist_ok=True)
    assets = DemoAssets()
    for asset in (REQUIREJS, HTML_MANAGER):
        try:
            extract(asset, fetch_tarball(asset, cache_dir, registry, download), static_dir)
        except (_AssetError, OSError, tarfile.TarError) as exc:
            assets.warnings.append(
                f"{asset.name}@{asset.version} is not available offline ({exc}); "
                "the demo pages load it from a CDN and need internet access to show widgets"
            )
            continue
        note = f" ({asset.note})" if asset.note else ""
        assets.licenses.append(
            f"- npm `{asset.name}@{asset.version}`, {asset.license}{note}: "
            f"{asset.tarball_url(registry)}"
        )
        if asset is REQUIREJS:
            assets.require_js_url = f"{STATIC}/require.js"
        else:
            assets.widget_renderer_url = f"{STATIC}/html-manager/embed-amd.js"
            # embed-amd.js defines its modules by name, and each finds its font files
            # next to its module's URL: map those names to the renderer's folder
            assets.require_paths.update(dict.fromkeys(
                ("@jupyter-widgets", "@jupyter-widgets/html-manager/dist"),
                f"{STATIC}/html-manager",
            ))
    amd = anywidget_amd()
    if amd is not None:
        target = static_dir / "anywidget" / "index.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(amd, target)
        assets.require_paths["anywidget"] = f"{STATIC}/anywidget/index"
        assets.licenses.append(
            "- `anywidget/index.js`: the installed anywidget Python package's "
            "nbextension/index.js, MIT"
        )
    (static_dir / "LICENSES.md").write_text(
        "# Third-party scripts of the demo pages\n\n" + "\n".join(assets.licenses) + "\n",
        encoding="utf-8",
    )
    return assets


def postprocess_html(html: str, require_paths: dict[str, str]) -> str:
    """Put a ``require`` configuration mapping ``require_paths`` first in ``<head>``.

    require.js reads a global ``require`` object as its configuration when it
    loads, and the widget renderer asks require.js for a module before trying
    a CDN, so the mapped modules load from the local files. A page without
    widget state, without ``<head>``, or already processed is returned as is.
    """
    if not require_paths or MARKER in html or "application/vnd.jupyter.widget-state+json" not in html:
        return html
    head = re.search(r"<head\b[^>]*>", html, flags=re.IGNORECASE)
    if head is None:
        return html
    config = json.dumps({"paths": require_paths}, sort_keys=True).replace("</", "<\\/")
    snippet = f"<script {MARKER}>var require = {config};</script>\n"
    # before the head's first script (require.js in nbconvert's templates), else at its top
    close = re.compile(r"</head\s*>", flags=re.IGNORECASE).search(html, head.end())
    end = close.start() if close is not None else len(html)
    first = re.compile(r"<script\b", flags=re.IGNORECASE).search(html, head.end(), end)
    at = first.start() if first is not None else head.end()
    return html[:at] + snippet + html[at:]


def run(
    notebooks: Sequence[Path],
    output_dir: Path,
    cache_dir: Path,
    timeout: int = 600,
    registry: str = DEFAULT_REGISTRY,
    stderr: TextIO | None = None,
) -> int:
    """Execute ``notebooks`` into ``output_dir`` as HTML; nbconvert's exit code."""
    err = stderr if stderr is not None else sys.stderr
    output_dir.mkdir(parents=True, exist_ok=True)
    assets = prepare_assets(output_dir, cache_dir, registry)
    for warning in assets.warnings:
        print(f"make demo: WARNING: {warning}", file=err)
    command = [
        sys.executable, "-m", "nbconvert", "--to", "html", "--execute",
        f"--ExecutePreprocessor.timeout={timeout}", "--output-dir", str(output_dir),
        *assets.nbconvert_args(), *map(str, notebooks),
    ]
    code = subprocess.call(command)
    for notebook in notebooks:
        page = output_dir / f"{Path(notebook).stem}.html"
        if page.is_file():
            html = page.read_text(encoding="utf-8")
            processed = postprocess_html(html, assets.require_paths)
            if processed != html:
                page.write_text(processed, encoding="utf-8")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line: ``python -m xacct_nb._demo --output-dir DIR NOTEBOOK...``."""
    parser = argparse.ArgumentParser(prog="python -m xacct_nb._demo",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--output-dir", type=Path, default=Path("build/demo"))
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the npm tarballs are kept (default: OUTPUT_DIR/../npm-cache)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per notebook cell")
    args = parser.parse_args(argv)
    registry = (os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry")  # noqa: SIM112 (npm's own spelling)
                or DEFAULT_REGISTRY)
    cache_dir = args.cache_dir or args.output_dir.parent / "npm-cache"
    return run(args.notebooks, args.output_dir, cache_dir, args.timeout, registry)


if __name__ == "__main__":
    sys.exit(main())
