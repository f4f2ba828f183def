"""The form's words: every label the parser looks for and every name the outputs show for it.

One table, `ROLES`: group → role → `Role`. A role is one thing a label on the form names (the
全年预算数 column, the 当年财政拨款 row, the 实施单位 header field, …). Each carries
- `label`, the canonical Chinese name the outputs show (汇总's headers, a unit sheet's rows,
  finding messages);
- `stems`, the words that identify it, most telling first (SPEC section 1, "Provincial
  variants": every spelling seen in published forms);
- `before` and `slack`: how many characters a label may carry before its stem (a qualifier:
  调整后, 项目, 其中, 预算) and after it (a tail: 数, 分析及改进措施) — `locate.fit` applies them to a
  label's key (`values.label_key`: no spaces, line breaks, colons or (suffixes) such as (A),
  (B/A), （万元）, (20分*执行率)); prose that mentions a label runs longer, or holds a ，。；;
- `printed`, the text the blank template prints when it is not `label` ("年度\n指标值").

A label that fits two roles of one table (年初预算数 fits 年初预算 and 预算数) is the role whose
stem it holds more of; two labels that fit one role leave it to the better fit, so the rest of
the header row decides (locate.Locator.spans). A bureau adds its own spellings per role in
`xlbatch.toml` (`[labels]`, see `use_labels`).

The parser asks this table at each lookup and holds no spellings of its own; the outputs take
their names of the form's fields from it. Leaf module: it imports nothing from xlbatch and
nothing heavy, as `models` (imported by every stage) takes its fund keys and labels from here.
The grammar of values (comparison words, units after a number) stays in values.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Role:
    """One field of the form: its display name and the label stems that identify it."""

    label: str
    stems: tuple[str, ...]
    slack: int = 3
    printed: str = ""
    before: int = 4

    @property
    def form_text(self) -> str:
        """What the blank template prints for it."""
        return self.printed or self.label


# 表头: the text right of each label (or after its colon: 单位名称：农业科) is the field's value.
HEADER = {
    "project": Role("项目名称", ("项目名称",)),
    "department": Role("主管部门", ("主管部门",)),
    "unit": Role("实施单位", ("实施单位", "项目单位", "单位名称")),
}

# 项目资金 (万元): the funds block's label; its columns, and its rows (年度资金总额 and its sources).
FUNDS_BLOCK = Role("项目资金", ("项目资金",), printed="项目资金\n（万元）")
FUND_COLUMN = {
    "initial": Role("年初预算数", ("年初预算",)),
    "full_year": Role("全年预算数", ("全年预算", "调整后预算", "调整预算", "预算数")),
    "executed": Role("全年执行数", ("全年执行", "实际执行", "执行数", "实际支出")),
    "weight": Role("分值", ("分值", "权重")),
    "rate": Role("执行率", ("执行率",)),
    "score": Role("得分", ("得分",)),
}
# Fund-row labels are allowed 4 characters after their stem (as the parser always allowed).
# Source rows beyond the four (财政专户管理资金, 单位资金) are summed into 其他资金.
FUND_ROW = {
    "total": Role("年度资金总额", ("年度资金总额", "年度财政资金总额", "资金总额", "总额", "合计"), slack=4),
    "current": Role("当年财政拨款", ("当年财政拨款", "本年财政拨款", "财政拨款", "财政资金"), slack=4,
                    printed="其中：当年财政拨款"),
    "carryover": Role("上年结转资金", ("上年结转资金", "上年结转"), slack=4),
    "other": Role("其他资金", ("其他资金", "财政专户管理资金", "单位资金"), slack=4),
}

# 年度总体目标: the two goal texts, under these labels side by side (the central form; 四川's 项目年度目标 |
# 年度目标完成情况), or each right of its label, one under the other (宁夏: 年初设定目标, 年度总体目标完成情况综述).
GOAL = {
    "expected": Role("预期目标", ("预期目标", "年度目标", "设定目标")),
    "actual": Role("实际完成情况", ("实际完成情况", "目标完成情况")),
}

# 绩效指标: the indicator table's columns. 指标性质 (≥, =, ≤) and 度量单位 are columns of forms that
# split the target (四川): the target is 性质 + 指标值 + 单位, the actual 完成值 + 单位.
INDICATOR_COLUMN = {
    "level1": Role("一级指标", ("一级指标",)),
    "level2": Role("二级指标", ("二级指标",)),
    "name": Role("三级指标", ("三级指标",)),
    "target": Role("年度指标值", ("年度指标值", "指标值", "年度目标值", "年初目标值", "全年目标值", "目标值"),
                   printed="年度\n指标值"),
    "actual": Role("实际完成值", ("实际完成值", "完成值", "实际值"), printed="实际\n完成值"),
    "weight": Role("分值", ("分值", "权重"), printed="分 值"),
    "score": Role("得分", ("得分",), printed="得 分"),
    "deviation": Role("偏差原因分析及改进措施", ("偏差原因", "未完成原因", "原因分析", "原因"), slack=10,
                      printed="偏差原因分析\n及改进措施"),
    "nature": Role("指标性质", ("指标性质",)),
    "measure": Role("度量单位", ("度量单位", "计量单位")),
}

# The 一级指标 each required 二级指标 (config `required_categories`) sits under on the central form: a
# unit sheet shows a required category the form lacks under it, "（未填报）".
CATEGORY_BLOCK = {"数量": "产出指标", "质量": "产出指标", "时效": "产出指标", "成本": "产出指标",
                  "服务对象满意度": "满意度指标"}
NOT_FILLED = "（未填报）"  # a required category missing from the form, a goal left blank
ONLY_PLACEHOLDERS = "（仅有占位行）"  # a category whose rows are all 指标 1:, …… or blank

# The 总分 row closes the indicator table: its weight (100) and the reported total. Some forms
# state the total in the header instead (宁夏: 自评得分 | 94); it counts when there is no 总分 row.
TOTAL = Role("总分", ("总分", "合计"), slack=2, before=2)
HEADER_TOTAL = Role("自评得分", ("自评得分", "自评总分"), slack=2, before=2)

# An indicator row that scores the budget execution (宁夏: 项目管理 → 投入管理 → 预算执行率): it is
# the form's budget score, counted once, its 分值 the budget weight.
BUDGET_INDICATOR = Role("预算执行率", ("预算执行率", "预算执行情况", "预算执行"), slack=2, before=2)

ROLES: dict[str, dict[str, Role]] = {
    "header": HEADER,
    "funds": {"block": FUNDS_BLOCK},
    "fund_column": FUND_COLUMN,
    "fund_row": FUND_ROW,
    "goal": GOAL,
    "indicator_column": INDICATOR_COLUMN,
    "total": {"total": TOTAL, "header": HEADER_TOTAL},
    "indicator_row": {"budget": BUDGET_INDICATOR},
}


def role_key(group: str, name: str) -> str:
    """How RawForm.labels, RawForm.nearby and `[labels]` messages name a role: "fund_column.full_year"."""
    return f"{group}.{name}"


# Roles of provincial layouts that the official form, and so the blank template, does not print.
NOT_IN_TEMPLATE = frozenset({"indicator_column.nature", "indicator_column.measure", "total.header",
                             "indicator_row.budget"})

# The roles as built in (use_labels extends a copy of them), and the spellings last added.
_BUILT_IN = {group: dict(roles) for group, roles in ROLES.items()}
_applied: dict = {}


def use_labels(extra: dict | tuple | None) -> None:
    """Add a bureau's spellings (config `[labels]`: group → role → words, or Config.label_words'
    tuple of the same) to the built-in roles.

    Idempotent: the tables become built-in + `extra`, whatever they were, so every worker of a
    run (threads included) can call it before parsing with the run's labels. The tables are
    changed in place (HEADER, FUND_COLUMN … are the same dicts as ROLES' groups).
    """
    global _applied
    extra = {group: dict(roles) for group, roles in extra} if isinstance(extra, tuple) else (extra or {})
    if extra == _applied:
        return  # every file of a run asks again with the same labels
    _applied = extra
    for group, roles in _BUILT_IN.items():
        for name, role in roles.items():
            words = tuple(w for w in extra.get(group, {}).get(name, ()) if w not in role.stems)
            ROLES[group][name] = replace(role, stems=role.stems + words) if words else role


def unknown_roles(extra: dict) -> list[str]:
    """The "group.role" names of `extra` that are no role of the vocabulary."""
    return [role_key(group, name) for group, roles in extra.items() for name in roles
            if name not in _BUILT_IN.get(group, {})]

# The title: a label holding this anywhere (not a stem: "2023年XX项目支出绩效自评表", 四川 衔接资金's
# 绩效目标自评表, 湖北's 长江禁捕项目自评表) is the title.
TITLE_WORD = "自评表"
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
