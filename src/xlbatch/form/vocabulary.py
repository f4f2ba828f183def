"""The form's words: every label the parser looks for and every name the outputs show for it.

One table, `ROLES`: group → role → `Role`. A role is one thing a label on the form names (the
全年预算数 column, the 当年财政拨款 row, the 实施单位 header field, …). Each carries
- `label`, the canonical Chinese name the outputs show (汇总's headers, a unit sheet's rows,
  finding messages);
- `stems`, the label stems the parser recognizes it by, in the order it tries them;
- `slack`, how many characters a label may carry after its stem (a suffix such as 数 or 合计;
  prose that mentions a label runs longer) — `locate.matches` applies it to a label's key
  (`values.label_key`: no spaces, line breaks or (suffixes));
- `printed`, the text the blank template prints when it is not `label` ("年度\\n指标值").

The parser asks this table at each lookup and holds no spellings of its own; the outputs take
their names of the form's fields from it. Leaf module: it imports nothing from xlbatch and
nothing heavy, as `models` (imported by every stage) takes its fund keys and labels from here.
The grammar of values (comparison words, units after a number) stays in values.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    """One field of the form: its display name and the label stems that identify it."""

    label: str
    stems: tuple[str, ...]
    slack: int = 3
    printed: str = ""

    @property
    def form_text(self) -> str:
        """What the blank template prints for it."""
        return self.printed or self.label


# 表头: the text right of each label is the field's value.
HEADER = {
    "project": Role("项目名称", ("项目名称",)),
    "department": Role("主管部门", ("主管部门",)),
    "unit": Role("实施单位", ("实施单位",)),
}

# 项目资金 (万元): the funds block's label; its columns, and its rows (年度资金总额 and its sources).
FUNDS_BLOCK = Role("项目资金", ("项目资金",), printed="项目资金\n（万元）")
FUND_COLUMN = {
    "initial": Role("年初预算数", ("年初预算",)),
    "full_year": Role("全年预算数", ("全年预算",)),
    "executed": Role("全年执行数", ("全年执行", "实际执行")),
    "weight": Role("分值", ("分值",)),
    "rate": Role("执行率", ("执行率",)),
    "score": Role("得分", ("得分",)),
}
# Fund-row labels are allowed 4 characters after their stem, 总分 2 (as the parser always allowed).
FUND_ROW = {
    "total": Role("年度资金总额", ("年度资金总额", "资金总额"), slack=4),
    "current": Role("当年财政拨款", ("当年财政拨款", "其中当年财政拨款", "财政拨款", "其中财政拨款"), slack=4,
                    printed="其中：当年财政拨款"),
    "carryover": Role("上年结转资金", ("上年结转资金", "上年结转", "其中上年结转资金"), slack=4),
    "other": Role("其他资金", ("其他资金",), slack=4),
}

# 年度总体目标: the two goal texts sit under these labels.
GOAL = {
    "expected": Role("预期目标", ("预期目标",)),
    "actual": Role("实际完成情况", ("实际完成情况",)),
}

# 绩效指标: the indicator table's columns.
INDICATOR_COLUMN = {
    "level1": Role("一级指标", ("一级指标",)),
    "level2": Role("二级指标", ("二级指标",)),
    "name": Role("三级指标", ("三级指标",)),
    "target": Role("年度指标值", ("年度指标值", "指标值", "年度目标值"), printed="年度\n指标值"),
    "actual": Role("实际完成值", ("实际完成值", "完成值", "实际值"), printed="实际\n完成值"),
    "weight": Role("分值", ("分值",), printed="分 值"),
    "score": Role("得分", ("得分",), printed="得 分"),
    "deviation": Role("偏差原因分析及改进措施", ("偏差原因", "未完成原因", "偏差原因分析及改进措施"),
                      printed="偏差原因分析\n及改进措施"),
}

# The 总分 row closes the indicator table: its weight (100) and the reported total.
TOTAL = Role("总分", ("总分", "合计"), slack=2)

ROLES: dict[str, dict[str, Role]] = {
    "header": HEADER,
    "funds": {"block": FUNDS_BLOCK},
    "fund_column": FUND_COLUMN,
    "fund_row": FUND_ROW,
    "goal": GOAL,
    "indicator_column": INDICATOR_COLUMN,
    "total": {"total": TOTAL},
}

# The title: a label holding this anywhere (not a stem: "2023年XX项目支出绩效自评表") is the title.
TITLE_WORD = "绩效自评表"
TITLE = "项目支出绩效自评表"  # what the blank template prints

# --- sheets that are not project forms (SPEC section 1, "Not project forms") ---------------
# A department-wide form (部门整体支出绩效自评表, 重庆's 部门整体绩效自评表, a 整体支出绩效自评表) has
# the funds and indicator tables of a project form but no 项目名称: a sheet without a 项目名称 label
# whose title or block labels, above its first table header, hold one of these is one.
DEPARTMENT_WORDS = ("部门整体", "整体支出")
# The title of a sheet of prose (its first short label) ends with one of these: what the sheet is.
NOT_PROJECT_TITLES = {
    "instructions": ("填报说明", "填表说明", "说明", "注意事项"),
    "contents": ("目录",),
}
# What a NO_FORM_FOUND message calls each kind of sheet.
NOT_PROJECT_KINDS = {
    "department": "部门整体支出绩效自评表",
    "instructions": "填报说明",
    "contents": "目录",
    "blank": "空白工作表",
}

# What a clerk types into a cell to leave it empty (matched after values.fold).
BLANK_MARKERS = frozenset({"", "-", "--", "/", "\\", "无", "——"})

# Amounts on the form are in 万元.
AMOUNT_UNIT = "万元"


def in_amount_unit(label: str) -> str:
    """"全年预算数" → "全年预算数（万元）", as the outputs head an amount column."""
    return f"{label}（{AMOUNT_UNIT}）"


# --- keys the other stages use -------------------------------------------------------
# The funds block as records carry it: FUND_ROWS → FUND_COLS → value (fields fund_{row}_{col}).
FUND_ROWS = tuple(FUND_ROW)
FUND_COLS = tuple(FUND_COLUMN)
FUND_ROW_LABELS = {key: role.label for key, role in FUND_ROW.items()}
FUND_COL_LABELS = {key: role.label for key, role in FUND_COLUMN.items()}
AMOUNT_COLS = ("initial", "full_year", "executed")  # the money columns (分值/执行率/得分 are not)
SOURCE_ROWS = ("current", "carryover", "other")  # the rows 年度资金总额 is the sum of

# How the outputs name a qualitative indicator's tier (score.qualitative_tier).
TIER_LABELS = {"achieved": "已完成", "partly": "部分完成", "not_achieved": "未完成",
               "unknown": "无法判断完成程度"}
