"""The 变更记录 sheet: what changed in the inbox since the previous run (changes.py), one row per fact.

Rows for changed forms come first — one per figure that moved, then the
findings that appeared or went away — and a form whose unit raised its
self-score after being flagged is filled red with a note. Rows for files
(new, changed, withdrawn) follow. One filterable table: filter by 实施单位 or
by 变更.
"""

from __future__ import annotations

from ..catalogue import titled
from .changes import FIGURES
from .formats import Styles, end_list, fit_row, header_row, no_print, plan_print

CHANGES_SHEET = "变更记录"

_COLUMNS = [("变更", 12), ("实施单位", 24), ("项目名称", 26), ("年度", 7), ("来源文件", 34), ("数据项", 16),
            ("上次", 14), ("本次", 14), ("变动", 10), ("说明", 50)]
_FILE_CHANGE = {"new": "新增文件", "changed": "修改文件", "withdrawn": "撤回文件"}
_FORM_CHANGE = {"new": "新增自评表", "changed": "数据变动", "removed": "撤回自评表"}
_STATUS = {"accepted": "受理", "rejected": "未受理", "ignored": "忽略", "opened": "压缩包已打开"}
_TOP = 4  # header row: title, comparison and counts above it
_NUMBER_FORMATS = {"执行率": "percent", "全年预算数（万元）": "money", "全年执行数（万元）": "money", "问题数": "plain"}


def write_changes(ws, result, st: Styles) -> None:
    changes = result.extra.get("changes")
    for col, (_, width) in enumerate(_COLUMNS):
        ws.set_column(col, col, width)
    ws.write_string(0, 0, CHANGES_SHEET, st.title)
    if changes is None:
        ws.write_string(1, 0, "本次运行未与上次运行比较。")
        no_print(ws, 3, len(_COLUMNS) + 1)  # nothing to print
        return
    if changes["previous_run"] is None:
        ws.write_string(1, 0, "首次运行（或台账已重建）：没有可比较的上次运行，下次运行起列出变更。")
        no_print(ws, 3, len(_COLUMNS) + 1)
        return
    c = changes["counts"]
    ws.write_string(1, 0, f"与上次运行 {changes['previous_run']} 相比：文件新增 {c['new']} 个，"
                          f"修改 {c['changed']} 个，撤回 {c['withdrawn']} 个；自评表变动 {c['forms_changed']} 张")
    ws.write_string(2, 0, "自评分在被标记问题后调高的自评表标为红色。", st.subtle)
    header_row(ws, _TOP, [title for title, _ in _COLUMNS], st)
    row = _TOP + 1
    for form in changes["forms"]:
        row = _form_rows(ws, row, form, st)
    for f in changes["files"]:
        before, after = _status(f["status_before"]), _status(f["status_after"])
        sha = f"SHA-256 {f['sha256_before'][:12] or '—'} → {f['sha256_after'][:12] or '—'}"
        _row(ws, row, (_FILE_CHANGE[f["change"]], "", "", "", f["path"], "文件状态", before, after, "", sha), st)
        row += 1
    end_list(ws, _TOP, row, plan_print([w for _, w in _COLUMNS], 3), len(_COLUMNS), "与上次运行相比没有变更。",
             keep_cols=3)


def _form_rows(ws, row: int, form: dict, st: Styles) -> int:
    year = "" if form["year"] is None else str(form["year"])
    ident = (_FORM_CHANGE[form["change"]], form["unit"], form["project"], year, form["source_file"])
    lines = [(FIGURES[k], v["before"], v["after"]) for k, v in form["moved"].items()]
    if form["findings_added"]:
        lines.append(("新增问题", "", "、".join(titled(x["rule"]) for x in form["findings_added"])))
    if form["findings_resolved"]:
        lines.append(("消除问题", "、".join(titled(x["rule"]) for x in form["findings_resolved"]), ""))
    lines = lines or [("", "", "")]  # a new or withdrawn form: one row
    note = "；".join(form["notes"])
    for i, (label, before, after) in enumerate(lines):
        _row(ws, row + i, (*ident, label, before, after, _delta(before, after), note if i == 0 else ""), st,
             _NUMBER_FORMATS.get(label, "score"))
    if note:  # an overlay, so the rows keep their number formats
        ws.conditional_format(row, 0, row + len(lines) - 1, len(_COLUMNS) - 1,
                              {"type": "formula", "criteria": "=TRUE", "format": st.red})
    return row + len(lines)


def _row(ws, row: int, values, st: Styles, number: str = "plain") -> None:
    for col, value in enumerate(values):
        if isinstance(value, int | float) and not isinstance(value, bool):
            ws.write_number(row, col, value, getattr(st, number))
        else:
            ws.write_string(row, col, "（空）" if value is None else str(value), st.text)
    fit_row(ws, row, values, [w for _, w in _COLUMNS])


def _delta(before, after):
    if isinstance(before, int | float) and isinstance(after, int | float):
        return after - before
    return ""


def _status(text: str) -> str:
    if not text:
        return "—"
    status, _, code = text.partition(" ")
    status = _STATUS.get(status, status)
    return f"{status}：{titled(code)}" if code else status
