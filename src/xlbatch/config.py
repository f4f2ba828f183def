"""Configuration: one typed object, loaded from TOML, defaults built in (SPEC section 5).

Every threshold the rule catalogue uses lives here so a bureau can tune it
without touching code. Unknown keys are an error that names the key: a typo in
a cron job's config must not silently fall back to a default. So is every value
that would make the figures meaningless (a negative total, grades that cannot be
reached, a word that matches every text, an infinite limit): each error names the
key, what was given and what is allowed, in Chinese.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
import typing
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)

from .form.values import label_key
from .form.vocabulary import ROLES, role_key, unknown_roles

# Counts beyond this are not a setting but a typo (or an attack on the limits): no worksheet,
# county or chart comes near it.
HUGE = 1_000_000_000


class _Section(BaseModel):
    # strict: `true` is not 1 and "0.8" is not 0.8; allow_inf_nan: inf and nan are not limits.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class RuleSettings(_Section):
    """Thresholds and tolerances of the flagged rules (SPEC section 3)."""

    rate_tolerance: float = Field(0.001, ge=0, description="执行率容差（小数，0.001 = 0.1 个百分点）")
    score_tolerance: float = Field(0.1, ge=0, description="得分容差（分）")
    inflation_points: float = Field(1.0, ge=0, description="自评总分高于复算总分超过此分数即为虚高")
    low_execution: float = Field(0.8, ge=0, description="执行率低于此值为执行率偏低")
    high_score: float = Field(90.0, ge=0, description="自评总分不低于此值视为高分")
    high_score_low_execution: float = Field(0.6, ge=0, description="高分而执行率低于此值")
    funds_tolerance: float = Field(0.01, ge=0, description="资金来源合计容差（万元）")
    amount_limit: float = Field(10000.0, gt=0, description="金额超过此值（万元）疑为按元填报")


TIERS = ("achieved", "partly", "not_achieved")


class ScoringSettings(_Section):
    """National scoring rules (SPEC section 2): weights, grades, vocabularies."""

    total_points: float = Field(100.0, gt=0)
    # validate_default: a total_points of 50 makes the default bounds and weight wrong too.
    budget_weight: float = Field(10.0, ge=0, validate_default=True, description="预算执行率分值缺失时采用的默认分值")
    grade_bounds: dict[str, float] = Field(
        default_factory=lambda: {"优": 90.0, "良": 80.0, "中": 60.0}, validate_default=True,
        description="等级下限，从高到低；低于最低下限为「差」",
    )
    lowest_grade: str = Field("差", validate_default=True)
    required_categories: list[str] = Field(
        default_factory=lambda: ["数量", "质量", "时效", "成本", "服务对象满意度"],
        description="必填的二级指标（按名称前缀匹配，忽略「指标」二字）",
    )
    achieved_words: list[str] = Field(
        default_factory=lambda: [
            "完成", "完善", "达到", "达标", "实现", "提升", "提高", "有效", "显著",
            "满意", "良好", "到位", "及时", "准确", "合规", "规范", "是", "已",
        ]
    )
    partly_words: list[str] = Field(
        default_factory=lambda: ["基本", "部分", "较好", "一般", "有所", "大部分"]
    )
    not_achieved_words: list[str] = Field(
        default_factory=lambda: ["未", "没有", "否", "无", "较差", "不达标", "不满意"]
    )
    not_applicable_words: list[str] = Field(default_factory=lambda: ["不适用"])
    # Upper bounds of the three qualitative tiers as a share of the 分值.
    tier_upper: dict[str, float] = Field(
        default_factory=lambda: {"achieved": 1.0, "partly": 0.8, "not_achieved": 0.6}
    )

    @property
    def grades(self) -> list[str]:
        """Every grade from the best to the worst (`grade_bounds` is ordered so, `lowest_grade` last)."""
        return [*self.grade_bounds, self.lowest_grade]

    @field_validator("budget_weight")
    @classmethod
    def _weight_within_total(cls, value: float, info: ValidationInfo) -> float:
        total = info.data.get("total_points")
        if total is not None and value > total:
            raise ValueError(f"应为 0 到 total_points（{_shown(total)}）之间的数字（当前为 {_shown(value)}）")
        return value

    @field_validator("grade_bounds")
    @classmethod
    def _grades_reachable(cls, bounds: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        """Lower limits from the best grade to the worst, each reachable: strictly decreasing, above 0
        (a bound of 0 would leave the lowest grade unreachable) and at most total_points."""
        allowed = ("应为从高到低排列、严格递减、大于 0 且不超过 total_points 的等级下限，"
                   "如 { \"优\" = 90.0, \"良\" = 80.0 }")
        if not bounds:
            raise ValueError(f"不能为空（否则每张自评表都评为最低等级）；{allowed}（当前为 {{}}）")
        total = info.data.get("total_points")
        previous = None
        for name, bound in bounds.items():
            if not name.strip():
                raise ValueError(f"等级名称不能为空；{allowed}（当前为 {_shown(bounds)}）")
            if bound <= 0 or (total is not None and bound > total):
                limit = f"（{_shown(total)}）" if total is not None else ""
                raise ValueError(f"等级「{name}」的下限应大于 0 且不超过 total_points{limit}"
                                 f"（当前为 {_shown(bound)}）")
            if previous is not None and bound == previous[1]:
                raise ValueError(f"等级「{name}」的下限 {_shown(bound)} 与上一等级「{previous[0]}」相同，"
                                 f"「{name}」永远评不到；{allowed}")
            if previous is not None and bound > previous[1]:
                raise ValueError(f"等级「{name}」的下限 {_shown(bound)} 高于上一等级「{previous[0]}」的 "
                                 f"{_shown(previous[1])}；{allowed}")
            previous = (name, bound)
        return bounds

    @field_validator("lowest_grade")
    @classmethod
    def _lowest_grade_distinct(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise ValueError(f"应为非空的等级名称，如 \"差\"（当前为 {_shown(value)}）")
        if value in info.data.get("grade_bounds", {}):
            raise ValueError(f"不能与 grade_bounds 中的等级同名（当前为 {_shown(value)}）")
        return value

    @field_validator("required_categories", "achieved_words", "partly_words", "not_achieved_words",
                     "not_applicable_words")
    @classmethod
    def _no_blank_words(cls, words: list[str]) -> list[str]:
        for i, word in enumerate(words, start=1):
            if not word.strip():
                raise ValueError(f"第 {i} 项为空；空词与任何文字都匹配，应为非空文字的列表"
                                 f"（当前为 {_shown(words)}）")
        return words

    @field_validator("tier_upper")
    @classmethod
    def _tiers_ordered(cls, tiers: dict[str, float]) -> dict[str, float]:
        allowed = ("应恰好含 achieved、partly、not_achieved 三项，均在 0 到 1 之间，"
                   "且 not_achieved ≤ partly ≤ achieved")
        shown = f"（当前为 {_shown(tiers)}）"
        if set(tiers) != set(TIERS):
            missing = [t for t in TIERS if t not in tiers]
            unknown = [t for t in tiers if t not in TIERS]
            what = "；".join(([f"缺少 {'、'.join(missing)}"] if missing else [])
                            + ([f"未知的项 {'、'.join(unknown)}"] if unknown else []))
            raise ValueError(f"{what}；{allowed}{shown}")
        outside = [t for t in TIERS if not 0 <= tiers[t] <= 1]
        if outside:
            raise ValueError(f"{'、'.join(outside)} 不在 0 到 1 之间；{allowed}{shown}")
        if not tiers["not_achieved"] <= tiers["partly"] <= tiers["achieved"]:
            raise ValueError(f"得分上限的顺序不对；{allowed}{shown}")
        return tiers


class LimitSettings(_Section):
    """Bounds on what a submission may cost us before it is refused (FILE_UNSAFE)."""

    max_uncompressed_mb: float = Field(100.0, gt=0, description="压缩包解压后总大小上限（MB）")
    max_member_mb: float = Field(50.0, gt=0, description="压缩包内单个文件解压后大小上限（MB）")
    max_compression_ratio: float = Field(100.0, gt=1, description="单个文件压缩比上限")
    max_rows: int = Field(10000, gt=0, le=HUGE, description="工作表有内容的行数上限；超出的工作表不读取")
    max_cols: int = Field(256, gt=0, le=HUGE, description="工作表有内容的列数上限；超出的工作表不读取")
    # 1 TB and a day: beyond them the numbers overflow the kernel's limits, not a real machine's.
    worker_memory_mb: int = Field(2048, gt=0, le=1_048_576,
                                  description="每个读取进程可额外使用的内存（MB），超出即视为文件无法读取")
    seconds_per_file: int = Field(120, gt=0, le=86_400, description="读取单个文件的 CPU 时间上限（秒）")


class OutputSettings(_Section):
    """How the county workbook is laid out for large consolidations."""

    unit_sheets_limit: int = Field(
        500, ge=0, le=HUGE, description="实施单位超过此数时，只为有问题的单位生成单位工作表（其余见汇总）")
    chart_units: int = Field(40, ge=1, le=HUGE, description="执行率图表最多显示的单位数（取执行率最低者）")


BEIJING = timezone(timedelta(hours=8))  # China observes no daylight saving time
ROSTER_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")
_DEADLINE_EXAMPLES = ("如 deadline = 2024-03-31（当天 24 时截止，北京时间）或 deadline = 2024-03-31T18:00:00"
                      "（北京时间；带 +08:00 等时区亦可）")


class SeasonSettings(_Section):
    """The submission season (SPEC section 6): who the outputs are for, the evaluation year, the
    deadline and the roster of the units expected to submit."""

    county: str = Field("", description="县（区）名称，印在汇总表、汇总报告和整改通知的标题中；空则不写")
    issuer: str = Field("", description="编制单位，印在汇总表和汇总报告上；空则为「县名 + 财政局」")
    year: int | None = Field(None, ge=2000, le=2100,
                             description="评价年度；年度不同的自评表单独列出、不计入合计；不填则不检查")
    deadline: datetime | None = Field(
        None, description="报送截止时间（北京时间）；只写日期则为当天 24 时；此后才收到的文件提示逾期报送")
    roster: str = Field("", description="报送单位花名册（.xlsx 或 .csv，列：主管部门、实施单位、预期项目数）；"
                                        "相对路径相对于配置文件所在的文件夹；填写后生成「报送情况」工作表")

    @field_validator("county", "issuer", "roster")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("deadline", mode="before")
    @classmethod
    def _deadline(cls, value):
        """A TOML date is the end of that day, a date-time without offset Beijing time; the same as text."""
        if value is None:
            return None
        if isinstance(value, str):
            value = _date_text(value)
        if isinstance(value, datetime):
            return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value.astimezone(BEIJING)
        if isinstance(value, date):
            return datetime.combine(value, time(23, 59, 59), BEIJING)
        raise ValueError(f"应为日期或日期时间，{_DEADLINE_EXAMPLES}（当前为 {_shown(value)}）")

    @field_serializer("deadline")
    def _deadline_text(self, value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None  # run.json and the fingerprint

    @field_validator("roster")
    @classmethod
    def _roster_kind(cls, value: str) -> str:
        if value and Path(value).suffix.lower() not in ROSTER_SUFFIXES:
            raise ValueError(f"应为 .xlsx 或 .csv 文件的路径（当前为 {_shown(value)}）")
        return value

    @property
    def issuing_office(self) -> str:
        """编制单位 as the documents name it (经…审核, the signature): the configured one, else the
        county's 财政局 (county and issuer are stripped on loading)."""
        return self.issuer or f"{self.county}财政局"

    @property
    def printed_office(self) -> str:
        """编制单位 on a printed table's letterhead: as `issuing_office` once a county or an issuer is
        configured, else blank, to be filled in by hand rather than printed as a bare 财政局."""
        return self.issuing_office if self.issuer or self.county else ""


class Config(_Section):
    # Every worker is forked at once: a typo of 10,000 must not fork 10,000 processes.
    workers: int = Field(0, ge=0, le=1024,
                         description="读取文件的并行进程数；0 表示 CPU 核数（--workers 优先）")
    scheduler_timeout: float = Field(5.0, gt=0, le=600, description="连接 Dask 调度器的超时（秒）")
    rules: RuleSettings = RuleSettings()
    scoring: ScoringSettings = ScoringSettings()
    limits: LimitSettings = LimitSettings()
    output: OutputSettings = OutputSettings()
    season: SeasonSettings = SeasonSettings()
    # [labels.GROUP] ROLE = ["写法", …]: a bureau's own spellings of the form's labels (the roles
    # `xlbatch inspect` lists as GROUP.ROLE), added to the built-in ones (form/vocabulary.py).
    labels: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict, description="本地模板中栏目标签的其他写法（[labels.分组] 栏目 = [写法, …]）")

    @field_validator("labels")
    @classmethod
    def _known_roles(cls, labels: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        unknown = unknown_roles(labels)
        if unknown:
            known = "、".join(role_key(group, name) for group, roles in ROLES.items() for name in roles)
            raise ValueError(f"没有栏目 {'、'.join(unknown)}；可用的栏目：{known}")
        for group, roles in labels.items():
            for name, words in roles.items():
                if not words or any(not w.strip() for w in words):
                    raise ValueError(f"{group}.{name} 应为非空文字的列表（当前为 {_shown(words)}）")
                # Matched without spaces and (suffixes): a word of only those would match every label.
                hollow = [w for w in words if not label_key(w)]
                if hollow:
                    raise ValueError(f"{group}.{name} 中的 {_shown(hollow)} 去掉空格和括号内的后缀后为空，"
                                     "不能用来识别栏目；请写栏目的名称，如「本年可用数」")
        return labels

    @property
    def label_words(self) -> tuple:
        """`labels` as a hashable, picklable value (FileTask.labels): ((group, ((role, stems), …)), …).

        Each word becomes the stem a label is matched by (values.label_key): a bureau copies the label
        from its template, so "本年可用数（万元）" and "本年\n可用数" are the stem 本年可用数."""
        def stems(words: list[str]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(label_key(w) for w in words))

        return tuple(sorted((g, tuple(sorted((n, stems(w)) for n, w in r.items()))) for g, r in self.labels.items()))


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and the key."""


def load_config(path: str | Path | None = None, *, roster: bool = True) -> Config:
    """Load `path` (TOML, UTF-8) over the built-in defaults; None → defaults. `roster` False: without
    `season.roster` (`xlbatch roster` writes the roster, which need not exist yet)."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        data = tomllib.loads(_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 不是有效的 TOML：{_where(exc)}") from exc
    except RecursionError as exc:
        raise ConfigError(f"配置文件 {path} 不是有效的 TOML：数组或表嵌套过深") from exc
    if not roster and isinstance(data.get("season"), dict):
        data["season"].pop("roster", None)
    # A relative roster is found beside the configuration, wherever cron starts the run from.
    return parse_config(data, source=str(path), base=path.parent)


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"配置文件不存在：{path}") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"配置文件 {path} 是一个文件夹，应为 TOML 文件") from exc
    except PermissionError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：没有读取权限") from exc
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc.strerror or exc}") from exc
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"配置文件 {path} 是 UTF-16 编码，应为 UTF-8 编码：请用文本编辑器另存为 UTF-8")
    try:
        return raw.decode("utf-8-sig")  # Notepad's UTF-8 starts with a BOM: still UTF-8
    except UnicodeDecodeError as exc:
        guess = ""
        try:
            raw.decode("gb18030")
            guess = "，看起来是 GBK（GB18030）编码"
        except UnicodeDecodeError:
            pass
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码（第 {exc.start + 1} 个字节起无法按 UTF-8 解码"
                          f"{guess}）：请用文本编辑器另存为 UTF-8") from exc


def _where(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's English message with its position in Chinese, e.g. 第 3 行第 5 列附近（Invalid value）."""
    text = str(exc)
    at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
    if at:
        return f"第 {at.group(1)} 行第 {at.group(2)} 列附近（{text[:at.start()]}）"
    end = re.search(r"\s*\(at end of document\)$", text)
    if end:
        return f"文件末尾（{text[:end.start()]}）"
    return text


def parse_config(data: dict, source: str = "<config>", base: Path | None = None) -> Config:
    """`data` over the defaults; a relative `season.roster` is taken from `base` (the configuration
    file's folder; the current folder when None) and must exist. Its content is read where it is used
    (intake/roster.py; the command line reads it before anything else, a broken one is exit 2)."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from exc
    if not cfg.season.roster:
        return cfg
    roster = Path(cfg.season.roster)
    roster = roster if roster.is_absolute() else (base if base is not None else Path.cwd()).absolute() / roster
    if not roster.is_file():
        why = "不是文件" if roster.exists() else "文件不存在"
        raise ConfigError(f"{source}: 配置项 season.roster 无效：花名册{why}：{roster}")
    return cfg.model_copy(update={"season": cfg.season.model_copy(update={"roster": str(roster)})})


def _date_text(text: str):
    """"2024-03-31" → a date; "2024-03-31 18:00" or "2024-03-31T18:00:00+08:00" → a date-time;
    anything else stays text (the validator says what is allowed)."""
    text = text.strip()
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def _describe(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: 未知配置项 {key}（{_known(err['loc'][:-1])}）")
        elif err["type"] == "value_error":  # our own checks: the message says what is allowed
            lines.append(f"{source}: 配置项 {key} 无效：{err['ctx']['error']}")
        else:
            lines.append(f"{source}: 配置项 {key} 无效：应为{_allowed(err['loc'])}"
                         f"（当前为 {_shown(err['input'])}）")
    return "\n".join(lines)


def _known(section: tuple) -> str:
    model = _model_at(section)
    where = f"[{'.'.join(map(str, section))}] 中" if section else "顶层"
    return f"{where}可用的配置项：{'、'.join(model.model_fields) if model else '无'}"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] = Config
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None or not _is_model(field.annotation):
            return None
        model = field.annotation
    return model


def _allowed(loc: tuple) -> str:
    """What the key at `loc` accepts, from its declared type and bounds: 大于 0 的有限数字."""
    model: type[BaseModel] = Config
    for depth, part in enumerate(loc):
        field = model.model_fields.get(str(part))
        if field is None:
            break
        if _is_model(field.annotation):
            model = field.annotation
            continue
        element = depth < len(loc) - 1  # an item of a list or table
        kind = typing.get_args(field.annotation)[-1] if element else field.annotation
        return _bounds(field.metadata if not element else []) + _KINDS.get(kind, str(kind))
    return f"配置节（TOML 表，如 [{loc[0]}]）" if len(loc) == 1 else "有效的值"


def _bounds(metadata: list) -> str:
    words = (("gt", "大于 {}"), ("ge", "不小于 {}"), ("lt", "小于 {}"), ("le", "不超过 {}"))
    parts = [word.format(_shown(getattr(item, name))) for item in metadata
             for name, word in words if hasattr(item, name)]
    return "、".join(parts) + " 的" if parts else ""


_KINDS = {float: "有限数字", int: "整数", int | None: "整数", str: "文字",
          list[str]: "文字列表，如 [\"完成\", \"达到\"]", dict[str, float]: "表，如 { \"优\" = 90.0 }"}


def _is_model(annotation) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _shown(value) -> str:
    """A value as written in TOML, cut short: -5, 0.5, inf, "八成", ["不适用", ""]."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) \
            else f"{value:g}" if abs(value) < 1e15 else repr(value)
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, dict):
        text = "{ " + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {_shown(v)}"
                                for k, v in value.items()) + " }" if value else "{}"
    elif isinstance(value, list):
        text = "[" + ", ".join(_shown(v) for v in value) + "]"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"
