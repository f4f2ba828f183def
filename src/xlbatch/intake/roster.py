"""The roster of the units expected to submit (SPEC section 6): who the season is waiting for.

A roster is an .xlsx (or .xlsm, .xls, .ods) or .csv file with the columns 主管部门,
实施单位 and, optionally, 预期项目数. The header row is found by its labels (a title
or a note may stand above it; 「实施单位（全称）」 is 实施单位), on the first sheet that
has one. A .csv may be UTF-8 (with or without BOM) or GBK/GB18030, as Excel and WPS save it.

A roster that cannot be used — missing, unreadable, without an 实施单位 column, a unit
without a name, a 预期项目数 that is no count, one unit listed twice — is a
configuration error naming the file and the row (the command line reads the roster right
after the configuration, before anything else: exit 2): the run would otherwise count
units against a list nobody meant.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ..config import Config, ConfigError
from ..form.values import clean_text, fold, label_key

# The columns, each recognized by these label stems (label_key: no spaces or (suffixes)).
COLUMNS = {
    "department": ("主管部门", "主管单位", "部门"),
    "unit": ("实施单位", "项目实施单位", "单位名称", "项目单位", "单位"),
    "expected": ("预期项目数", "项目数", "项目个数", "预算项目数", "应报项目数"),
}
HEADERS = {"department": "主管部门", "unit": "实施单位", "expected": "预期项目数"}  # as the template writes them
REQUIRED = ("department", "unit")
_SCAN_ROWS = 20  # the header row is among the first rows: a title and a note at most stand above it
_TOTAL_WORDS = ("合计", "总计", "小计")


@dataclass(frozen=True)
class RosterUnit:
    department: str
    unit: str
    expected: int | None  # 预期项目数; None when not given
    row: int  # 1-based row in the roster file, for messages


@dataclass(frozen=True)
class Roster:
    path: str
    units: tuple[RosterUnit, ...]


class RosterError(ConfigError):
    """A roster that cannot be used; the message names the file and, where one is at fault, the row."""


def roster_of(cfg: Config, source: str = "") -> Roster | None:
    """The roster `season.roster` names (None without one); RosterError when it cannot be used, its
    message led by `source` (the configuration file) when given."""
    if not cfg.season.roster:
        return None
    try:
        return load_roster(cfg.season.roster, cfg.season.county)
    except RosterError as exc:
        if not source:
            raise
        raise RosterError(f"{source}: 配置项 season.roster 无效：{exc}") from exc


def load_roster(path: str | Path, county: str = "") -> Roster:
    """Read the roster at `path`; RosterError (a ConfigError) when it cannot be used.

    `county` (season.county) decides which names are the same unit (checks.season.unit_key):
    two rows of one unit are an error."""
    path = Path(path)
    rows = _rows(path)
    top, columns = _header(rows, path)
    units = []
    for number, row in enumerate(rows[top + 1:], start=top + 2):
        unit = _unit(row, columns, number, path)
        if unit is not None:
            units.append(unit)
    if not units:
        raise RosterError(f"花名册 {path} 在列名行（第 {top + 1} 行）下没有任何单位")
    _no_repeats(units, county, path)
    return Roster(str(path), tuple(units))


def _rows(path: Path) -> list[list]:
    if not path.exists():
        raise RosterError(f"花名册文件不存在：{path}")
    if not path.is_file():
        raise RosterError(f"花名册 {path} 不是文件")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RosterError(f"无法读取花名册 {path}：{exc.strerror or exc}") from exc
    if path.suffix.lower() == ".csv":
        return list(csv.reader(io.StringIO(_decoded(raw, path))))
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        sheets = [book.get_sheet_by_index(i).to_python(skip_empty_area=False) for i in range(len(book.sheet_names))]
    except Exception as exc:  # calamine's errors have no common base class worth naming
        raise RosterError(f"花名册 {path} 无法读取（文件损坏、设置了密码或不是电子表格：{exc}）；"
                          "请用 Excel 或 WPS 重新保存") from exc
    # The first sheet with a header row is the roster; a sheet of notes before it is passed over.
    return next((rows for rows in sheets if _header_at(rows) is not None), sheets[0] if sheets else [])


def _decoded(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 reads GBK, as Excel and WPS save "CSV" in China
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"花名册 {path} 既不是 UTF-8 也不是 GBK 编码的文本；请用 Excel 另存为「CSV UTF-8」")


def _header_at(rows: list[list]) -> tuple[int, dict[str, int]] | None:
    """(row index, column of each role found) of the first row naming an 实施单位 column."""
    for i, row in enumerate(rows[:_SCAN_ROWS]):
        found: dict[str, int] = {}
        for col, value in enumerate(row):
            key = label_key(value)
            for role, stems in COLUMNS.items():
                if role not in found and key in stems:
                    found[role] = col
                    break
        if "unit" in found:
            return i, found
    return None


def _header(rows: list[list], path: Path) -> tuple[int, dict[str, int]]:
    at = _header_at(rows)
    wanted = "、".join(HEADERS.values())
    if at is None:
        raise RosterError(f"花名册 {path} 中没有找到「实施单位」列：前 {_SCAN_ROWS} 行中应有一行列名"
                          f"（{wanted}；预期项目数可省略）")
    top, columns = at
    missing = [HEADERS[role] for role in REQUIRED if role not in columns]
    if missing:
        raise RosterError(f"花名册 {path} 第 {top + 1} 行（列名行）中没有「{'」「'.join(missing)}」列；"
                          f"应有列：{wanted}（预期项目数可省略）")
    return top, columns


def _unit(row: list, columns: dict[str, int], number: int, path: Path) -> RosterUnit | None:
    """The unit of one row; None for a blank row or a total row."""
    cells = {role: clean_text(row[col]) if col < len(row) else "" for role, col in columns.items()}
    if not any(cells.values()):
        return None
    if any(label_key(cells[role]) in _TOTAL_WORDS for role in REQUIRED):
        return None
    if not cells["unit"]:
        raise RosterError(f"花名册 {path} 第 {number} 行：实施单位为空（主管部门「{cells['department']}」）；"
                          "请填写单位全称或删除该行")
    raw = row[columns["expected"]] if "expected" in columns and columns["expected"] < len(row) else None
    return RosterUnit(cells["department"], cells["unit"], _count(raw, number, path), number)


def _count(value, number: int, path: Path) -> int | None:
    """预期项目数: a whole number ≥ 0 ("3", 3.0, "３个"); blank → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    count = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # TRUE is no count
        count = int(value) if float(value).is_integer() and value >= 0 else None
    elif isinstance(value, str):
        text = fold(value).removesuffix("个").strip()
        count = int(text) if text.isascii() and text.isdigit() else None
    if count is None:
        raise RosterError(f"花名册 {path} 第 {number} 行：预期项目数应为不小于 0 的整数或留空"
                          f"（当前为「{clean_text(value)}」）")
    return count


def _no_repeats(units: list[RosterUnit], county: str, path: Path) -> None:
    seen: dict[str, RosterUnit] = {}
    for unit in units:
        key = unit_key(unit.unit, county)
        if key in seen:
            first = seen[key]
            raise RosterError(f"花名册 {path} 第 {unit.row} 行：单位「{unit.unit}」与第 {first.row} 行的"
                              f"「{first.unit}」是同一单位（忽略县名前缀、空格和全半角后相同）；请删除重复的一行")
        seen[key] = unit


# --- which names are the same unit ------------------------------------------------------

_UNIT_PREFIX = "县"


def unit_key(name: str, county: str = "") -> str:
    """A unit's name as it is matched (SPEC section 6): full-width folded to half-width (NFKC),
    spaces and line breaks dropped, and a leading county name (season.county) or a leading 县
    removed: 承德县社会保险事业服务中心, 县社会保险事业服务中心 and
    社会保险事业服务中心 are one unit in 承德县. Nothing else: 社保保险 is not 社会保险."""
    text = "".join(fold(name).split())
    for prefix in _county_prefixes(county):
        if text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix):]
    return text


def _county_prefixes(county: str) -> list[str]:
    county = "".join(fold(county).split())
    return [county, _UNIT_PREFIX] if county else [_UNIT_PREFIX]
