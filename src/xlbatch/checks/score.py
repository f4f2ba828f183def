"""Recompute execution rate, budget score, indicator scores, total and grade (SPEC section 2).

Reported figures are never trusted: every score is derived again from the
amounts, targets and actuals, and the facts the rule catalogue judges (sums,
gaps, empty categories) are computed here once, as columns of the two frames.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from ..config import RuleSettings, ScoringSettings
from ..form.normalize import columns, records
from ..form.values import (
    EQUAL,
    REVERSE,
    Measure,
    fold,
    format_number,
    format_percent,
    parse_measure,
)
from ..form.vocabulary import AMOUNT_COLS, FUND_COL_LABELS, FUND_ROW_LABELS, SOURCE_ROWS, TIER_LABELS
from ..models import form_identity

FORM_FLOATS = ("budget_initial", "budget_full_year", "executed", "execution_rate", "rate_reported",
               "budget_score_reported", "max_amount")


@dataclass(frozen=True)
class IndicatorScore:
    kind: str  # quantitative, qualitative, not_applicable, incomparable, missing_actual
    score: float | None  # recomputed; None when not applicable
    fully_met: bool
    tier: str = ""  # qualitative: achieved, partly, not_achieved, unknown
    basis: str = ""  # how the score was derived, for messages


def score_indicator(target, actual, weight: float | None, reported: float | None,
                    cfg: ScoringSettings) -> IndicatorScore:
    w = max(weight or 0.0, 0.0)  # a negative 分值 is flagged (WEIGHTS_INVALID), never scored
    t_text, a_text = fold(target), fold(actual)
    if any(word in t_text or word in a_text for word in cfg.not_applicable_words):
        return IndicatorScore("not_applicable", None, True, basis="不适用，不计分")
    t = parse_measure(target) if t_text else None
    if t is not None:
        return _quantitative(t, actual, a_text, w, reported)
    return _qualitative(t_text, a_text, w, reported, cfg)


def _quantitative(t: Measure, actual, a_text: str, w: float, reported) -> IndicatorScore:
    if not a_text:
        return IndicatorScore("missing_actual", 0.0, False, basis="未填报实际完成值")
    a = parse_measure(actual)
    if a is None or (t.unit and a.unit and t.unit != a.unit):
        kept = min(reported, w) if reported is not None else None
        return IndicatorScore("incomparable", kept, reported is not None and reported >= w,
                              basis="目标值与实际值无法比较，保留自评分")
    tn, an = _same_scale(t, a)
    if t.direction == REVERSE:
        ratio = 1.0 if an <= tn else (tn / an if an > 0 else 0.0)
    elif t.direction == EQUAL:
        ratio = 1.0 if math.isclose(an, tn) else (min(an / tn, tn / an) if an > 0 and tn > 0 else 0.0)
    else:
        ratio = 1.0 if an >= tn else (an / tn if tn > 0 else 0.0)
    ratio = max(0.0, min(ratio, 1.0))
    return IndicatorScore("quantitative", ratio * w, ratio >= 1.0,
                          basis=f"完成比例 {format_percent(ratio)} × 分值 {format_number(w)}")


def _same_scale(t: Measure, a: Measure) -> tuple[float, float]:
    """95% and 0.95 are one scale; a bare 98 beside a 95% target means 98%."""
    tn, an = t.number, a.number
    if t.percent and not a.percent and an > 1.5:
        an /= 100
    if a.percent and not t.percent and tn > 1.5:
        tn /= 100
    return tn, an


def _qualitative(t_text: str, a_text: str, w: float, reported, cfg: ScoringSettings):
    if not a_text:
        return IndicatorScore("missing_actual", 0.0, False, "not_achieved", "未填报实际完成值")
    tier = qualitative_tier(t_text, a_text, cfg)
    upper = cfg.tier_upper.get(tier, 1.0) * w
    score = min(reported, upper) if reported is not None else 0.0
    return IndicatorScore("qualitative", max(score, 0.0), tier in ("achieved", "unknown"), tier,
                          f"定性指标{TIER_LABELS[tier]}，得分上限 {format_number(upper)}")


def qualitative_tier(target: str, actual: str, cfg: ScoringSettings) -> str:
    if actual == target:
        return "achieved"
    # A negation the target itself uses ("无安全事故") does not mean failure.
    if any(w in actual and w not in target for w in cfg.not_achieved_words):
        return "not_achieved"
    if any(w in actual for w in cfg.partly_words):
        return "partly"
    if any(w in actual for w in cfg.achieved_words):
        return "achieved"
    return "unknown"


def grade_of(total: float | None, cfg: ScoringSettings) -> str:
    if total is None or (isinstance(total, float) and math.isnan(total)):
        return ""
    for grade, bound in sorted(cfg.grade_bounds.items(), key=lambda kv: -kv[1]):
        if total >= bound - 1e-9:
            return grade
    return cfg.lowest_grade


def score_indicators(indicators: pd.DataFrame, cfg: ScoringSettings) -> pd.DataFrame:
    # Forms repeat the same indicators and values: each distinct row is scored once.
    memo: dict[tuple, IndicatorScore] = {}
    results = []
    for target, actual, weight, reported in columns(indicators, "target", "actual", "weight", "score_reported"):
        w, r = _num(weight), _num(reported)
        key = (_exact(target), _exact(actual), _exact(w), _exact(r))
        if key not in memo:
            memo[key] = score_indicator(target, actual, w, r, cfg)
        results.append(memo[key])
    out = indicators.copy()
    out["kind"] = [s.kind for s in results]
    out["score"] = pd.Series([s.score for s in results], index=out.index, dtype="float64")
    out["fully_met"] = [s.fully_met for s in results]
    out["tier"] = [s.tier for s in results]
    out["basis"] = [s.basis for s in results]
    return out


def _exact(value) -> tuple:
    """A dict key for a cell value: `==` would merge 1, 1.0 and True, and 0.0 with -0.0."""
    return type(value), (value.hex() if type(value) is float else value)


def score_forms(forms: pd.DataFrame, indicators: pd.DataFrame, cfg: ScoringSettings,
                rules: RuleSettings) -> pd.DataFrame:
    out = forms.copy()
    # Plain records, grouped once: per-form pandas filtering is quadratic in the run's size.
    by_form: dict[int, list[dict]] = {}
    for ind in records(indicators, ["form_id", "kind", "weight", "score", "score_reported", "level1"]):
        by_form.setdefault(ind["form_id"], []).append(ind)
    inputs = [c for c in forms.columns if c.startswith("fund_")] + ["total_reported", "blocks", "categories",
                                                                     *_REQUIRED_RAW]
    rows = [_form_scores(form, by_form.get(fid, []), cfg, rules)
            for fid, form in zip(forms.index.tolist(), records(forms, inputs), strict=True)]
    for key in rows[0] if rows else []:
        out[key] = [row[key] for row in rows]
    # A figure that is None in every form (one form, zero budget) must still be a float column.
    for key in FORM_FLOATS:
        if key in out:
            out[key] = out[key].astype("float64")
    return out


def _form_scores(form: dict, inds: list[dict], cfg: ScoringSettings, rules: RuleSettings) -> dict:
    budget, executed = _num(form["fund_total_full_year"]), _num(form["fund_total_executed"])
    rate = executed / budget if budget and executed is not None else None
    if rate is not None and not math.isfinite(rate):  # 1e11 over a budget of 1e-300
        rate = None
    weight = _num(form["fund_total_weight"])
    budget_weight = weight if weight is not None else cfg.budget_weight
    # Recomputed scores stay within [0, 分值] whatever was typed (negative amounts or weights).
    budget_score = max(min(rate, 1.0), 0.0) * max(budget_weight, 0.0) if rate is not None else 0.0
    applicable = [i for i in inds if i["kind"] != "not_applicable"]
    na_weight = sum(_num(i["weight"]) or 0.0 for i in inds if i["kind"] == "not_applicable")
    applicable_points = cfg.total_points - na_weight
    scale = cfg.total_points / applicable_points if na_weight > 0 and applicable_points > 0 else 1.0
    indicator_score = sum(_num(i["score"]) or 0.0 for i in applicable)
    reported_sum = sum(_num(i["score_reported"]) or 0.0 for i in applicable)
    total = (budget_score + indicator_score) * scale
    reported_parts = ((_num(form["fund_total_score"]) or 0.0) + reported_sum) * scale
    weight_sum = budget_weight + sum(_num(i["weight"]) or 0.0 for i in inds)
    max_field, max_amount = _max_amount(form)
    return {
        "budget_initial": _num(form["fund_total_initial"]),
        "budget_full_year": budget,
        "executed": executed,
        "execution_rate": rate,
        "rate_reported": _rate(_num(form["fund_total_rate"])),
        "budget_weight": budget_weight,
        "budget_score_reported": _num(form["fund_total_score"]),
        "budget_score": budget_score,
        "indicator_score": indicator_score,
        "indicator_score_reported": reported_sum,
        "na_weight": na_weight,
        "reported_parts_total": reported_parts,
        "total_score": total,
        "grade": grade_of(total, cfg),
        "grade_reported": grade_of(_num(form["total_reported"]), cfg),
        "weight_sum": weight_sum,
        "block_mismatch": _block_mismatch(form["blocks"], inds),
        **_empty_required(form["categories"], cfg),
        **_funds_gap(form, rules.funds_tolerance),
        "max_amount": max_amount,
        "max_amount_field": max_field,
        "scale_fields": _scale_fields(form, rules.amount_limit),
    }


def _block_mismatch(blocks, inds: list[dict]) -> str:
    problems = []
    for block in blocks:
        if block.points is None:
            continue
        got = sum(_num(i["weight"]) or 0.0 for i in inds if i["level1"] == block.label)
        if abs(got - block.points) > 1e-6:
            name = block.label.split(" ")[0]
            problems.append(f"「{name}」标注 {format_number(block.points)} 分，"
                            f"其三级指标分值合计 {format_number(got)} 分")
    return "；".join(problems)


def _empty_required(categories, cfg: ScoringSettings) -> dict:
    """Required 二级指标 that are missing or hold only placeholder rows, and the cell to fill in
    first: the 三级指标 cell of the first one's placeholder row (its label's cell when it has none)."""
    empty, refs = [], []
    for required in cfg.required_categories:
        found = required_found(categories, required)
        if not found or all(c.indicators == 0 for c in found):
            empty.append(required)
            refs.extend(c.placeholder or c.ref for c in found)
    return {"empty_required": "；".join(empty), "empty_required_ref": refs[0] if refs else ""}


def required_found(categories, required: str) -> list:
    """The form's 二级指标 (`Category`s) that are the required category `required` (数量, 成本 …)."""
    return [c for c in categories if _is_category(c.level2.replace(" ", ""), required)]


def _is_category(name: str, required: str) -> bool:
    """Whether a 二级指标 label is the required category: it holds it (数量指标（10分）), or is a
    shorter spelling of it (满意度指标 and 服务对象满意度 are 服务对象满意度指标)."""
    core = re.sub(r"[（(].*$", "", name).removesuffix("指标")
    return required in name or (len(core) >= 2 and core in required)


# The required amounts' raw text and validity, per column of the 年度资金总额 row.
_REQUIRED_AMOUNTS = {"full_year": ("budget_full_year_raw", "budget_full_year_ok"),
                     "executed": ("executed_raw", "executed_ok")}
_REQUIRED_RAW = tuple(name for pair in _REQUIRED_AMOUNTS.values() for name in pair)


def _funds_gap(form: dict, tolerance: float) -> dict:
    """Columns where 年度资金总额 ≠ the sum of its filled sources; and the first such cell.

    A column whose 年度资金总额 is a required amount left empty or no number is not compared: only
    a rejected form has one (scored by `xlbatch check`), and its total is no figure to compare."""
    gaps, fields, figures = [], [], []
    for col in AMOUNT_COLS:
        sources = [_num(form[f"fund_{row}_{col}"]) for row in SOURCE_ROWS]
        filled = [v for v in sources if v is not None]
        raw, ok = _REQUIRED_AMOUNTS.get(col, (None, None))
        if not filled or (raw and (form[raw] == "" or not form[ok])):
            continue
        total = _num(form[f"fund_total_{col}"]) or 0.0
        if abs(total - sum(filled)) > tolerance:
            gaps.append(f"{FUND_COL_LABELS[col]}：{FUND_ROW_LABELS['total']} {format_number(total, 4)}，"
                        f"各来源合计 {format_number(sum(filled), 4)}")
            fields.append(f"fund_total_{col}")
            figures.append((format_number(total, 4), format_number(sum(filled), 4)))
    first = figures[0] if figures else ("", "")
    return {"funds_gap": "；".join(gaps), "funds_gap_field": fields[0] if fields else "",
            "funds_gap_total": first[0], "funds_gap_sources": first[1]}


def _max_amount(form: dict) -> tuple[str, float | None]:
    best: tuple[str, float | None] = ("", None)
    for row in ("total", *SOURCE_ROWS):
        for col in AMOUNT_COLS:
            value = _num(form[f"fund_{row}_{col}"])
            if value is not None and (best[1] is None or value > best[1]):
                best = (f"fund_{row}_{col}", value)
    return best


def _scale_fields(form: dict, limit: float) -> str:
    """The amount fields above `limit` 万元 ("；"-joined): AMOUNT_SCALE_SUSPECT when any."""
    return "；".join(f"fund_{row}_{col}" for row in ("total", *SOURCE_ROWS) for col in AMOUNT_COLS
                    if (_num(form[f"fund_{row}_{col}"]) or 0.0) > limit)


def _rate(value: float | None) -> float | None:
    """A rate typed as 56.85 (percentage points, no % sign) means 56.85%: no unit spends 200%."""
    return value / 100 if value is not None and value > 2 else value


def _num(value) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def mark_duplicates(forms: pd.DataFrame) -> pd.DataFrame:
    """Same 实施单位 + 项目名称 + year in several forms: the newest (mtime, then name) counts.

    Adds `duplicate_count`, `duplicate_files` and `superseded_by` (the newest copy's
    source file, empty for the copy that counts).
    """
    out = forms.copy()
    out["duplicate_count"] = 1
    out["duplicate_files"] = ""
    out["superseded_by"] = ""
    if out.empty:
        return out
    key = pd.Series([form_identity(row) for row in records(out, ["unit", "project", "year", "source_file", "sheet"])],
                    index=out.index)
    # Only forms sharing a key need grouping: iterating a group per form is what costs.
    shared = key.duplicated(keep=False)
    for _, group in out[shared].groupby(key[shared], sort=False):
        ordered = group.sort_values(["mtime", "source_file", "sheet"])
        newest = ordered.index[-1]
        names = "、".join(ordered["source_file"])
        out.loc[group.index, "duplicate_count"] = len(group)
        out.loc[group.index, "duplicate_files"] = names
        out.loc[ordered.index[:-1], "superseded_by"] = out.at[newest, "source_file"]
    return out


# --- which forms enter the totals --------------------------------------------------

COUNTED = "计入汇总"
SCALE_SUSPECT = "金额单位存疑，不计入合计"
WRONG_SEASON = "年度或县（区）不符，不计入合计"


def standing(form) -> str:
    """Whether a form enters the totals (COUNTED), and if not, why: the 状态 of 汇总.

    A superseded copy stays out (the newest counts). So does a form whose amounts look
    typed in 元 (AMOUNT_SCALE_SUSPECT, SPEC section 3) until a corrected file replaces it:
    all of its row stays out of every total and average, scores included, so each total row
    describes one set of forms (and a budget score from amounts in mixed units is suspect too).
    So does a form of another year or county (WRONG_YEAR, checks/season.py): it is no part of this
    season's consolidation.
    """
    if form["superseded_by"]:
        return f"已被替代（以 {form['superseded_by']} 为准）"
    if form["wrong_year"]:
        return WRONG_SEASON
    if form["scale_fields"]:
        return SCALE_SUSPECT
    return COUNTED


SUPERSEDED = "superseded"  # a key of `standings`: the 状态 of a replaced copy names its successor


def standings(forms: pd.DataFrame) -> dict[str, int]:
    """How many forms stand so (`standing`, its one rule): COUNTED, SUPERSEDED, WRONG_SEASON, SCALE_SUSPECT."""
    from ..form.normalize import records

    out = dict.fromkeys((COUNTED, SUPERSEDED, WRONG_SEASON, SCALE_SUSPECT), 0)
    if forms.empty:  # no columns to read either
        return out
    for form in records(forms, ["superseded_by", "wrong_year", "scale_fields"]):
        state = standing(form)
        out[SUPERSEDED if form["superseded_by"] else state] += 1
    return out


def counted(forms: pd.DataFrame) -> pd.DataFrame:
    """The forms that enter the totals, charts and counts (see `standing`)."""
    if forms.empty:
        return forms
    return forms[(forms["superseded_by"] == "") & (forms["scale_fields"] == "") & (forms["wrong_year"] == "")]
