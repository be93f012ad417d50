"""``make demo``'s offline widget pages (``xacct_nb._demo``).

The unit tests use a fake npm tarball and a fake download function: no network.
The browser test executes a tiny notebook (core widgets and, when ``itables`` is
installed, an anywidget ``ITable`` grid) into HTML and opens it in Debian's
chromium with every non-local request aborted; it needs the real npm tarballs,
taken from ``build/npm-cache/`` (which ``make demo`` fills) or, failing that,
from the registry, and is skipped when neither is available.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest
from browser_util import CHROMIUM, FLAGS

from xacct_nb import _demo

ROOT = Path(__file__).resolve().parent.parent


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


FAKE_FILES = {
    "package/package.json": b"{}",
    "package/require.js": b"/* fake require.js */",
    "package/dist/embed-amd.js": b"/* fake embed-amd */",
    "package/dist/embed.js": b"/* not copied */",
    "package/dist/embed.js.LICENSE.txt": b"licenses",
    "package/dist/abc.woff2": b"font",
    "package/dist/abc.svg": b"<svg/>",
    "package/dist/sub/deep.woff2": b"not copied: not directly in dist/",
    "package/dist/../../evil.woff2": b"not copied: outside dist/",
    "package/lib/index.js": b"not copied",
}
FAKE_TGZ = _tarball(FAKE_FILES)


@pytest.fixture
def fake_assets(monkeypatch):
    """Point the module's two npm assets at the fake tarball; return the download log."""
    integrity = _integrity(FAKE_TGZ)
    for name in ("REQUIREJS", "HTML_MANAGER"):
        monkeypatch.setattr(_demo, name, dataclasses.replace(getattr(_demo, name),
                                                              integrity=integrity))
    calls: list[str] = []

    def download(url: str) -> bytes:
        calls.append(url)
        return FAKE_TGZ

    return calls, download


# -- integrity -----------------------------------------------------------------------------

def test_integrity_matches_the_registry_format():
    data = b"some tarball bytes"
    assert _demo.matches_integrity(data, _integrity(data))
    assert not _demo.matches_integrity(data + b"!", _integrity(data))
    # several values: any one matching is enough; unknown algorithms never match
    assert _demo.matches_integrity(data, "sha1-AAAA " + _integrity(data))
    assert not _demo.matches_integrity(data, "sha1-" + base64.b64encode(
        hashlib.sha1(data).digest()).decode())
    assert not _demo.matches_integrity(data, "")
    assert not _demo.matches_integrity(data, "sha512-not*base64")


def test_pinned_assets_are_npm_tarballs_with_sha512():
    for asset in (_demo.REQUIREJS, _demo.HTML_MANAGER):
        assert asset.integrity.startswith("sha512-")
        assert len(base64.b64decode(asset.integrity.removeprefix("sha512-"))) == 64
        assert asset.license in ("MIT", "BSD-3-Clause")
    assert (_demo.HTML_MANAGER.tarball_url("https://mirror.example/npm/")
            == "https://mirror.example/npm/@jupyter-widgets/html-manager/-/html-manager-1.0.15.tgz")
    assert _demo.REQUIREJS.tarball_url().endswith("/requirejs/-/requirejs-2.3.8.tgz")


def test_fetch_downloads_once_then_uses_the_cache(tmp_path, fake_assets):
    calls, download = fake_assets
    path = _demo.fetch_tarball(_demo.REQUIREJS, tmp_path, "https://r.example", download)
    assert path.read_bytes() == FAKE_TGZ and calls == [
        "https://r.example/requirejs/-/requirejs-2.3.8.tgz"]

    def offline(url: str) -> bytes:
        raise OSError("no network")

    assert _demo.fetch_tarball(_demo.REQUIREJS, tmp_path, download=offline) == path


def test_fetch_replaces_a_corrupt_cache_and_rejects_a_bad_download(tmp_path, fake_assets):
    calls, download = fake_assets
    cached = tmp_path / _demo.REQUIREJS.tarball_name
    cached.write_bytes(b"truncated")
    assert _demo.fetch_tarball(_demo.REQUIREJS, tmp_path, download=download).read_bytes() == FAKE_TGZ
    assert len(calls) == 1

    cached.unlink()
    with pytest.raises(_demo._AssetError, match="integrity"):
        _demo.fetch_tarball(_demo.REQUIREJS, tmp_path, download=lambda url: b"tampered")
    assert list(tmp_path.iterdir()) == []  # nothing kept

    def offline(url: str) -> bytes:
        raise OSError("no network")

    with pytest.raises(_demo._AssetError, match="cannot download"):
        _demo.fetch_tarball(_demo.REQUIREJS, tmp_path, download=offline)


def test_extract_copies_only_the_named_files(tmp_path):
    tgz = tmp_path / "fake.tgz"
    tgz.write_bytes(FAKE_TGZ)
    static = tmp_path / "static"
    written = _demo.extract(_demo.HTML_MANAGER, tgz, static)
    got = sorted(p.relative_to(static).as_posix() for p in written)
    assert got == ["html-manager/abc.svg", "html-manager/abc.woff2",
                   "html-manager/embed-amd.js", "html-manager/embed.js.LICENSE.txt"]
    assert (static / "html-manager/embed-amd.js").read_bytes() == b"/* fake embed-amd */"
    with pytest.raises(_demo._AssetError, match="has no package/require.js"):
        _demo.extract(_demo.REQUIREJS, _write(tmp_path / "empty.tgz", _tarball({})), static)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- assets and pages ----------------------------------------------------------------------

def test_prepare_assets_points_nbconvert_at_local_files(tmp_path, fake_assets):
    calls, download = fake_assets
    out = tmp_path / "demo"
    assets = _demo.prepare_assets(out, tmp_path / "cache", download=download)
    assert assets.warnings == [] and len(calls) == 2
    assert assets.nbconvert_args() == [
        "--HTMLExporter.require_js_url=_static/require.js",
        "--HTMLExporter.widget_renderer_url=_static/html-manager/embed-amd.js",
    ]
    assert (out / "_static/require.js").is_file()
    assert assets.require_paths["@jupyter-widgets"] == "_static/html-manager"
    licenses = (out / "_static/LICENSES.md").read_text()
    assert "BSD-3-Clause" in licenses and "MIT" in licenses
    if _demo.anywidget_amd() is not None:
        assert assets.require_paths["anywidget"] == "_static/anywidget/index"
        assert (out / "_static/anywidget/index.js").read_text().rstrip().endswith(
            'define(["@jupyter-widgets/base"], widget_default);')


def test_prepare_assets_falls_back_to_the_cdn_with_a_warning(tmp_path, fake_assets):
    def offline(url: str) -> bytes:
        raise OSError("no network")

    assets = _demo.prepare_assets(tmp_path / "demo", tmp_path / "cache", download=offline)
    assert len(assets.warnings) == 2
    assert all("CDN" in w and "no network" in w for w in assets.warnings)
    assert assets.nbconvert_args() == [f"--HTMLExporter.require_js_url={_demo.CDN_REQUIRE_JS}"]
    assert "@jupyter-widgets" not in assets.require_paths


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>t</title><script src="_static/require.js"></script><script>/* renderer */</script>
</head>
<body><script type="application/vnd.jupyter.widget-state+json">{}</script></body>
</html>
"""


def test_postprocess_puts_the_require_config_before_require_js():
    paths = {"anywidget": "_static/anywidget/index", "x": "a</script>b"}
    html = _demo.postprocess_html(PAGE, paths)
    config = '<script data-xacct-demo>var require = {"paths": {"anywidget": '
    assert html.index(config) < html.index('<script src="_static/require.js">')
    assert html.index("<meta charset") < html.index(config)
    assert "a</script>b" not in html and "a<\\/script>b" in html  # cannot close the tag
    start = html.index("var require = ") + len("var require = ")
    assert json.loads(html[start:html.index(";</script>", start)].replace("<\\/", "</")) == {
        "paths": paths}
    assert _demo.postprocess_html(html, paths) == html  # idempotent


def test_postprocess_leaves_pages_without_widgets_alone():
    no_widgets = PAGE.replace("application/vnd.jupyter.widget-state+json", "text/plain")
    assert _demo.postprocess_html(no_widgets, {"anywidget": "a"}) == no_widgets
    assert _demo.postprocess_html(PAGE, {}) == PAGE
    no_script = "<html><head><title>t</title></head><body>" \
        '<script type="application/vnd.jupyter.widget-state+json">{}</script></body></html>'
    assert _demo.postprocess_html(no_script, {"a": "b"}).startswith(
        '<html><head><script data-xacct-demo>var require = {"paths": {"a": "b"}};</script>\n<title>')


# -- the real thing, offline in chromium ---------------------------------------------------

def _real_tarballs_or_skip(cache: Path) -> None:
    for asset in (_demo.REQUIREJS, _demo.HTML_MANAGER):
        try:
            _demo.fetch_tarball(asset, cache)
        except _demo._AssetError as exc:
            pytest.skip(f"the npm tarballs are not cached and cannot be downloaded: {exc}")


@pytest.mark.browser
@pytest.mark.slow
def test_demo_page_shows_its_widgets_offline(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from playwright.sync_api import expect, sync_playwright

    cache = ROOT / "build" / "npm-cache"
    _real_tarballs_or_skip(cache)
    has_itables = _demo.anywidget_amd() is not None and _importable("itables")
    cells = [
        "import ipywidgets as w\n"
        "w.VBox([w.Dropdown(options=['orders', 'customers'], description='Table'),\n"
        "        w.Button(description='Query', icon='search'), w.TagsInput(value=['pk'])])",
    ]
    if has_itables:
        cells.append(
            "import pandas as pd\nfrom itables.widget import ITable\n"
            "ITable(pd.DataFrame({'order_id': ['ord-001', 'ord-002', 'ord-003'],"
            " 'total': [1, 2, 3]}))")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    notebook = tmp_path / "tiny.ipynb"
    nbformat.write(nb, notebook)
    out = tmp_path / "demo"
    err = io.StringIO()
    assert _demo.run([notebook], out, cache, timeout=60, stderr=err) == 0
    assert err.getvalue() == ""

    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})

            def only_local(route):
                if route.request.url.startswith(("file:", "blob:", "data:")):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_local)
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto((out / "tiny.html").as_uri())
            expect(page.locator("button", has_text="Query")).to_be_visible(timeout=15_000)
            expect(page.locator("select")).to_have_value("orders")
            if has_itables:
                expect(page.get_by_role("cell", name="ord-003")).to_be_visible(timeout=15_000)
            page.wait_for_load_state("networkidle")
            shot = ROOT / "build" / "demo-check.png"
            shot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    # no local file is missing (font files included); only MathJax's CDN script was refused
    assert [u for u in failed if u.startswith("file:")] == []
    assert all("mathjax" in u for u in outside), outside


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
