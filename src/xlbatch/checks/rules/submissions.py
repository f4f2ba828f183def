"""Flags on a submission as a whole: the same form sent more than once, amounts probably typed in 元.

Each rule is one block: its checks' `passes` and `describe`, then its registration.
"""

from __future__ import annotations

from ...catalogue import EVALUATE, FORMS, Check, Detail, Rule, register
from ...form.vocabulary import FUND_COL_LABELS
from ...models import WARNING
from ._shared import cell_of, num


def _duplicate_passes(df, cfg):
    return df["duplicate_count"].fillna(1) <= 1


def _duplicate_describe(row, cfg):
    others = row["duplicate_files"]
    if row["superseded_by"]:
        tail = f"以最新的 {row['superseded_by']} 为准，本份已被替代，不计入汇总"
    else:
        tail = "本份为最新，计入汇总"
    return Detail("duplicate:" + row["source_file"] + "|" + row["sheet"], cell_of(row, "project"),
                  f"同一实施单位、项目名称和年度的自评表共收到 {int(row['duplicate_count'])} 份"
                  f"（{others}）；{tail}", row["source_file"], row["superseded_by"] or row["source_file"])


DUPLICATE_SUBMISSION = register(Rule(
    "DUPLICATE_SUBMISSION", WARNING, "重复报送",
    "同一实施单位、项目名称和年度收到多份；以最新文件为准，其余标记为已替代", EVALUATE,
    checks=(Check(FORMS, ("duplicate_count",), _duplicate_passes, _duplicate_describe),)))


def _scale_passes(df, cfg):
    return df["scale_fields"].fillna("") == ""  # score.py: amounts above rules.amount_limit


def _scale_describe(row, cfg):
    field = row["max_amount_field"]
    label = next(name for key, name in FUND_COL_LABELS.items() if field.endswith(f"_{key}"))
    count = len(row["scale_fields"].split("；"))
    return Detail(field, cell_of(row, field),
                  f"「{label}」填报为 {num(row['max_amount'])}，超过 {num(cfg.rules.amount_limit)} 万元，"
                  f"疑似按元填报（本表共 {count} 个金额超过）；表中金额应以万元为单位。"
                  f"本表金额不计入汇总的任何合计，请更正后重新报送",
                  num(row["max_amount"]), f"≤ {num(cfg.rules.amount_limit)}（万元）")


AMOUNT_SCALE_SUSPECT = register(Rule(
    "AMOUNT_SCALE_SUSPECT", WARNING, "金额单位存疑",
    "金额超过 {rules.amount_limit:number} 万元，疑似按元填报；该表金额不计入任何合计，直至报送更正后的文件", EVALUATE,
    checks=(Check(FORMS, ("scale_fields",), _scale_passes, _scale_describe),)))
