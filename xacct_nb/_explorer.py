"""``xn.explorer``: an ipywidgets explorer of the tables a role may read (the view).

:class:`Explorer` (an ``ipywidgets.VBox``) builds the widgets, copies their
values into an :class:`~xacct_nb._explorer_logic.ExplorerLogic` when a button
is clicked, and renders the logic's state into widgets. Everything the
explorer decides (typing the inputs, building and running the read, the
messages, the suggestions, the history) is the logic's, in
:mod:`xacct_nb._explorer_logic`, which tests drive without a kernel.

The results are an interactive grid: itables' ``ITable`` widget (DataTables,
bundled with itables, so it works offline, in JupyterLab and in Voila), which
sorts, searches and pages through every row of the result. Reads run in a
background thread inside a kernel, so the widget stays responsive: a
**Cancel** button stops them between pages.
"""

from __future__ import annotations

import ast
import base64
import datetime as _dt
import html
import inspect
import io
import linecache
import os
import textwrap
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import anywidget
import ipywidgets as w
import pandas as pd
import traitlets

from ._engine import current_kernel
from ._errors import XacctError
from ._explorer_logic import (
    FILTER_OPERATORS,
    GRID_MAX_ROWS,
    NO_VALUE_OPERATORS,
    SORT_OPERATORS,
    VALUE_TYPES,
    ExplorerLogic,
    FilterRow,
    Read,
    display_frame,
)
from ._schema import parse_table
from ._validate import check_optional_bool, check_session, check_strings, public

__all__ = ["CopyButton", "Explorer", "explorer"]

#: Frames of this folder are xacct_nb's own, not the caller's.
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: The largest result offered as a download link (it travels to the browser as data).
DOWNLOAD_MAX_BYTES = 64 * 2**20


class CopyButton(anywidget.AnyWidget):
    """A button that puts ``text`` on the browser's clipboard (``copies`` counts the clicks)."""

    _esm = """
    function render({ model, el }) {
      const button = document.createElement("button");
      button.className = "jupyter-widgets jupyter-button widget-button xacct-copy";
      button.title = "Copy the code to the clipboard";
      const label = "Copy code";
      button.textContent = label;
      async function copy() {
        const text = model.get("text");
        let ok = false;
        try {
          await navigator.clipboard.writeText(text);
          ok = true;
        } catch (error) {
          const area = document.createElement("textarea");
          area.value = text;
          document.body.appendChild(area);
          area.select();
          try { ok = document.execCommand("copy"); } catch (error2) { ok = false; }
          area.remove();
        }
        button.textContent = ok ? "Copied" : "Copy failed: select the code";
        model.set("copies", model.get("copies") + 1);
        model.save_changes();
        setTimeout(() => { button.textContent = label; }, 2000);
      }
      button.addEventListener("click", copy);
      const update = () => { button.disabled = !model.get("text"); };
      model.on("change:text", update);
      update();
      el.appendChild(button);
    }
    export default { render };
    """
    text = traitlets.Unicode("").tag(sync=True)
    copies = traitlets.Int(0).tag(sync=True)


def _png(series: pd.Series, kind: str, column: str) -> bytes:
    """Return a small PNG chart (matplotlib's object API: no pyplot, no global backend)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 2.8), dpi=90)
    ax = fig.add_subplot()
    if kind == "line":
        ax.plot(range(len(series)), series.to_numpy(), marker=".", linewidth=1)
        step = max(1, len(series) // 6)
        ticks = list(range(0, len(series), step))
        ax.set_xticks(ticks, [str(series.index[i])[:19] for i in ticks], rotation=20,
                      fontsize=7, ha="right")
        ax.set_xlabel(str(series.index.name))
    else:
        ax.hist(series.to_numpy(), bins=min(30, max(5, len(series) // 5)))
        ax.set_xlabel(column)
        ax.set_ylabel("rows")
    ax.set_title(f"{column}: {len(series):,} values, mean {series.mean():,.4g}", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def session_name_of(session: Any, frame: Any) -> str:
    """Return the expression that holds ``session`` where the explorer was made.

    In the first frame outside xacct_nb (from ``frame`` outwards): the first
    argument of the call as written, when it is a name or a dotted name
    (``xn.explorer(conn.session)``: ``conn.session``); else a variable that
    holds it or has it as its ``session``; else ``"session"``.
    """
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "session"
    written = _first_argument(frame)
    if written is not None:
        return written
    namespaces = (frame.f_locals, frame.f_globals)
    for namespace in namespaces:
        for name, value in list(namespace.items()):
            if value is session and not name.startswith("_"):
                return name
    for namespace in namespaces:
        for name, value in list(namespace.items()):
            if name.startswith("_") or isinstance(value, type):
                continue
            try:
                held = getattr(value, "session", None)
            except Exception:  # noqa: BLE001 - someone's property: not ours to judge
                continue
            if held is session:
                return f"{name}.session"
    return "session"


def _first_argument(frame: Any) -> str | None:
    """Return the first argument of the call running in ``frame`` as written, if a dotted name."""
    try:
        info = inspect.getframeinfo(frame, context=0)
        pos = info.positions
        if pos is None or pos.lineno is None or pos.end_lineno is None:
            return None
        lines = linecache.getlines(info.filename, frame.f_globals)[pos.lineno - 1:pos.end_lineno]
        if not lines:
            return None
        lines[-1] = lines[-1][:pos.end_col_offset]
        lines[0] = lines[0][pos.col_offset:]
        call = ast.parse(textwrap.dedent("".join(lines)).strip(), mode="eval").body
    except (SyntaxError, ValueError, OSError, IndexError, AttributeError):
        return None
    if not isinstance(call, ast.Call):
        return None
    node = call.args[0] if call.args else next(
        (k.value for k in call.keywords if k.arg == "session"), None)
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(names)])


class Explorer(w.VBox):
    """The explorer widget: table overview, Query/Scan/PartiQL/History tabs, a grid, code.

    Every callback goes through :class:`ExplorerLogic` (``explorer.logic``);
    the last frame is ``explorer.result``. Widgets are attributes
    (``table_picker``, ``index_picker``, ``overview``, ``partition`` (a
    combobox of suggestions), ``sort_op``, ``sort_value``, ``sort_value2``,
    ``sort_time``, ``sort_time2``, ``filter_rows``, ``add_filter_button``,
    ``columns``, ``limit``, ``query_button``, ``scan_button``,
    ``statement``, ``partiql_button``, ``history_picker``,
    ``history_button``, ``confirm_button``, ``cancel_button``,
    ``cancel_read_button``, ``grid``, ``chart_column``, ``chart``, ``code``,
    ``copy_button``, ``csv_button``, ``parquet_button``, ``download``,
    ``errors`` ...), so tests can set values and ``click()`` buttons without a
    browser.

    Inside a kernel reads run in a background thread (``background=True``):
    the widget stays responsive, shows progress and can be cancelled; call
    :meth:`wait` after clicking from code. Elsewhere they run in the caller.

    >>> ex = Explorer(conn.session, tables=[conn.table])
    >>> ex.table_picker.value
    'MyCrossAccountTable'
    >>> ex.partition.value = "C-0001"
    >>> ex.query_button.click()
    >>> print(ex.code.value)
    import xacct_nb as xn
    <BLANKLINE>
    xn.read_query(conn.session, 'MyCrossAccountTable', 'C-0001')
    """

    def __init__(self, session: Any, tables: str | Iterable[str] | None = None, *,
                 progress: bool | None = None, background: bool | None = None,
                 session_name: str | None = None, history: Any = None,
                 **kwargs: Any) -> None:
        check_session(session, "xn.Explorer")
        check_strings("tables", tables)
        check_optional_bool("progress", progress)
        check_optional_bool("background", background)
        if session_name is None:
            session_name = session_name_of(session, inspect.currentframe())
        in_kernel = current_kernel() is not None
        # The explorer shows its own progress; a tqdm bar would go to the cell's output.
        logic = ExplorerLogic(session, tables, progress=bool(progress),
                              session_name=session_name, history=history)
        self.background = in_kernel if background is None else background
        self._thread: threading.Thread | None = None
        wide = w.Layout(width="auto")
        self.table_picker = w.Dropdown(description="Table", options=[], layout=wide)
        # Dropdowns use "" for "nothing chosen": a None option value deselects the widget.
        self.index_picker = w.Dropdown(description="Index", options=[("table", "")], value="")
        self.overview = w.HTML()
        self.key_names = w.Text(description="Key names", continuous_update=False,
                                placeholder="partition[, sort] (name:N for numbers)",
                                layout=w.Layout(display="none"))
        self.partition = w.Combobox(description="Partition", ensure_option=False,
                                    placeholder="type or pick", layout=w.Layout(width="420px"))
        self.sort_op = w.Dropdown(description="Sort key",
                                  options=[("(any)", ""), *[(o, o) for o in SORT_OPERATORS]],
                                  value="")
        self.sort_value = w.Text(placeholder="value", layout=w.Layout(width="180px"))
        self.sort_value2 = w.Text(placeholder="and", layout=w.Layout(width="180px",
                                                                      display="none"))
        self.sort_time = w.NaiveDatetimePicker(description="from (UTC)",
                                               layout=w.Layout(display="none"))
        self.sort_time2 = w.NaiveDatetimePicker(description="to (UTC)",
                                                layout=w.Layout(display="none"))
        self.descending = w.Checkbox(description="descending", indent=False,
                                     layout=w.Layout(width="110px"))
        self.filter_rows = w.VBox()
        self.add_filter_button = w.Button(description="+ filter", icon="filter",
                                          tooltip="add a filter on an attribute",
                                          layout=w.Layout(width="100px"))
        self.columns = w.TagsInput(allow_duplicates=False)
        self.limit = w.BoundedIntText(description="Limit", value=0, min=0,
                                      max=2**31 - 1, tooltip="0: no limit",
                                      layout=w.Layout(width="200px"))
        self.max_rcu = w.BoundedFloatText(
            description="Max RCU", value=0, min=0, max=1e6, step=1,
            tooltip="read capacity units per second this read may use (0: no cap)",
            layout=w.Layout(width="200px"))
        self.query_button = w.Button(description="Query", button_style="primary",
                                     icon="search", tooltip="Query the partition")
        self.scan_button = w.Button(description="Scan", icon="table",
                                    tooltip="Scan the table or index (asks first, with its cost)")
        self.statement = w.Textarea(
            placeholder='SELECT * FROM "MyTable" WHERE pk = \'x\'',
            layout=w.Layout(width="100%", height="70px"))
        self.partiql_button = w.Button(description="Run", button_style="primary",
                                       icon="play", tooltip="Run the PartiQL SELECT")
        self.history_picker = w.Select(options=[], rows=8, layout=w.Layout(width="100%"))
        self.history_button = w.Button(description="Run again", icon="redo",
                                       tooltip="Restore these inputs and run them")
        self.history_info = w.HTML()
        query_tab = w.VBox([
            self.key_names, w.HBox([self.partition]),
            w.HBox([self.sort_op, self.sort_value, self.sort_value2, self.sort_time,
                    self.sort_time2, self.descending]),
            w.HBox([w.Label("Filters"), self.add_filter_button]), self.filter_rows,
            w.HBox([w.Label("Columns"), self.columns]),
            w.HBox([self.limit, self.max_rcu, self.query_button, self.scan_button]),
        ])
        partiql_tab = w.VBox([self.statement, w.HBox([self.partiql_button])])
        history_tab = w.VBox([self.history_picker, w.HBox([self.history_button]),
                              self.history_info])
        self.tabs = w.Tab(children=[query_tab, partiql_tab, history_tab])
        for position, title in enumerate(("Query / Scan", "PartiQL", "History")):
            self.tabs.set_title(position, title)
        self.confirm_text = w.HTML()
        self.confirm_button = w.Button(description="Scan it all", button_style="warning")
        self.cancel_button = w.Button(description="Don't scan")
        self.confirm_row = w.HBox([self.confirm_text, self.confirm_button,
                                   self.cancel_button], layout=w.Layout(display="none"))
        self.errors = w.HTML()
        self.notice = w.HTML()
        self.status = w.HTML()
        self.progress_bar = w.IntProgress(min=0, max=1, layout=w.Layout(display="none"))
        self.cancel_read_button = w.Button(description="Cancel", icon="stop",
                                           button_style="danger", tooltip="stop this read",
                                           layout=w.Layout(display="none"))
        self.summary = w.HTML()
        self.grid: Any = None  # the ITable, made with the first result
        self.grid_box = w.Box()
        self.chart_column = w.Dropdown(description="Chart", options=[])
        self.chart = w.Image(format="png", layout=w.Layout(display="none"))
        self.chart_message = w.HTML()
        self.csv_button = w.Button(description="CSV", icon="download",
                                   tooltip="download the result as CSV", disabled=True)
        self.parquet_button = w.Button(description="Parquet", icon="download",
                                       tooltip="download the result as Parquet", disabled=True)
        self.download = w.HTML()
        self.code = w.Textarea(
            placeholder="Run a Query, Scan or PartiQL statement: the call that reproduces it "
                        "appears here.",
            layout=w.Layout(width="100%", height="90px"))
        self.copy_button = CopyButton()
        self.code_help = w.HTML(
            f"<small>Copy as code: <code>{html.escape(session_name)}</code> is the session "
            "the explorer was made with.</small>")
        self._filter_widgets: list[dict[str, Any]] = []
        self._syncing = False
        super().__init__(children=[
            w.HBox([self.table_picker, self.index_picker]),
            self.overview, self.notice, self.tabs,
            self.confirm_row, self.errors,
            w.HBox([self.progress_bar, self.status, self.cancel_read_button]),
            self.summary, self.grid_box,
            w.HBox([self.csv_button, self.parquet_button, self.download]),
            w.HBox([self.chart_column, self.chart_message]), self.chart,
            w.HBox([self.code_help, self.copy_button]), self.code,
        ], **kwargs)
        self.logic = logic
        self.table_picker.observe(self._guard(self._on_table), "value")
        self.index_picker.observe(self._guard(self._on_index), "value")
        self.sort_op.observe(self._guard(self._on_sort_op), "value")
        self.key_names.observe(self._guard(self._on_key_names), "value")
        self.chart_column.observe(self._guard(self._on_chart_column), "value")
        self.add_filter_button.on_click(self._guard(lambda _: self._add_filter_row()))
        self.query_button.on_click(self._guard(lambda _: self._start("query")))
        self.scan_button.on_click(self._guard(lambda _: self._start("scan")))
        self.partiql_button.on_click(self._guard(lambda _: self._start("partiql")))
        self.confirm_button.on_click(self._guard(lambda _: self._start("scan", confirm=True)))
        self.cancel_button.on_click(self._guard(self._on_cancel_scan))
        self.cancel_read_button.on_click(self._guard(self._on_cancel_read))
        self.history_button.on_click(self._guard(self._on_history))
        self.csv_button.on_click(self._guard(lambda _: self._offer_download("csv")))
        self.parquet_button.on_click(self._guard(lambda _: self._offer_download("parquet")))
        self._guard(self._load)()
        self._render_history()

    # -- plumbing ----------------------------------------------------------------------
    @property
    def result(self) -> pd.DataFrame | None:
        """The DataFrame of the last successful read (None before any)."""
        return self.logic.result

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the running read (if any) is done; False if it still runs after ``timeout``.

        Reads started by a click run in the background inside a kernel: call
        this after ``explorer.query_button.click()`` in code.
        """
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _guard(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Run a handler; anything it raises becomes the error message, not a traceback."""

        def guarded(*args: Any) -> None:
            if self._syncing:
                return
            try:
                handler(*args)
            except Exception as exc:  # noqa: BLE001 - a widget never shows a traceback
                self.logic._fail(exc)
                self._render_messages()

        return guarded

    def _load(self) -> None:
        tables = self.logic.load_tables()
        self._syncing = True
        try:
            self.table_picker.options = [(_label(t), t) for t in tables]
            self.table_picker.value = None
        finally:
            self._syncing = False
        if tables:
            self.table_picker.value = tables[0]  # -> _on_table
        else:
            self._render_messages()

    def _push_inputs(self) -> None:
        """Logic -> widgets for what selecting a table or index (or a history entry) sets."""
        logic = self.logic
        self._syncing = True
        try:
            self.index_picker.options = [(label, v or "") for label, v in logic.index_options()]
            self.index_picker.value = logic.index or ""
            self.sort_op.value = logic.sort_op or ""
            self.sort_value.value, self.sort_value2.value = logic.sort_text, logic.sort_text2
            self.sort_time.value, self.sort_time2.value = (
                _naive(logic.sort_times[0]), _naive(logic.sort_times[1]))
            self.partition.options = logic.partition_suggestions()
            part, sort = logic.keys()
            self.partition.placeholder = logic.key_hint("partition") + (
                ": type or pick" if self.partition.options else "")
            self.sort_value.placeholder = logic.key_hint("sort")
            self.sort_op.disabled = sort is None and logic.schema is not None
            self._show_sort_inputs()
            if logic.table is not None:
                self.statement.placeholder = f'SELECT * FROM "{_name(logic.table)}"' + (
                    f" WHERE {part} = '...'" if part else "")
            self._refresh_attributes()
        finally:
            self._syncing = False

    def _push_restored(self) -> None:
        """Logic -> widgets for every input (a run from the history)."""
        logic = self.logic
        self._push_inputs()
        self._syncing = True
        try:
            self.partition.value = logic.partition_text
            self.descending.value = not logic.ascending
            self.columns.value = list(logic.columns)
            self.limit.value = logic.limit or 0
            self.max_rcu.value = logic.max_rcu or 0
            self.statement.value = logic.statement
            for widgets in list(self._filter_widgets):
                self._remove_filter_row(widgets)
            for row in logic.filters:
                self._add_filter_row(row)
        finally:
            self._syncing = False

    def _refresh_attributes(self) -> None:
        known = self.logic.known_attributes()
        for row in self._filter_widgets:
            row["attribute"].options = known
            self._check_row(row)
        self.columns.allowed_tags = []
        self.columns.placeholder = ", ".join(known[:6]) or "attribute names"

    def _pull_inputs(self) -> None:
        """Widgets -> logic, before a read."""
        logic = self.logic
        logic.partition_text = self.partition.value
        logic.sort_op = self.sort_op.value or None
        logic.sort_text, logic.sort_text2 = self.sort_value.value, self.sort_value2.value
        logic.sort_times = ((self.sort_time.value, self.sort_time2.value)
                            if logic.sort_is_time() else (None, None))
        logic.ascending = not self.descending.value
        logic.filters = [self._row_of(r) for r in self._filter_widgets]
        logic.columns = list(self.columns.value)
        logic.limit = int(self.limit.value) or None
        logic.max_rcu = float(self.max_rcu.value) or None
        logic.statement = self.statement.value

    @staticmethod
    def _row_of(widgets: dict[str, Any]) -> FilterRow:
        return FilterRow(widgets["attribute"].value, widgets["operator"].value,
                         widgets["value"].value, widgets["value2"].value, widgets["type"].value)

    def _show_sort_inputs(self) -> None:
        """Text inputs, or date/time pickers when the sort key holds timestamps."""
        op = self.sort_op.value
        times = self.logic.sort_is_time() and op not in ("", "begins_with")
        shown = None if op else "none"
        self.sort_value.layout.display = "none" if times else shown
        self.sort_value2.layout.display = None if op == "between" and not times else "none"
        self.sort_time.layout.display = None if times else "none"
        self.sort_time2.layout.display = None if times and op == "between" else "none"
        self.sort_time.description = "from (UTC)" if op == "between" else "time (UTC)"

    # -- events -----------------------------------------------------------------------
    def _on_table(self, change: dict[str, Any]) -> None:
        self.logic.select_table(change["new"])
        schema_unknown = self.logic.table is not None and self.logic.schema is None
        self.key_names.layout.display = None if schema_unknown else "none"
        self._syncing = True
        try:
            self.key_names.value = ""
        finally:
            self._syncing = False
        self._push_inputs()
        self._render_all()

    def _on_index(self, change: dict[str, Any]) -> None:
        self.logic.select_index(change["new"] or None)
        self._push_inputs()
        self._render_all()

    def _on_sort_op(self, change: dict[str, Any]) -> None:
        self._show_sort_inputs()

    def _on_key_names(self, change: dict[str, Any]) -> None:
        self.logic.set_key_schema_text(change["new"])
        self._push_inputs()
        self._render_messages()

    def _add_filter_row(self, row: FilterRow | None = None) -> dict[str, Any]:
        row = row or FilterRow("")
        widgets: dict[str, Any] = {
            "attribute": w.Combobox(value=row.attribute, placeholder="attribute",
                                    options=self.logic.known_attributes(),
                                    ensure_option=False, layout=w.Layout(width="160px")),
            "operator": w.Dropdown(options=list(FILTER_OPERATORS), value=row.operator,
                                   layout=w.Layout(width="120px")),
            "value": w.Text(value=row.value, placeholder="value",
                            layout=w.Layout(width="160px")),
            "value2": w.Text(value=row.value2, placeholder="and",
                             layout=w.Layout(width="120px",
                                             display=None if row.operator == "between"
                                             else "none")),
            "type": w.Dropdown(options=list(VALUE_TYPES), value=row.type,
                               tooltip="how to read the value",
                               layout=w.Layout(width="80px")),
            "remove": w.Button(icon="trash", tooltip="remove this filter",
                               layout=w.Layout(width="40px")),
            "message": w.HTML(),
        }

        def operator_changed(change: dict[str, Any]) -> None:
            widgets["value2"].layout.display = None if change["new"] == "between" else "none"
            widgets["value"].disabled = change["new"] in NO_VALUE_OPERATORS
            self._check_row(widgets)

        widgets["operator"].observe(self._guard(operator_changed), "value")
        for name in ("attribute", "value", "value2", "type"):
            widgets[name].observe(self._guard(lambda _: self._check_row(widgets)), "value")
        widgets["remove"].on_click(self._guard(lambda _: self._remove_filter_row(widgets)))
        widgets["box"] = w.HBox([widgets[k] for k in
                                 ("attribute", "operator", "value", "value2", "type",
                                  "remove", "message")])
        self._filter_widgets.append(widgets)
        self.filter_rows.children = [r["box"] for r in self._filter_widgets]
        self._check_row(widgets)
        return widgets

    def _check_row(self, widgets: dict[str, Any]) -> None:
        """Say at once when a filter value does not fit its attribute's type (no read)."""
        row = self._row_of(widgets)
        problem = self.logic.check_filter(row)
        type_ = self.logic.attribute_types().get(row.attribute.strip(), "")
        if problem:
            widgets["message"].value = (
                f'<span style="color:#b00020" class="xacct-filter-error">'
                f"{html.escape(problem)}</span>")
        elif type_:
            widgets["message"].value = f"<small>{html.escape(type_)}</small>"
        else:
            widgets["message"].value = ""

    def _remove_filter_row(self, widgets: dict[str, Any]) -> None:
        self._filter_widgets.remove(widgets)
        self.filter_rows.children = [r["box"] for r in self._filter_widgets]

    # -- reading ----------------------------------------------------------------------
    def _start(self, kind: str, *, confirm: bool = False) -> None:
        """Start a read: in a background thread inside a kernel, else here."""
        self._pull_inputs()
        self.download.value = ""
        read = self.logic.prepare(kind, confirm=confirm)
        self._render_messages()
        self._render_confirmation()
        if read is None:
            return
        self._set_running(read)
        if not self.background:
            self._run(read)
            return
        thread = threading.Thread(target=self._run, args=(read,), daemon=True,
                                  name=f"xacct-explorer-{kind}")
        self._thread = thread
        thread.start()

    def _run(self, read: Read) -> None:
        try:
            self.logic.execute(read, self._on_page)
            df = self.logic.finish(read)
            if read.generation != self.logic._generation:
                return  # cancelled, or replaced by a newer read or table: those render
            self._set_idle()
            self._render_messages()
            if df is not None:
                self._render_result()
                self._render_history()
        except Exception as exc:  # noqa: BLE001 - never a traceback out of a widget thread
            self.logic._fail(exc)
            self._set_idle()
            self._render_messages()

    def _on_page(self, read: Read) -> None:
        if read.generation != self.logic._generation:
            return
        if self.progress_bar.max > 1:
            self.progress_bar.value = min(read.items, self.progress_bar.max)
        self.status.value = (f"<small>Reading {read.kind}: {read.items:,} items, "
                             f"{read.pages} page{'s' if read.pages != 1 else ''}...</small>")

    def _set_running(self, read: Read) -> None:
        total = None
        if read.kind == "scan" and self.logic.info is not None and not read.kwargs.get("limit"):
            total = self.logic.info.item_count
        self.progress_bar.max = max(int(total or 1), 1)
        self.progress_bar.value = 0
        self.progress_bar.layout.display = None if total else "none"
        self.status.value = f"<small>Reading {read.kind}...</small>"
        self.cancel_read_button.layout.display = None
        for button in (self.query_button, self.scan_button, self.partiql_button,
                       self.confirm_button, self.history_button):
            button.disabled = True

    def _set_idle(self) -> None:
        self.progress_bar.layout.display = "none"
        self.cancel_read_button.layout.display = "none"
        self.status.value = ""
        for button in (self.query_button, self.scan_button, self.partiql_button,
                       self.confirm_button, self.history_button):
            button.disabled = False

    def _on_cancel_read(self, _: Any) -> None:
        self.logic.cancel()
        self._set_idle()
        self._render_messages()

    def _on_cancel_scan(self, _: Any) -> None:
        self.logic.cancel_scan()
        self._render_confirmation()

    def _on_history(self, _: Any) -> None:
        position = self.history_picker.index
        if position is None:
            self.logic.error, self.logic.hint = "Pick a run in the history first.", ""
            self._render_messages()
            return
        entry = self.logic.history.entries[position]
        inputs = entry["inputs"]
        table_changed = inputs.get("table") != self.logic.table
        self.logic.restore(inputs)
        self._syncing = True
        try:
            if table_changed and inputs.get("table") in [v for _, v in
                                                         self.table_picker.options]:
                self.table_picker.value = inputs.get("table")
        finally:
            self._syncing = False
        self._push_restored()
        self._render_all()
        self.tabs.selected_index = 1 if entry["kind"] == "partiql" else 0
        self._start(entry["kind"], confirm=True)

    def _offer_download(self, fmt: str) -> None:
        name, data = self.logic.download(fmt)
        if len(data) > DOWNLOAD_MAX_BYTES:
            self.download.value = (
                f"<small>{html.escape(name)} would be {len(data) / 2**20:,.0f} MiB, too large "
                "for a link: run the code and use df.to_parquet(...).</small>")
            return
        mime = "text/csv" if fmt == "csv" else "application/vnd.apache.parquet"
        encoded = base64.b64encode(data).decode("ascii")
        self.download.value = (
            f'<a download="{html.escape(name)}" href="data:{mime};base64,{encoded}" '
            f'class="xacct-download">Save {html.escape(name)} ({_kib(len(data))})</a>')

    def _on_chart_column(self, change: dict[str, Any]) -> None:
        self._render_chart(change["new"] or None)

    # -- rendering ----------------------------------------------------------------------
    def _render_all(self) -> None:
        self._render_overview()
        self._render_messages()
        self._render_confirmation()
        self._render_result()

    def _render_overview(self) -> None:
        lines = self.logic.overview()
        self.overview.value = (
            '<table class="xacct-overview" style="font-size:90%">' + "".join(
                f"<tr><th style='text-align:left;padding-right:12px'>{html.escape(label)}</th>"
                f"<td>{html.escape(text)}</td></tr>" for label, text in lines)
            + "</table>") if lines else ""

    def _render_messages(self) -> None:
        logic = self.logic
        notes = [n for n in (logic.notice, logic.cancel_note) if n]
        self.notice.value = "".join(
            f"<div><small><i>{html.escape(n)}</i></small></div>" for n in notes)
        if logic.error:
            hint = (f"<br><b>What to do:</b> {html.escape(logic.hint)}" if logic.hint else "")
            self.errors.value = (
                '<div style="color:#b00020;border-left:3px solid #b00020;padding-left:6px">'
                f"<b>Error:</b> {html.escape(logic.error)}{hint}</div>"
            )
        else:
            self.errors.value = ""

    def _render_confirmation(self) -> None:
        pending = self.logic.pending_scan
        self.confirm_row.layout.display = None if pending else "none"
        self.confirm_text.value = (
            f'<span style="color:#8a5300">{html.escape(pending.message)}</span>'
            if pending else "")

    def _render_result(self) -> None:
        """Show the result (grid, summary, code, downloads, chart), or nothing without one."""
        logic = self.logic
        df = logic.result
        has = df is not None
        for button in (self.csv_button, self.parquet_button):
            button.disabled = not has
        if not has:
            self.summary.value = ""
            self.grid_box.children = []
            self.code.value = self.copy_button.text = ""
            self.download.value = ""
            self._syncing = True
            try:
                self.chart_column.options = []
            finally:
                self._syncing = False
            self.chart.layout.display = "none"
            self.chart_message.value = ""
            return
        assert df is not None
        shown = min(len(df), GRID_MAX_ROWS)
        self.summary.value = (
            f"<b>{html.escape(logic.summary())}</b>"
            + (f" <small>(the grid shows the first {shown:,}; download for all)</small>"
               if len(df) > shown else ""))
        self._show_grid(df)
        self.code.value = self.copy_button.text = logic.code(imports=True)
        self._syncing = True
        try:
            self.partition.options = logic.partition_suggestions()
        finally:
            self._syncing = False
        self._refresh_attributes()
        numeric = logic.numeric_columns()
        self._syncing = True
        try:
            self.chart_column.options = [("(none)", ""), *[(c, c) for c in numeric]]
            self.chart_column.value = ""
        finally:
            self._syncing = False
        self.chart.layout.display = "none"
        self.chart_message.value = "" if numeric else "<small>no numeric columns</small>"

    def _show_grid(self, df: pd.DataFrame) -> None:
        from itables.widget import ITable

        shown = display_frame(df)
        options: dict[str, Any] = {
            "allow_html": True, "maxBytes": 0, "showIndex": False, "pageLength": 20,
            "lengthMenu": [10, 20, 50, 100, 500],
            "layout": {"topStart": "pageLength", "topEnd": "search",
                       "bottomStart": "info", "bottomEnd": "paging"},
            "classes": "display compact nowrap cell-border",
            "style": "width:100%;margin:0", "scrollX": True,
        }
        if self.grid is None:
            self.grid = ITable(shown, **options)
        else:
            self.grid.update(shown, **options)
        self.grid_box.children = [self.grid]

    def _render_history(self) -> None:
        history = self.logic.history
        self._syncing = True
        try:
            self.history_picker.options = history.labels()
        finally:
            self._syncing = False
        where = f"kept in {history.path}" if history.path else "kept in memory only"
        self.history_info.value = (
            f"<small>The last {len(history.entries)} runs, newest first ({html.escape(where)})."
            + (f" {html.escape(history.problem)}" if history.problem else "") + "</small>")

    def _render_chart(self, column: str | None) -> None:
        if column is None:
            self.chart.layout.display = "none"
            return
        series = self.logic.chart_data(column)
        if series.empty:
            self.chart.layout.display = "none"
            self.chart_message.value = f"<small>{html.escape(column)}: no values</small>"
            return
        try:
            png = _png(series, self.logic.chart_kind(), column)
        except ImportError:
            self.chart_message.value = "<small>charts need matplotlib: pip install " \
                                       "matplotlib</small>"
            return
        except Exception as exc:  # noqa: BLE001 - a chart that fails must say so, not vanish
            self.chart.layout.display = "none"
            self.chart_message.value = html.escape(
                f"No chart of {column}: matplotlib failed ({type(exc).__name__}: {exc})."
            ).join(("<small>", "</small>"))
            return
        self.chart.value = png
        self.chart.layout.display = None
        self.chart_message.value = ""


def _naive(value: Any) -> Any:
    """Return a time for the (naive, UTC) pickers."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    return value


def _kib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{max(n / 2**10, 0.1):,.1f} KiB"


def _name(table: str) -> str:
    try:
        return parse_table(table).name
    except XacctError:
        return table


def _label(table: str) -> str:
    """Picker label: the name, and for an ARN its account and region."""
    try:
        ref = parse_table(table)
    except XacctError:
        return table
    return f"{ref.name} (account {ref.account}, {ref.region})" if ref.account else ref.name


@public
def explorer(session: Any, tables: str | Sequence[str] | None = None, *,
             history: Any = None) -> Any:
    """Return an ipywidgets explorer of DynamoDB tables, for a notebook.

    Pick a table (ListTables when the role may, else the ``tables`` given)
    and see its overview (keys, indexes, size, what a Scan would cost). Pick
    an index and a partition from the suggestions (values seen in a small
    sample and in results), a sort-key condition (date/time pickers when the
    sort key holds timestamps), filters (a value of the wrong type is
    refused at once), columns and a limit, and Query or Scan (a Scan asks
    first, with its cost), or run a PartiQL SELECT. The results are an
    interactive grid (sort, search, pages; nested values expand), with the
    row count, consumed capacity and time, a quick chart of a numeric
    column, downloads as CSV or Parquet, and the exact ``xn.read_query(...)``
    call that reproduces them, with a button that copies it. Reads run in
    the background with progress and **Cancel**; the last runs are kept in
    a history that can run them again. Errors (denied, throttled, bad
    input) appear in the widget with a hint, never as a traceback.

    Parameters
    ----------
    session
        The role session, e.g. ``conn.session`` or ``xn.assume_role(...)``.
        The copied code uses the same expression (``conn.session``).
    tables
        Table names or ARNs to offer; needed when the role may not ListTables.
    history
        Where the history of runs is kept: a file path; ``None`` (default)
        ``$XACCT_HISTORY_FILE`` or ``explorer-history.json`` in the user's
        data folder; ``False``: in memory only.

    Returns
    -------
    Explorer
        An ``ipywidgets.VBox``: display it (last expression of a cell).
        ``.result`` is the last DataFrame, ``.logic`` the
        :class:`ExplorerLogic` behind it, ``.wait()`` waits for a read
        started from code.

    >>> ex = xn.explorer(conn.session, tables=[conn.table])
    >>> ex
    Explorer(children=(HBox(children=(Dropdown(description='Table', ...
    >>> ex.partition.value = "C-0001"
    >>> ex.query_button.click()
    >>> ex.wait()
    True
    >>> ex.result.shape
    (20, ...)
    """
    check_session(session, "xn.explorer")
    return Explorer(session, tables, history=history,
                    session_name=session_name_of(session, inspect.currentframe()))
