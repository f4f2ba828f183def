"""Configuration: one typed object, loaded from TOML, defaults built in (SPEC section 5).

Every threshold the rule catalogue uses lives here so a bureau can tune it
without touching code. Unknown keys are an error that names the key: a typo in
a cron job's config must not silently fall back to a default.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class ScoringSettings(_Section):
    """National scoring rules (SPEC section 2): weights, grades, vocabularies."""

    total_points: float = 100.0
    budget_weight: float = Field(10.0, description="预算执行率分值缺失时采用的默认分值")
    grade_bounds: dict[str, float] = Field(
        default_factory=lambda: {"优": 90.0, "良": 80.0, "中": 60.0},
        description="等级下限，从高到低；低于最低下限为「差」",
    )
    lowest_grade: str = "差"
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


class LimitSettings(_Section):
    """Bounds on what a submission may cost us before it is refused (FILE_UNSAFE)."""

    max_uncompressed_mb: float = Field(100.0, gt=0, description="压缩包解压后总大小上限（MB）")
    max_member_mb: float = Field(50.0, gt=0, description="压缩包内单个文件解压后大小上限（MB）")
    max_compression_ratio: float = Field(100.0, gt=1, description="单个文件压缩比上限")
    max_rows: int = Field(10000, gt=0, description="工作表有内容的行数上限；超出的工作表不读取")
    max_cols: int = Field(256, gt=0, description="工作表有内容的列数上限；超出的工作表不读取")
    worker_memory_mb: int = Field(2048, gt=0, description="每个读取进程可额外使用的内存（MB），超出即视为文件无法读取")
    seconds_per_file: int = Field(120, gt=0, description="读取单个文件的 CPU 时间上限（秒）")


class OutputSettings(_Section):
    """How the county workbook is laid out for large consolidations."""

    unit_sheets_limit: int = Field(
        500, ge=0, description="实施单位超过此数时，只为有问题的单位生成单位工作表（其余见汇总）")
    chart_units: int = Field(40, ge=1, description="执行率图表最多显示的单位数（取执行率最低者）")


class Config(_Section):
    workers: int = Field(0, ge=0, description="读取文件的并行进程数；0 表示 CPU 核数（--workers 优先）")
    rules: RuleSettings = RuleSettings()
    scoring: ScoringSettings = ScoringSettings()
    limits: LimitSettings = LimitSettings()
    output: OutputSettings = OutputSettings()


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the key."""


def load_config(path: str | Path | None = None) -> Config:
    """Load `path` (TOML) over the built-in defaults; None or a missing default file → defaults."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"配置文件不存在：{path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 不是有效的 TOML：{exc}") from exc
    return parse_config(data, source=str(path))


def parse_config(data: dict, source: str = "<config>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from exc


def _describe(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: 未知配置项 {key}（unknown key {key}）")
        else:
            lines.append(f"{source}: 配置项 {key} 无效：{err['msg']}")
    return "\n".join(lines)
