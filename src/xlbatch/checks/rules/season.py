"""The submission season (SPEC section 6): a form of another year or county, a roster unit that has
not submitted, a form of a unit not on the roster, a file that came after the deadline.

WRONG_YEAR and UNKNOWN_UNIT judge a form (frame checks over the columns checks/season.py adds);
NOT_SUBMITTED (one per roster unit) and LATE_SUBMISSION (one per file) have no form row to judge:
checks/season.py raises them with the messages below (stage SEASON).
Each rule is one block: its checks' `passes` and `describe` or its messages, then its registration.
"""

from __future__ import annotations

from ...catalogue import EVALUATE, FORMS, SEASON, Check, Detail, Rule, register
from ...models import INFO, WARNING
from ._shared import cell_of

# checks/season.py: why a form is outside the season (column wrong_year), where its unit is on the roster
# (column roster_state).
OTHER_YEAR, OTHER_COUNTY = "year", "county"
MATCHED, UNKNOWN, FOREIGN = "matched", "unknown", "foreign"


def _wrong_year_passes(df, cfg):
    return df["wrong_year"].fillna("") == ""


def _wrong_year_describe(row, cfg):
    tail = "；该表单独列出，不计入任何合计"
    if row["wrong_year"] == OTHER_YEAR:
        year = int(row["year"])
        return Detail("year", cell_of(row, "title"),
                      f"自评表为 {year} 年度，本次评价年度为 {cfg.season.year} 年度{tail}",
                      f"{year} 年度", f"{cfg.season.year} 年度")
    return Detail("county", cell_of(row, "unit"),
                  f"主管部门「{row['department']}」和实施单位「{row['unit']}」均不在报送单位花名册中，"
                  f"且表中写明「{row['other_county']}」，不是{cfg.season.county}的自评表{tail}",
                  row["other_county"], cfg.season.county)


WRONG_YEAR = register(Rule(
    "WRONG_YEAR", WARNING, "年度或县（区）不符",
    "自评表年度不是配置的评价年度，或（配置了县（区）名称和花名册时）主管部门、实施单位均不在花名册中"
    "且表中写明其他县（区）；单独列出，不计入合计", EVALUATE,
    checks=(Check(FORMS, ("wrong_year",), _wrong_year_passes, _wrong_year_describe),)))


NOT_SUBMITTED = register(Rule(
    "NOT_SUBMITTED", WARNING, "未报送",
    "报送单位花名册中的单位没有可受理的本年度自评表（每个单位一条）", SEASON,
    messages={
        "nothing": "花名册中的「{unit}」（主管部门：{department}）未报送自评表{hint}",
        "rejected": "花名册中的「{unit}」（主管部门：{department}）报送的文件均未受理（{reasons}），请通知其更正后重报",
        "outside": "花名册中的「{unit}」（主管部门：{department}）只报送了年度或县（区）不符的自评表"
                   "（{forms}），请通知其报送本年度自评表",
    }))


def _unknown_passes(df, cfg):
    return df["roster_state"].fillna("") != UNKNOWN


def _unknown_describe(row, cfg):
    if row["roster_hint"]:
        hint = (f"最相近的是「{row['roster_hint']}」（主管部门：{row['roster_hint_department'] or '未填'}），"
                "如为同一单位请统一名称（未自动合并）")
    else:
        hint = "花名册中没有名称相近的单位；如为新增单位，请补入花名册"
    return Detail("unit", cell_of(row, "unit"), f"实施单位「{row['unit']}」不在报送单位花名册中；{hint}",
                  row["unit"], row["roster_hint"])


UNKNOWN_UNIT = register(Rule(
    "UNKNOWN_UNIT", INFO, "花名册外单位",
    "自评表的实施单位不在报送单位花名册中（按全半角、空格、县名前缀统一后比较）；"
    "提示最相近的花名册名称，不自动合并", EVALUATE,
    checks=(Check(FORMS, ("roster_state",), _unknown_passes, _unknown_describe),)))


LATE_SUBMISSION = register(Rule(
    "LATE_SUBMISSION", INFO, "逾期报送",
    "文件在配置的报送截止时间之后才收到", SEASON,
    messages={
        "late": "文件在报送截止时间 {deadline} 之后才收到（不早于 {after}；程序首次发现于 {seen}；北京时间）",
    }))
