"""The rule catalogue (SPEC section 3) as data.

Each `Rule` is one named object: code, severity, Chinese title and description,
the stage that evaluates it, and its checks. A `Check` is vectorized over one
of the two frames (`forms`: one row per form; `indicators`: one row per
indicator), names the columns it `reads` and returns True where the row passes;
`describe` turns a failing row (all its columns) into the message a clerk or
auditor reads. `validate.py` runs the checks as named pandera checks, so the
failure-case table is keyed by rule code.

Rules raised while reading a file (FILE_UNREADABLE, FILE_UNSAFE, NO_FORM_FOUND)
have no frame check: `read.py` and `pipeline.py` raise them, and they are here
so the catalogue — and the workbook's rule list — is complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..config import Config
from ..form.values import clean_text, format_number, format_percent
from ..models import ERROR, FUND_COL_LABELS, INFO, WARNING

FORMS, INDICATORS = "forms", "indicators"
READ, VALIDATE, EVALUATE = "read", "validate", "evaluate"


@dataclass(frozen=True)
class Detail:
    """What a failing row tells the reader: the cell, the message, found vs expected."""

    field: str
    cell: str
    message: str
    value: str = ""
    expected: str = ""


@dataclass(frozen=True)
class Check:
    frame: str
    reads: tuple[str, ...]  # the columns `passes` reads: pandera is shown only these
    passes: Callable[[pd.DataFrame, Config], pd.Series]
    describe: Callable[[pd.Series, Config], Detail]


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: str
    description: str
    stage: str
    checks: tuple[Check, ...] = ()


def _cell(row: pd.Series, field: str) -> str:
    return row["cells"].get(field, "")


def _n(value, digits: int = 2) -> str:
    return format_number(value, digits)


# --- rejections (validate stage) ----------------------------------------------------

_REQUIRED = (("project", "项目名称", "project"), ("unit", "实施单位", "unit"),
             ("budget_full_year_raw", "全年预算数", "fund_total_full_year"),
             ("executed_raw", "全年执行数", "fund_total_executed"))
_REQUIRED_COLUMNS = tuple(col for col, _, _ in _REQUIRED)


def _missing_passes(df: pd.DataFrame, cfg: Config) -> pd.Series:
    return pd.concat([df[col].fillna("").astype(str) != "" for col in _REQUIRED_COLUMNS], axis=1).all(axis=1)


def _missing_describe(row: pd.Series, cfg: Config) -> Detail:
    missing = [(label, field) for col, label, field in _REQUIRED if not str(row[col] or "")]
    _first_label, first_field = missing[0]
    cell = _cell(row, first_field)
    where = [f"「{label}」（{_cell(row, f) or '未找到该栏'}）" for label, f in missing]
    return Detail(first_field, cell, f"必填项{'、'.join(where)}为空，请填写后重新报送",
                  value="（空）", expected="、".join(label for label, _ in missing))


def _bad_number_passes(df: pd.DataFrame, cfg: Config) -> pd.Series:
    return df["budget_full_year_ok"].astype(bool) & df["executed_ok"].astype(bool)


def _bad_number_describe(row: pd.Series, cfg: Config) -> Detail:
    bad = [(label, field, row[raw], row[why]) for raw, ok, why, label, field in (
        ("budget_full_year_raw", "budget_full_year_ok", "budget_full_year_problem", "全年预算数",
         "fund_total_full_year"),
        ("executed_raw", "executed_ok", "executed_problem", "全年执行数", "fund_total_executed"))
        if not row[ok]]
    _label, field, raw, _why = bad[0]
    parts = [f"「{lb}」（{_cell(row, f)}）填报为「{r}」，{why}" for lb, f, r, why in bad]
    return Detail(field, _cell(row, field),
                  f"{'；'.join(parts)}；请填写以万元为单位的金额（如 5.4）",
                  value=str(raw), expected="≥ 0 的数字（万元）")


# --- flags on forms -----------------------------------------------------------------

def _rate_passes(df, cfg):
    diff = (df["rate_reported"] - df["execution_rate"]).abs()
    return ~(diff > cfg.rules.rate_tolerance)


def _rate_describe(row, cfg):
    return Detail("fund_total_rate", _cell(row, "fund_total_rate"),
                  f"执行率填报为 {format_percent(row['rate_reported'])}，按全年执行数/全年预算数"
                  f"（{_n(row['executed'], 4)}/{_n(row['budget_full_year'], 4)}）计算应为 "
                  f"{format_percent(row['execution_rate'])}",
                  format_percent(row["rate_reported"]), format_percent(row["execution_rate"]))


def _budget_score_passes(df, cfg):
    diff = (df["budget_score_reported"] - df["budget_score"]).abs()
    return ~(diff > cfg.rules.score_tolerance)


def _budget_score_describe(row, cfg):
    return Detail("fund_total_score", _cell(row, "fund_total_score"),
                  f"预算执行率得分填报为 {_n(row['budget_score_reported'])} 分，按执行率 "
                  f"{format_percent(row['execution_rate'])}（超过 100% 按 100% 计）× 分值 "
                  f"{_n(row['budget_weight'])} 计算应为 {_n(row['budget_score'])} 分",
                  _n(row["budget_score_reported"]), _n(row["budget_score"]))


def _over_budget_passes(df, cfg):
    return ~(df["executed"] > df["budget_full_year"])


def _over_budget_describe(row, cfg):
    return Detail("fund_total_executed", _cell(row, "fund_total_executed"),
                  f"全年执行数 {_n(row['executed'], 4)} 万元超过全年预算数 "
                  f"{_n(row['budget_full_year'], 4)} 万元",
                  _n(row["executed"], 4), f"≤ {_n(row['budget_full_year'], 4)}")


def _funds_passes(df, cfg):
    return df["funds_gap"].fillna("") == ""


def _funds_describe(row, cfg):
    field = row["funds_gap_field"]
    return Detail(field, _cell(row, field),
                  f"年度资金总额与当年财政拨款、上年结转资金、其他资金之和不符——{row['funds_gap']}",
                  row["funds_gap_total"], f"{row['funds_gap_sources']}（各来源之和）")


def _low_execution_passes(df, cfg):
    return ~(df["execution_rate"] < cfg.rules.low_execution)


def _low_execution_describe(row, cfg):
    return Detail("fund_total_rate", _cell(row, "fund_total_rate"),
                  f"预算执行率 {format_percent(row['execution_rate'])}，低于 "
                  f"{format_percent(cfg.rules.low_execution)}",
                  format_percent(row["execution_rate"]), f"≥ {format_percent(cfg.rules.low_execution)}")


def _high_low_passes(df, cfg):
    r = cfg.rules
    return ~((df["total_reported"] >= r.high_score) & (df["execution_rate"] < r.high_score_low_execution))


def _high_low_describe(row, cfg):
    r = cfg.rules
    return Detail("total_reported", _cell(row, "total_reported"),
                  f"自评总分 {_n(row['total_reported'])} 分（≥{_n(r.high_score)}），但预算执行率仅 "
                  f"{format_percent(row['execution_rate'])}（低于 "
                  f"{format_percent(r.high_score_low_execution)}），自评结果与执行情况不符",
                  _n(row["total_reported"]), f"执行率 ≥ {format_percent(r.high_score_low_execution)}")


def _budget_range_passes(df, cfg):
    s = df["budget_score_reported"]
    return ~((s < 0) | (s > df["budget_weight"] + 1e-9))


def _budget_range_describe(row, cfg):
    return Detail("fund_total_score", _cell(row, "fund_total_score"),
                  f"预算执行率得分填报为 {_n(row['budget_score_reported'])} 分，超出 0～"
                  f"{_n(row['budget_weight'])} 分的范围",
                  _n(row["budget_score_reported"]), f"0～{_n(row['budget_weight'])}")


def _weights_passes(df, cfg):
    off = (df["weight_sum"] - cfg.scoring.total_points).abs() > 1e-6
    return ~off & (df["block_mismatch"].fillna("") == "")


def _weights_describe(row, cfg):
    parts = []
    if abs(row["weight_sum"] - cfg.scoring.total_points) > 1e-6:
        parts.append(f"预算执行率与各三级指标分值合计 {_n(row['weight_sum'])} 分，应为 "
                     f"{_n(cfg.scoring.total_points)} 分")
    if row["block_mismatch"]:
        parts.append(row["block_mismatch"])
    return Detail("total_weight", _cell(row, "total_weight"), "分值设置有误：" + "；".join(parts),
                  _n(row["weight_sum"]), _n(cfg.scoring.total_points))


def _total_passes(df, cfg):
    diff = (df["total_reported"] - df["reported_parts_total"]).abs()
    # A blank 总分 (often a broken formula, which reads as empty) hides every total-based rule.
    blank = df["total_reported"].isna() & (df["reported_parts_total"] > 0)
    return ~((diff > cfg.rules.score_tolerance) | blank)


def _total_describe(row, cfg):
    rescaled = "（已剔除不适用指标并折算为百分制）" if row["na_weight"] else ""
    parts = f"预算执行率得分与各指标得分之和{rescaled}为 {_n(row['reported_parts_total'])} 分"
    if pd.isna(row["total_reported"]):
        text = f"总分为空（或公式出错），但{parts}；请填写总分"
    else:
        text = f"总分填报为 {_n(row['total_reported'])} 分，但{parts}"
    return Detail("total_reported", _cell(row, "total_reported"), text,
                  _n(row["total_reported"]), _n(row["reported_parts_total"]))


def _inflated_passes(df, cfg):
    return ~(df["total_reported"] - df["total_score"] > cfg.rules.inflation_points)


def _inflated_describe(row, cfg):
    gap = row["total_reported"] - row["total_score"]
    return Detail("total_reported", _cell(row, "total_reported"),
                  f"自评总分 {_n(row['total_reported'])} 分（{row['grade_reported']}），按评分规则复算为 "
                  f"{_n(row['total_score'])} 分（{row['grade']}），高出 {_n(gap)} 分",
                  _n(row["total_reported"]), _n(row["total_score"]))


def _category_passes(df, cfg):
    return df["empty_required"].fillna("") == ""


def _category_describe(row, cfg):
    names = "、".join(f"「{c}指标」" for c in row["empty_required"].split("；"))
    return Detail("category:" + row["empty_required"], row["empty_required_ref"],
                  f"必填二级指标{names}未设置三级指标（仅有占位行或缺失），请补充指标、指标值和完成值",
                  row["empty_required"], "至少一个三级指标")


def _duplicate_passes(df, cfg):
    return df["duplicate_count"].fillna(1) <= 1


def _duplicate_describe(row, cfg):
    others = row["duplicate_files"]
    if row["superseded_by"]:
        tail = f"以最新的 {row['superseded_by']} 为准，本份已被替代，不计入汇总"
    else:
        tail = "本份为最新，计入汇总"
    return Detail("duplicate:" + row["source_file"] + "|" + row["sheet"], _cell(row, "project"),
                  f"同一实施单位、项目名称和年度的自评表共收到 {int(row['duplicate_count'])} 份"
                  f"（{others}）；{tail}", row["source_file"], row["superseded_by"] or row["source_file"])


def _scale_passes(df, cfg):
    return df["scale_fields"].fillna("") == ""  # score.py: amounts above rules.amount_limit


def _scale_describe(row, cfg):
    field = row["max_amount_field"]
    label = next(name for key, name in FUND_COL_LABELS.items() if field.endswith(f"_{key}"))
    count = len(row["scale_fields"].split("；"))
    return Detail(field, _cell(row, field),
                  f"「{label}」填报为 {_n(row['max_amount'])}，超过 {_n(cfg.rules.amount_limit)} 万元，"
                  f"疑似按元填报（本表共 {count} 个金额超过）；表中金额应以万元为单位。"
                  f"本表金额不计入汇总的任何合计，请更正后重新报送",
                  _n(row["max_amount"]), f"≤ {_n(cfg.rules.amount_limit)}（万元）")


# --- flags on indicators ------------------------------------------------------------

def _ind(row) -> str:
    return f"「{row['name'] or '（未命名指标）'}」"


def _ind_field(row, what: str) -> str:
    return f"indicator:{row['level1']}/{row['level2']}/{row['name']}:{what}"


def _range_passes(df, cfg):
    s = df["score_reported"]
    return ~((s < 0) | (s > df["weight"] + 1e-9))


def _range_describe(row, cfg):
    return Detail(_ind_field(row, "score"), row["cells"]["score"],
                  f"指标{_ind(row)}得分填报为 {_n(row['score_reported'])} 分，超出 0～{_n(row['weight'])} 分的范围",
                  _n(row["score_reported"]), f"0～{_n(row['weight'])}")


def _mismatch_passes(df, cfg):
    tol = cfg.rules.score_tolerance
    diff = df["score_reported"] - df["score"]
    quant = (df["kind"] == "quantitative") & (diff.abs() > tol)
    qual = (df["kind"] == "qualitative") & (diff > tol)
    return ~(quant | qual)


def _mismatch_describe(row, cfg):
    if row["kind"] == "qualitative":
        text = (f"指标{_ind(row)}为定性指标，实际完成值「{clean_text(row['actual'])}」对照年度指标值"
                f"「{clean_text(row['target'])}」，{row['basis']} 分，填报为 {_n(row['score_reported'])} 分")
    else:
        text = (f"指标{_ind(row)}得分填报为 {_n(row['score_reported'])} 分，按实际完成值"
                f"「{clean_text(row['actual'])}」对年度指标值「{clean_text(row['target'])}」计算"
                f"（{row['basis']}）应为 {_n(row['score'])} 分")
    return Detail(_ind_field(row, "score"), row["cells"]["score"], text,
                  _n(row["score_reported"]), _n(row["score"]))


def _unexplained_passes(df, cfg):
    judged = ~df["kind"].isin(["not_applicable", "missing_actual"])
    short = ~df["fully_met"].astype(bool) | (df["score_reported"] < df["weight"] - 1e-9)
    return ~(judged & short & (df["deviation"].fillna("") == ""))


def _unexplained_describe(row, cfg):
    return Detail(_ind_field(row, "deviation"), row["cells"]["deviation"],
                  f"指标{_ind(row)}未完全达成（年度指标值「{clean_text(row['target'])}」，实际完成值"
                  f"「{clean_text(row['actual'])}」，得分 {_n(row['score_reported'])}/{_n(row['weight'])}），"
                  f"但「偏差原因分析及改进措施」为空，请说明原因和改进措施",
                  "（空）", "偏差原因及改进措施")


def _missing_actual_passes(df, cfg):
    has_target = df["target"].map(clean_text) != ""
    return ~((df["kind"] == "missing_actual") & has_target)


def _missing_actual_describe(row, cfg):
    return Detail(_ind_field(row, "actual"), row["cells"]["actual"],
                  f"指标{_ind(row)}设有年度指标值「{clean_text(row['target'])}」，但未填报实际完成值",
                  "（空）", "实际完成值")


def _incomparable_passes(df, cfg):
    return df["kind"] != "incomparable"


def _incomparable_describe(row, cfg):
    return Detail(_ind_field(row, "actual"), row["cells"]["actual"],
                  f"指标{_ind(row)}的实际完成值「{clean_text(row['actual'])}」无法与年度指标值"
                  f"「{clean_text(row['target'])}」比较（单位不同或不是数值），未复算，保留自评得分",
                  clean_text(row["actual"]), clean_text(row["target"]))


CATALOGUE: tuple[Rule, ...] = (
    Rule("FILE_UNREADABLE", ERROR, "文件无法读取",
         "文件损坏、不完整、设置了密码，或扩展名是电子表格而内容不是（如改名的 .docx）", READ),
    Rule("FILE_UNSAFE", ERROR, "文件不安全",
         "压缩包解压后大小或压缩比超过上限，或 XML 含 DOCTYPE/ENTITY 声明", READ),
    Rule("NO_FORM_FOUND", ERROR, "未找到自评表", "工作簿中没有任何工作表是项目支出绩效自评表", READ),
    Rule("MISSING_FIELD", ERROR, "必填项为空", "项目名称、实施单位、全年预算数或全年执行数为空", VALIDATE,
         (Check(FORMS, _REQUIRED_COLUMNS, _missing_passes, _missing_describe),)),
    Rule("BAD_NUMBER", ERROR, "金额不是数字",
         "全年预算数或全年执行数不是数字，或为无穷大、NaN、负数或不小于 1 万亿万元的数", VALIDATE,
         (Check(FORMS, ("budget_full_year_ok", "executed_ok"), _bad_number_passes, _bad_number_describe),)),
    Rule("RATE_MISMATCH", WARNING, "执行率填报有误", "填报的执行率与 全年执行数/全年预算数 相差超过容差",
         EVALUATE, (Check(FORMS, ("rate_reported", "execution_rate"), _rate_passes, _rate_describe),)),
    Rule("BUDGET_SCORE_MISMATCH", WARNING, "预算执行得分有误", "填报的预算执行率得分与复算得分相差超过容差",
         EVALUATE, (Check(FORMS, ("budget_score_reported", "budget_score"),
                          _budget_score_passes, _budget_score_describe),)),
    Rule("OVER_BUDGET", WARNING, "超预算执行", "全年执行数大于全年预算数", EVALUATE,
         (Check(FORMS, ("executed", "budget_full_year"), _over_budget_passes, _over_budget_describe),)),
    Rule("FUNDS_DONT_ADD_UP", WARNING, "资金来源不平",
         "年度资金总额不等于当年财政拨款、上年结转资金、其他资金之和（仅核对填有来源的列）", EVALUATE,
         (Check(FORMS, ("funds_gap",), _funds_passes, _funds_describe),)),
    Rule("LOW_EXECUTION", WARNING, "执行率偏低", "预算执行率低于下限（默认 80%）", EVALUATE,
         (Check(FORMS, ("execution_rate",), _low_execution_passes, _low_execution_describe),)),
    Rule("HIGH_SCORE_LOW_EXECUTION", WARNING, "高分低执行",
         "自评总分不低于 90 分而预算执行率低于 60%", EVALUATE,
         (Check(FORMS, ("total_reported", "execution_rate"), _high_low_passes, _high_low_describe),)),
    Rule("SCORE_OUT_OF_RANGE", WARNING, "得分超出范围", "某项填报得分小于 0 或大于其分值", EVALUATE,
         (Check(FORMS, ("budget_score_reported", "budget_weight"), _budget_range_passes, _budget_range_describe),
          Check(INDICATORS, ("score_reported", "weight"), _range_passes, _range_describe))),
    Rule("INDICATOR_SCORE_MISMATCH", WARNING, "指标得分有误",
         "定量指标填报得分与复算得分相差超过容差；定性指标得分超过其完成档次的上限", EVALUATE,
         (Check(INDICATORS, ("kind", "score_reported", "score"), _mismatch_passes, _mismatch_describe),)),
    Rule("WEIGHTS_INVALID", WARNING, "分值设置有误",
         "各项分值合计不等于 100，或一级指标下分值合计与其标注分数不符", EVALUATE,
         (Check(FORMS, ("weight_sum", "block_mismatch"), _weights_passes, _weights_describe),)),
    Rule("TOTAL_MISMATCH", WARNING, "总分不等于各项之和",
         "填报总分为空或不等于预算执行率得分与各指标得分之和（剔除不适用指标时折算为百分制）", EVALUATE,
         (Check(FORMS, ("total_reported", "reported_parts_total"), _total_passes, _total_describe),)),
    Rule("SELF_SCORE_INFLATED", WARNING, "自评分虚高", "填报总分比复算总分高出 1 分以上", EVALUATE,
         (Check(FORMS, ("total_reported", "total_score"), _inflated_passes, _inflated_describe),)),
    Rule("UNEXPLAINED_DEVIATION", WARNING, "偏差未说明",
         "指标未完全达成（按规则或按其自评得分），但偏差原因分析为空", EVALUATE,
         (Check(INDICATORS, ("kind", "fully_met", "score_reported", "weight", "deviation"),
                _unexplained_passes, _unexplained_describe),)),
    Rule("MISSING_ACTUAL", WARNING, "缺少实际完成值", "指标有年度指标值但没有实际完成值", EVALUATE,
         (Check(INDICATORS, ("kind", "target"), _missing_actual_passes, _missing_actual_describe),)),
    Rule("REQUIRED_CATEGORY_EMPTY", WARNING, "必填二级指标为空",
         "数量、质量、时效、成本、服务对象满意度等必填二级指标缺失或只有占位行", EVALUATE,
         (Check(FORMS, ("empty_required",), _category_passes, _category_describe),)),
    Rule("INCOMPARABLE_VALUES", INFO, "指标值无法比较",
         "定量指标的实际完成值无法与年度指标值比较（单位不同或不是数值），保留自评得分", EVALUATE,
         (Check(INDICATORS, ("kind",), _incomparable_passes, _incomparable_describe),)),
    Rule("DUPLICATE_SUBMISSION", WARNING, "重复报送",
         "同一实施单位、项目名称和年度收到多份；以最新文件为准，其余标记为已替代", EVALUATE,
         (Check(FORMS, ("duplicate_count",), _duplicate_passes, _duplicate_describe),)),
    Rule("AMOUNT_SCALE_SUSPECT", WARNING, "金额单位存疑",
         "金额超过 10,000 万元，疑似按元填报；该表金额不计入任何合计，直至报送更正后的文件", EVALUATE,
         (Check(FORMS, ("scale_fields",), _scale_passes, _scale_describe),)),
)

RULES = {rule.code: rule for rule in CATALOGUE}
