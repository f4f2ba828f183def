"""LibreOffice headless as a real client: fixtures that convert and render workbooks.

Loaded by test modules with `pytest_plugins = ["lo"]`. The sources are the seed form
and its formula variants (VARIANTS) and the drifted workbooks of variants.LO_SOURCES;
targets .xlsx, .xlsm, .xls and .ods. One soffice invocation per
target format converts every source file at once (start-up is the slow part), in
a private user profile per session, so a parallel or half-initialised profile of
someone else's LibreOffice never interferes. The profile is pre-seeded to
recalculate formulas on load: by default LibreOffice keeps the cached values of
.xlsx/.ods files it did not write itself, and the point of these fixtures is
cached values that a real spreadsheet program computed.

No LibreOffice on PATH (or no poppler tool the PDF checks need) is a test failure
when CI is set (.ci/run installs them), and a skip naming the install command
otherwise (README: "Without it those tests fail ... when CI is set, and are
reported as skipped (with the reason) otherwise").
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from seed import seed_form
from variants import LO_SOURCES

from xlbatch.outputs.template import write_workbook

# The README's install line for the real-client tests (the font so that Chinese renders in the PDF).
INSTALL = "apt-get install -y libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-wqy-zenhei"
SOFFICE_MISSING = f"LibreOffice (soffice) not installed: {INSTALL}"
TIMEOUT_S = 120

# --convert-to targets: file extension → "ext:FilterName" as soffice takes it.
TARGETS = {
    "xlsx": 'xlsx:Calc MS Excel 2007 XML',
    "xlsm": "xlsm:Calc MS Excel 2007 VBA XML",  # macro-enabled OOXML (no macros in it)
    "xls": "xls:MS Excel 97",  # BIFF8
    "ods": "ods:calc8",
    "pdf": "pdf:calc_pdf_Export",
}

# Always recalculate on load (0 = always, 1 = never (the default), 2 = ask) for
# OOXML (.xlsx) and ODF (.ods) files. The sources here are all .xlsx.
_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""

# The seed form and two formula variants (SPEC section 1: "formulas (use the cached value)").
# "formula": 执行率, 得分 and 总分 as formulas, the 分值 cell still typed as text "10 分" the
# way the seed shows it — so ROUND(MIN(G6,1)*F6,2) is #VALUE! in a real spreadsheet and
# so is 总分 = SUM(H13:H36)+H6, while XlsxWriter cached 0 and 90.
# "formula_numeric": the same with 分值 a number, so every formula has a real result.
FORMULAS = {"rate": "formula", "budget_score": "formula", "total_reported": "formula"}
VARIANTS = {
    "seed": {},
    "formula": FORMULAS,
    "formula_numeric": {**FORMULAS, "budget_weight": 10},
}
SHEET = "自评表"
CONVERTED = ("xlsx", "xlsm", "xls", "ods")


@dataclass
class LibreOffice:
    exe: str
    profile: Path

    def convert(self, sources: list[Path], fmt: str, outdir: Path) -> list[Path]:
        """Convert `sources` to `fmt` in one soffice run; the converted paths, in order."""
        code, out, err, results = self.convert_raw(sources, fmt, outdir)
        missing = [p.name for p in results if not p.is_file()]
        if code != 0 or missing:
            pytest.fail(f"soffice --convert-to {TARGETS[fmt]} failed (exit {code}, missing {missing}):\n"
                        f"stdout: {out}\nstderr: {err}")
        return results

    def convert_raw(self, sources: list[Path], fmt: str, outdir: Path) -> tuple[int, str, str, list[Path]]:
        """One soffice run: (exit code, stdout, stderr, the paths the outputs should have)."""
        outdir.mkdir(parents=True, exist_ok=True)
        cmd = [self.exe, f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--norestore",
               "--nologo", "--nolockcheck", "--convert-to", TARGETS[fmt], "--outdir", str(outdir),
               *map(str, sources)]
        code, out, err = _run(cmd, TIMEOUT_S)
        return code, out, err, [outdir / f"{src.stem}.{fmt}" for src in sources]


def _run(cmd: list[str], timeout: float) -> tuple[int, str, str]:
    # soffice is a wrapper script that starts soffice.bin: run it in its own process group
    # so a hang is killed entirely, and only what we started.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, stdin=subprocess.DEVNULL)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"soffice did not finish within {timeout:.0f} s: {' '.join(cmd)}\n{out}\n{err}")
    return proc.returncode, out, err


def missing(reason: str) -> None:
    """CI installs the real clients (.ci/run), so there a missing one is a failure. On a
    developer's machine with only Python the real-client tests say why they did not run."""
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def soffice_exe() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        missing(SOFFICE_MISSING)
    return exe


def poppler_exe(name: str) -> str:
    """pdftotext / pdftoppm (poppler-utils), which the PDF checks need beside LibreOffice."""
    exe = shutil.which(name)
    if exe is None:
        missing(f"{name} (poppler-utils) not installed: {INSTALL}")
    return exe


@pytest.fixture(scope="session")
def pdftotext() -> str:
    return poppler_exe("pdftotext")


@pytest.fixture(scope="session")
def pdftoppm() -> str:
    return poppler_exe("pdftoppm")


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory: pytest.TempPathFactory) -> LibreOffice:
    exe = soffice_exe()
    profile = tmp_path_factory.mktemp("lo_profile")
    (profile / "user").mkdir()
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
    return LibreOffice(exe, profile)


@pytest.fixture(scope="session")
def lo_files(libreoffice: LibreOffice, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """{(name, format): file}: each VARIANTS form and each variants.LO_SOURCES workbook as
    written by XlsxWriter ("source"), and as LibreOffice recalculated and saved it as .xlsx,
    .xlsm, .xls and .ods (one soffice run per format, all sources at once)."""
    base = tmp_path_factory.mktemp("lo_files")
    src_dir = base / "source"
    src_dir.mkdir()
    sources = {name: write_workbook(src_dir / f"{name}.xlsx", [(SHEET, seed_form(**kw))])
               for name, kw in VARIANTS.items()}
    sources.update({name: build(src_dir / f"{name}.xlsx") for name, build in LO_SOURCES.items()})
    files = {(name, "source"): path for name, path in sources.items()}
    for fmt in CONVERTED:
        converted = libreoffice.convert(list(sources.values()), fmt, base / fmt)
        files.update({(name, fmt): path for name, path in zip(sources, converted, strict=True)})
    return files
