"""``xn.explorer``: an ipywidgets explorer of the tables a role may read (the view).

:class:`Explorer` (an ``ipywidgets.VBox``) builds the widgets, copies their
values into an :class:`~xacct_nb._explorer_logic.ExplorerLogic` when a button
is clicked, and renders the logic's state into HTML widgets. Everything the
explorer decides (typing the inputs, building and running the read, the
messages) is the logic's, in :mod:`xacct_nb._explorer_logic`, which tests
drive without a kernel.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ipywidgets as w
import pandas as pd

from ._engine import current_kernel
from ._errors import XacctError
from ._explorer_logic import (
    FILTER_OPERATORS,
    NO_VALUE_OPERATORS,
    SORT_OPERATORS,
    VALUE_TYPES,
    ExplorerLogic,
    FilterRow,
)
from ._schema import parse_table
from ._validate import check_optional_bool, check_session, check_strings, public

__all__ = ["Explorer", "explorer"]


# -- the view ----------------------------------------------------------------------------------


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


class Explorer(w.VBox):
    """The explorer widget: pickers, inputs, Query/Scan, results, chart, code, errors.

    Every callback goes through :class:`ExplorerLogic` (``explorer.logic``);
    the last frame is ``explorer.result``. Widgets are attributes
    (``table_picker``, ``index_picker``, ``partition``, ``sort_op``,
    ``sort_value``, ``sort_value2``, ``filter_rows``, ``add_filter_button``,
    ``columns``, ``limit``, ``query_button``, ``scan_button``,
    ``confirm_button``, ``cancel_button``, ``results``, ``chart_column``,
    ``chart``, ``code``, ``errors``, ...), so tests can set values and
    ``click()`` buttons without a kernel.

    >>> ex = Explorer(conn.session, tables=[conn.table])
    >>> ex.table_picker.value
    'MyCrossAccountTable'
    >>> ex.partition.value = "C-0001"
    >>> ex.query_button.click()
    >>> print(ex.code.value)
    import xacct_nb as xn
    <BLANKLINE>
    xn.read_query(session, 'MyCrossAccountTable', 'C-0001')
    """

    def __init__(self, session: Any, tables: str | Iterable[str] | None = None, *,
                 progress: bool | None = None, **kwargs: Any) -> None:
        check_session(session, "xn.Explorer")
        check_strings("tables", tables)
        check_optional_bool("progress", progress)
        if progress is None:
            progress = None if current_kernel() is not None else False
        logic = ExplorerLogic(session, tables, progress=progress)
        wide = w.Layout(width="auto")
        self.table_picker = w.Dropdown(description="Table", options=[], layout=wide)
        # Dropdowns use "" for "nothing chosen": a None option value deselects the widget.
        self.index_picker = w.Dropdown(description="Index", options=[("table", "")], value="")
        self.table_info = w.HTML()
        self.key_names = w.Text(description="Key names", continuous_update=False,
                                placeholder="partition[, sort] (name:N for numbers)",
                                layout=w.Layout(display="none"))
        self.partition = w.Text(description="Partition")
        self.sort_op = w.Dropdown(description="Sort key",
                                  options=[("(any)", ""), *[(o, o) for o in SORT_OPERATORS]],
                                  value="")
        self.sort_value = w.Text(placeholder="value", layout=w.Layout(width="180px"))
        self.sort_value2 = w.Text(placeholder="and", layout=w.Layout(width="180px",
                                                                      display="none"))
        self.descending = w.Checkbox(description="descending", indent=False,
                                     layout=w.Layout(width="110px"))
        self.filter_rows = w.VBox()
        self.add_filter_button = w.Button(description="+ filter", icon="filter",
                                          layout=w.Layout(width="100px"))
        self.columns = w.TagsInput(allow_duplicates=False)
        self.limit = w.BoundedIntText(description="Limit", value=0, min=0,
                                      max=2**31 - 1, tooltip="0: no limit",
                                      layout=w.Layout(width="200px"))
        self.query_button = w.Button(description="Query", button_style="primary",
                                     icon="search")
        self.scan_button = w.Button(description="Scan", icon="table")
        self.confirm_text = w.HTML()
        self.confirm_button = w.Button(description="Scan it all", button_style="warning")
        self.cancel_button = w.Button(description="Cancel")
        self.confirm_row = w.HBox([self.confirm_text, self.confirm_button,
                                   self.cancel_button], layout=w.Layout(display="none"))
        self.errors = w.HTML()
        self.notice = w.HTML()
        self.progress_output = w.Output()
        self.summary = w.HTML()
        self.results = w.HTML()
        self.chart_column = w.Dropdown(description="Chart", options=[])
        self.chart = w.Image(format="png", layout=w.Layout(display="none"))
        self.chart_message = w.HTML()
        self.code = w.Textarea(
            placeholder="Run a Query or Scan: the call that reproduces it appears here.",
            layout=w.Layout(width="100%", height="90px"),
        )
        self.code_help = w.HTML(
            "<small>Copy as code: <code>session</code> is the session you passed to "
            "<code>xn.explorer</code>.</small>")
        self._filter_widgets: list[dict[str, Any]] = []
        self._syncing = False
        super().__init__(children=[
            w.HBox([self.table_picker, self.index_picker]),
            self.table_info, self.notice, self.key_names,
            w.HBox([self.partition]),
            w.HBox([self.sort_op, self.sort_value, self.sort_value2, self.descending]),
            w.HBox([w.Label("Filters"), self.add_filter_button]), self.filter_rows,
            w.HBox([w.Label("Columns"), self.columns]),
            w.HBox([self.limit, self.query_button, self.scan_button]),
            self.confirm_row, self.errors, self.progress_output, self.summary,
            self.results, w.HBox([self.chart_column, self.chart_message]), self.chart,
            self.code_help, self.code,
        ], **kwargs)
        self.logic = logic
        self.table_picker.observe(self._guard(self._on_table), "value")
        self.index_picker.observe(self._guard(self._on_index), "value")
        self.sort_op.observe(self._guard(self._on_sort_op), "value")
        self.key_names.observe(self._guard(self._on_key_names), "value")
        self.chart_column.observe(self._guard(self._on_chart_column), "value")
        self.add_filter_button.on_click(self._guard(lambda _: self._add_filter_row()))
        self.query_button.on_click(self._guard(self._on_query))
        self.scan_button.on_click(self._guard(self._on_scan))
        self.confirm_button.on_click(self._guard(self._on_confirm))
        self.cancel_button.on_click(self._guard(self._on_cancel))
        self._guard(self._load)()

    # -- plumbing ----------------------------------------------------------------------
    @property
    def result(self) -> pd.DataFrame | None:
        """The DataFrame of the last successful read (None before any)."""
        return self.logic.result

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
        """Logic -> widgets for what selecting a table or index resets."""
        logic = self.logic
        self._syncing = True
        try:
            self.index_picker.options = [(label, v or "") for label, v in logic.index_options()]
            self.index_picker.value = logic.index or ""
            self.sort_op.value = logic.sort_op or ""
            self.sort_value.value, self.sort_value2.value = logic.sort_text, logic.sort_text2
            self.sort_value2.layout.display = "none"
            part, sort = logic.keys()
            self.partition.placeholder = logic.key_hint("partition")
            self.sort_value.placeholder = logic.key_hint("sort")
            self.sort_op.disabled = sort is None and logic.schema is not None
            known = logic.known_attributes()
            for row in self._filter_widgets:
                row["attribute"].options = known
            self.columns.placeholder = ", ".join(known[:6]) or "attribute names"
        finally:
            self._syncing = False

    def _pull_inputs(self) -> None:
        """Widgets -> logic, before a read."""
        logic = self.logic
        logic.partition_text = self.partition.value
        logic.sort_op = self.sort_op.value or None
        logic.sort_text, logic.sort_text2 = self.sort_value.value, self.sort_value2.value
        logic.ascending = not self.descending.value
        logic.filters = [
            FilterRow(r["attribute"].value, r["operator"].value, r["value"].value,
                      r["value2"].value, r["type"].value)
            for r in self._filter_widgets
        ]
        logic.columns = list(self.columns.value)
        logic.limit = int(self.limit.value) or None

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
        self._render_messages()
        self._render_confirmation()

    def _on_index(self, change: dict[str, Any]) -> None:
        self.logic.select_index(change["new"] or None)
        self._push_inputs()
        self._render_messages()

    def _on_sort_op(self, change: dict[str, Any]) -> None:
        self.sort_value2.layout.display = None if change["new"] == "between" else "none"

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
                             layout=w.Layout(width="120px", display="none")),
            "type": w.Dropdown(options=list(VALUE_TYPES), value=row.type,
                               tooltip="how to read the value",
                               layout=w.Layout(width="80px")),
            "remove": w.Button(icon="trash", tooltip="remove this filter",
                               layout=w.Layout(width="40px")),
        }

        def operator_changed(change: dict[str, Any]) -> None:
            widgets["value2"].layout.display = None if change["new"] == "between" else "none"
            widgets["value"].disabled = change["new"] in NO_VALUE_OPERATORS

        widgets["operator"].observe(self._guard(operator_changed), "value")
        widgets["remove"].on_click(self._guard(lambda _: self._remove_filter_row(widgets)))
        widgets["box"] = w.HBox([widgets[k] for k in
                                 ("attribute", "operator", "value", "value2", "type",
                                  "remove")])
        self._filter_widgets.append(widgets)
        self.filter_rows.children = [r["box"] for r in self._filter_widgets]
        return widgets

    def _remove_filter_row(self, widgets: dict[str, Any]) -> None:
        self._filter_widgets.remove(widgets)
        self.filter_rows.children = [r["box"] for r in self._filter_widgets]

    def _read(self, run: Callable[[], pd.DataFrame | None]) -> None:
        self._pull_inputs()
        buttons = (self.query_button, self.scan_button, self.confirm_button)
        for button in buttons:
            button.disabled = True
        try:
            if self.logic.progress is False:
                df = run()
            else:  # tqdm's notebook bar appears inside the explorer while paging
                with self.progress_output:
                    df = run()
                self.progress_output.clear_output()
        finally:
            for button in buttons:
                button.disabled = False
        self._render_messages()
        self._render_confirmation()
        if df is not None:
            self._render_result()

    def _on_query(self, _: Any) -> None:
        self._read(self.logic.run_query)

    def _on_scan(self, _: Any) -> None:
        self._read(self.logic.run_scan)

    def _on_confirm(self, _: Any) -> None:
        self._read(lambda: self.logic.run_scan(confirm=True))

    def _on_cancel(self, _: Any) -> None:
        self.logic.cancel_scan()
        self._render_confirmation()

    def _on_chart_column(self, change: dict[str, Any]) -> None:
        self._render_chart(change["new"] or None)

    # -- rendering ----------------------------------------------------------------------
    def _render_messages(self) -> None:
        logic = self.logic
        self.table_info.value = (
            f"<small>{html.escape(logic.table_info())}</small>" if logic.table else "")
        self.notice.value = (
            f"<small><i>{html.escape(logic.notice)}</i></small>" if logic.notice else "")
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
        logic = self.logic
        df = logic.result
        if df is None:
            return
        shown = min(len(df), 20)
        self.summary.value = (
            f"<b>{html.escape(logic.summary())}</b>"
            + (f" <small>(first {shown} shown)</small>" if len(df) > shown else ""))
        self.results.value = (
            '<div style="max-height:420px;overflow:auto">'
            + df.head(20).to_html(max_cols=40, border=0, na_rep="")
            + "</div>"
        )
        self.code.value = logic.code(imports=True)
        for row in self._filter_widgets:
            row["attribute"].options = logic.known_attributes()
        numeric = logic.numeric_columns()
        self._syncing = True
        try:
            self.chart_column.options = [("(none)", ""), *[(c, c) for c in numeric]]
            self.chart_column.value = ""
        finally:
            self._syncing = False
        self.chart.layout.display = "none"
        self.chart_message.value = "" if numeric else "<small>no numeric columns</small>"

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
        self.chart.value = png
        self.chart.layout.display = None
        self.chart_message.value = ""



def _label(table: str) -> str:
    """Picker label: the name, and for an ARN its account and region."""
    try:
        ref = parse_table(table)
    except XacctError:
        return table
    return f"{ref.name} (account {ref.account}, {ref.region})" if ref.account else ref.name


@public
def explorer(session: Any, tables: str | Sequence[str] | None = None) -> Any:
    """Return an ipywidgets explorer of DynamoDB tables, for a notebook.

    Pick a table (ListTables when the role may, else the ``tables`` given)
    and an index, type a partition key and an optional sort-key condition,
    add filters, choose columns and a limit, and Query or Scan (a Scan of a
    large table asks first, with its item count and size). Results show the
    first rows with the row count, consumed capacity and time, a quick chart
    of a numeric column, and the exact ``xn.read_query(...)`` call that
    reproduces them. Errors (denied, throttled, bad input) appear in the
    widget with a hint, never as a traceback.

    Parameters
    ----------
    session
        The role session, e.g. ``conn.session`` or ``xn.assume_role(...)``.
    tables
        Table names or ARNs to offer; needed when the role may not ListTables.

    Returns
    -------
    Explorer
        An ``ipywidgets.VBox``: display it (last expression of a cell).
        ``.result`` is the last DataFrame, ``.logic`` the
        :class:`ExplorerLogic` behind it.

    >>> ex = xn.explorer(conn.session, tables=[conn.table])
    >>> ex
    Explorer(children=(HBox(children=(Dropdown(description='Table', ...
    >>> ex.partition.value = "C-0001"
    >>> ex.query_button.click()
    >>> ex.result.shape
    (20, ...)
    """
    check_session(session, "xn.explorer")
    return Explorer(session, tables)
