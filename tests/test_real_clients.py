"""Real clients: files that LibreOffice wrote, and our output opened by LibreOffice.

1. The seed form, recalculated and saved by LibreOffice as .xlsx, .xls (BIFF8) and
   .ods, must parse and score exactly like the XlsxWriter original (SPEC section 1:
   ".xlsx, .xlsm, .xls (BIFF) and .ods files" and "formulas (use the cached value)").
   Two formula variants make LibreOffice's own recalculated values the figures read.
2. consolidated.xlsx, from a run with a rejected file in the inbox, must open in
   LibreOffice and print to PDF, whose text (pdftotext) names the unit, a rule and
   the rejected file; page 1 is rendered to PNG (pdftoppm) for a human to look at
   (set XLBATCH_RENDER_DIR to keep a copy of both).

LibreOffice or poppler missing fails under CI and is a skip with the install
command elsewhere (lo.missing).
"""

from __future__ import annotations

import math
import os
import random
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import python_calamine as calamine

from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.pipeline import RunResult, process

pytest_plugins = ["lo"]  # fixtures libreoffice, lo_files, pdftotext, pdftoppm (not imported: lo must load as a plugin)

SHEET = "自评表"  # lo.SHEET

FORMATS = ["source", "xlsx", "xls", "ods"]  # "source": the XlsxWriter original, as a baseline
CONVERTED = ["xlsx", "xls", "ods"]

# The seed's figures (seed/000_6861aad08ff35101.txt), recomputed by the SPEC section 2 rules.
BUDGET, EXECUTED = 5.4, 3.07
RATE = EXECUTED / BUDGET  # 0.568518…
BUDGET_SCORE = RATE * 10  # 5.685…
INDICATORS = 90.0  # every indicator fully met and reported at its full 分值
TOTAL = BUDGET_SCORE + INDICATORS  # 95.685…
SEED_FINDINGS = {("LOW_EXECUTION", "G6"), ("HIGH_SCORE_LOW_EXECUTION", "H37"), ("REQUIRED_CATEGORY_EMPTY", "D21")}
# What a reader without a formula engine sees in G6 / H6 / H37 of the formula variants, in every
# format (see test_libreoffice_recalculated_the_formulas), and the findings those values give.
# Spelled out so that the oracle expected_findings() is not fed by the very reader under test.
VARIANT_CACHED = {"formula": (RATE, None, None), "formula_numeric": (RATE, 5.69, 95.69)}
VARIANT_FINDINGS = {"formula": ["LOW_EXECUTION", "REQUIRED_CATEGORY_EMPTY", "TOTAL_MISMATCH"],
                    "formula_numeric": ["HIGH_SCORE_LOW_EXECUTION", "LOW_EXECUTION", "REQUIRED_CATEGORY_EMPTY"]}


# --- helpers ---------------------------------------------------------------------------

def process_file(path: Path, tmp_path: Path) -> RunResult:
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(path, inbox / path.name)
    return process(inbox, Config())


def cached(path: Path, ref: str):
    """The value a reader without a formula engine sees in `ref` (None: empty or an error)."""
    col, row = ord(ref[0]) - ord("A"), int(ref[1:]) - 1
    rows = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET).to_python(
        skip_empty_area=False)
    value = rows[row][col] if row < len(rows) and col < len(rows[row]) else ""
    return None if value == "" else value


def only_form(result: RunResult):
    assert [(f.status, f.code) for f in result.files] == [("accepted", "")], result.findings
    assert len(result.forms) == 1
    return result.forms.iloc[0]


def assert_recomputed_figures(form) -> None:
    assert form["unit"] == "承德县社会保险事业服务中心"
    assert form["project"] == "失业动态监测，社会化管理服务费"
    assert form["department"] == "承德县人力资源和社会保障局"
    assert form["year"] == 2023
    assert form["budget_full_year"] == pytest.approx(BUDGET)
    assert form["executed"] == pytest.approx(EXECUTED)
    assert form["execution_rate"] == pytest.approx(0.5685, abs=1e-4)
    assert form["budget_score"] == pytest.approx(BUDGET_SCORE, abs=0.01)
    assert form["total_score"] == pytest.approx(95.685, abs=0.01)
    assert form["grade"] == "优"


def expected_findings(rate, budget_score, total) -> set[str]:
    """The seed's findings given the reported 执行率 (G6), 得分 (H6) and 总分 (H37) a reader sees.

    Fixed by the figures: LOW_EXECUTION (56.85% < 80%) and REQUIRED_CATEGORY_EMPTY (成本).
    The others compare reported values and fire only when the value is there to compare.
    """
    rules = {"LOW_EXECUTION", "REQUIRED_CATEGORY_EMPTY"}
    # An error value ("#VALUE!") reads as empty, like a blank cell.
    budget_score = budget_score if isinstance(budget_score, float) else None
    total = total if isinstance(total, float) else None
    if isinstance(rate, float) and abs(rate - RATE) > 0.001:
        rules.add("RATE_MISMATCH")
    if budget_score is not None and abs(budget_score - BUDGET_SCORE) > 0.1:
        rules.add("BUDGET_SCORE_MISMATCH")
    if total is None:
        rules.add("TOTAL_MISMATCH")  # a blank 总分 beside filled-in scores is flagged
    else:
        if total >= 90:
            rules.add("HIGH_SCORE_LOW_EXECUTION")
        if abs(total - ((budget_score or 0) + INDICATORS)) > 0.1:
            rules.add("TOTAL_MISMATCH")
        if total - TOTAL > 1:
            rules.add("SELF_SCORE_INFLATED")
    return rules


def same(actual, expected) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    return actual == pytest.approx(expected, abs=1e-9)


# --- 1. files written by LibreOffice ------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_seed_scores_the_same_in_every_format(lo_files, fmt, tmp_path):
    result = process_file(lo_files["seed", fmt], tmp_path)
    form = only_form(result)
    assert_recomputed_figures(form)
    assert form["rate_reported"] == pytest.approx(0.5685)  # typed as text "56.85%"
    assert form["budget_score_reported"] == pytest.approx(5.7)
    assert form["total_reported"] == pytest.approx(95.7)
    assert form["grade_reported"] == "优"
    assert {(f.rule, f.cell) for f in result.findings} == SEED_FINDINGS
    assert all(f.sheet == SHEET and f.source_file == f"seed.{'xlsx' if fmt == 'source' else fmt}"
               for f in result.findings)


@pytest.mark.parametrize("variant", ["seed", "formula_numeric"])
@pytest.mark.parametrize("fmt", CONVERTED)
def test_converted_file_parses_identically(lo_files, variant, fmt, tmp_path):
    """Every indicator, label anchor and A1 reference as in the XlsxWriter original."""
    base = process_file(lo_files[variant, "source"], tmp_path / "base")
    other = process_file(lo_files[variant, fmt], tmp_path / "other")
    pd.testing.assert_frame_equal(other.indicators, base.indicators)
    for col in ("cells", "blocks", "categories", "weight_sum", "total_weight", "empty_required_ref"):
        assert other.forms.iloc[0][col] == base.forms.iloc[0][col], col


@pytest.mark.parametrize("fmt", CONVERTED)
def test_libreoffice_recalculated_the_formulas(lo_files, fmt):
    """The cached values in LibreOffice's files are its own results, not XlsxWriter's.

    formula_numeric: 得分 = ROUND(MIN(56.85%,1)×10,2) = 5.69, 总分 = 90 + 5.69.
    formula: 分值 is the text "10 分", so 得分 and 总分 are #VALUE! in a real spreadsheet
    (a reader sees an empty cell); the template writer caches the same error.
    """
    numeric = lo_files["formula_numeric", fmt]
    assert cached(numeric, "G6") == pytest.approx(RATE, abs=1e-12)
    assert cached(numeric, "H6") == pytest.approx(5.69)
    assert cached(numeric, "H37") == pytest.approx(95.69)
    source = lo_files["formula", "source"]
    # XlsxWriter stores "#VALUE!" as an error cell, which calamine reads as empty, as for LibreOffice.
    assert (cached(source, "H6"), cached(source, "H37")) == (None, None)
    text_weight = lo_files["formula", fmt]
    assert cached(text_weight, "F6") == "10 分"
    assert cached(text_weight, "G6") == pytest.approx(RATE, abs=1e-12)
    assert (cached(text_weight, "H6"), cached(text_weight, "H37")) == (None, None)
    if fmt == "xlsx":
        import openpyxl

        ws = openpyxl.load_workbook(text_weight, data_only=True)[SHEET]
        assert (ws["H6"].value, ws["H37"].value) == ("#VALUE!", "#VALUE!")


@pytest.mark.parametrize("variant", ["formula", "formula_numeric"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_formula_variants_use_cached_values(lo_files, variant, fmt, tmp_path):
    path = lo_files[variant, fmt]
    rate, budget_score, total = (cached(path, ref) for ref in ("G6", "H6", "H37"))
    for ref, got, want in zip(("G6", "H6", "H37"), (rate, budget_score, total), VARIANT_CACHED[variant],
                              strict=True):
        assert same(got, want), f"{ref}: cached {got!r}, expected {want!r}"
    assert sorted(expected_findings(rate, budget_score, total)) == VARIANT_FINDINGS[variant]
    result = process_file(path, tmp_path)
    form = only_form(result)
    assert_recomputed_figures(form)
    assert same(form["rate_reported"], rate)
    assert same(form["budget_score_reported"], budget_score)
    assert same(form["total_reported"], total)
    rules = sorted(f.rule for f in result.findings)
    assert rules == sorted(expected_findings(rate, budget_score, total)), (
        f"cached G6={rate!r} H6={budget_score!r} H37={total!r}; findings "
        f"{[(f.rule, f.cell, f.message) for f in result.findings]}")
    assert rules == VARIANT_FINDINGS[variant]


# --- 2. our output in a real spreadsheet program --------------------------------------------

@dataclass
class Printed:
    result: RunResult
    consolidated: Path
    code: int
    out: str
    err: str
    pdf: Path


@pytest.fixture(scope="module")
def printed(libreoffice, lo_files, tmp_path_factory) -> Printed:
    """A run over the seed and a broken file; its consolidated.xlsx printed to PDF by LibreOffice."""
    base = tmp_path_factory.mktemp("print")
    inbox, outbox = base / "inbox", base / "outbox"
    inbox.mkdir()
    shutil.copy(lo_files["seed", "source"], inbox / "seed.xlsx")
    (inbox / "broken.xlsx").write_bytes(random.Random(2023).randbytes(4096))
    result = run(inbox, outbox, Config())
    consolidated = outbox / "consolidated.xlsx"
    code, out, err, (pdf,) = libreoffice.convert_raw([consolidated], "pdf", base / "render")
    return Printed(result, consolidated, code, out, err, pdf)


def _keep(path: Path, name: str) -> Path:
    """A copy in XLBATCH_RENDER_DIR when it is set, for a human to look at."""
    keep = os.environ.get("XLBATCH_RENDER_DIR")
    if not keep:
        return path
    Path(keep).mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(path, Path(keep) / name))


def test_consolidated_workbook_prints_to_pdf(printed, capsys):
    result, consolidated = printed.result, printed.consolidated
    assert {f.path: (f.status, f.code) for f in result.files} == {
        "seed.xlsx": ("accepted", ""), "broken.xlsx": ("rejected", "FILE_UNREADABLE")}
    assert consolidated.is_file()

    code, out, err, pdf = printed.code, printed.out, printed.err, printed.pdf
    assert code == 0, f"soffice exit {code}\nstdout: {out}\nstderr: {err}"
    assert pdf.is_file(), f"no PDF written\nstdout: {out}\nstderr: {err}"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 1024
    with capsys.disabled():
        print(f"\n[render] PDF: {_keep(pdf, 'consolidated.pdf')}")


def test_pdf_text_names_the_unit_the_rule_and_the_rejected_file(printed, pdftotext):
    assert printed.pdf.is_file(), "no PDF (see test_consolidated_workbook_prints_to_pdf)"
    text = subprocess.run([pdftotext, "-layout", str(printed.pdf), "-"], capture_output=True,
                          text=True, timeout=60, check=True).stdout
    for expected in ("承德县社会保险事业服务中心", "LOW_EXECUTION", "broken.xlsx", "FILE_UNREADABLE"):
        assert expected in text, f"{expected!r} not in the PDF's text"


def test_pdf_first_page_renders_to_png(printed, pdftoppm, tmp_path, capsys):
    assert printed.pdf.is_file(), "no PDF (see test_consolidated_workbook_prints_to_pdf)"
    prefix = tmp_path / "render" / "page"
    prefix.parent.mkdir()
    subprocess.run([pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", str(printed.pdf),
                    str(prefix)], capture_output=True, timeout=60, check=True)
    pages = sorted(prefix.parent.glob("page-*.png"))  # page-1.png, or page-01.png past 9 pages
    assert len(pages) == 1, pages
    png = pages[0]
    assert png.read_bytes().startswith(b"\x89PNG")
    _warn_without_cjk_font()
    with capsys.disabled():
        print(f"\n[render] PNG of page 1: {_keep(png, 'consolidated-page1.png')}")


def _warn_without_cjk_font() -> None:
    if not shutil.which("fc-list"):
        return
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30).stdout
    if not fonts.strip():
        warnings.warn("no Chinese font installed: the PDF/PNG show boxes instead of Chinese text "
                      "(apt-get install -y fonts-wqy-zenhei, as the README says)", stacklevel=2)
