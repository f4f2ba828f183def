"""Benchmark: reading units' 自评报告, .docx (python-docx) and .pdf (pypdf), against pdfplumber.

    python bench/reports.py [--reports 300] [--keep DIR]

Writes N reports (default 300) after the seed's (tests/seed_report.py): each its own unit and
figures, 1 to 5 pages (section 三 repeated), every third with a ruled table of projects; LibreOffice
exports them all to PDF in one run (minutes: that is LibreOffice, not the timing). Then times, in
this process, `read_report` over every .docx and every .pdf, and pdfplumber's text (and its tables)
over the same PDFs, the alternative weighed for reading PDFs. Prints the figures; asserts only that
every report was read with its count and its figures.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from seed_report import PROJECT_TABLE, seed_report, write_report_docx  # noqa: E402

from xlbatch.intake.reports import read_report  # noqa: E402


def build(base: Path, n: int) -> tuple[list[Path], list[Path]]:
    (base / "docx").mkdir(parents=True, exist_ok=True)
    docs = []
    for i in range(n):
        paragraphs = seed_report(title=f"承德县第{i}服务中心 2023 年度预算项目绩效自评工作报告",
                                 executed=f"实际使用 {1 + i / 100:.2f} 万元")
        paragraphs = paragraphs[:-2] + paragraphs[7:9] * (i % 5) + paragraphs[-2:]
        tables = [PROJECT_TABLE] if i % 3 == 0 else []
        docs.append(write_report_docx(base / "docx" / f"r{i:03d}.docx", paragraphs, tables))
    return docs, to_pdf(base, docs)


def to_pdf(base: Path, docs: list[Path]) -> list[Path]:
    """LibreOffice's PDF of each .docx not converted yet, 100 a run: one run of 300 here stopped
    after 247 documents without a word."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    profile = (base / "profile").as_uri()
    pdfs = [base / "pdf" / f"{d.stem}.pdf" for d in docs]
    todo = [d for d, p in zip(docs, pdfs, strict=True) if not p.is_file()]
    for i in range(0, len(todo), 100):
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(base / "pdf"), *map(str, todo[i:i + 100])],
                       check=True, capture_output=True, timeout=3600)
    missing = [p.name for p in pdfs if not p.is_file()]
    assert not missing, f"LibreOffice wrote no PDF for {missing}"
    return pdfs


def timed(label: str, fn, files: list[Path]):
    started = time.perf_counter()
    out = [fn(f) for f in files]
    elapsed = time.perf_counter() - started
    print(f"{label:<34} {elapsed:6.2f} s for {len(files)} ({elapsed / len(files) * 1000:5.1f} ms each)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="build into (and keep) this folder; reuse what is there")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="xlbatch-reports-"))
    docs = sorted((base / "docx").glob("*.docx"))[: args.reports]
    if len(docs) < args.reports:
        docs, pdfs = build(base, args.reports)
    else:
        pdfs = to_pdf(base, docs)
    import docx  # noqa: F401 - the libraries' import is not the reading
    import pdfplumber
    import pypdf

    read = timed("read_report .docx (python-docx)", lambda f: read_report(f, f.name), docs)
    read += timed("read_report .pdf (pypdf)", lambda f: read_report(f, f.name), pdfs)

    def plumber(tables: bool):
        def extract(path: Path):
            with pdfplumber.open(path) as pdf:
                return [(page.extract_text(), page.extract_tables() if tables else None) for page in pdf.pages]
        return extract

    timed("pdfplumber text", plumber(False), pdfs)
    timed("pdfplumber text + tables", plumber(True), pdfs)
    pages = sum(len(pypdf.PdfReader(p).pages) for p in pdfs)
    print(f"{len(pdfs)} PDFs, {pages} pages")
    assert all(not r.error and r.declared == 6 and r.projects and r.projects[0].figure("executed") for r in read)
    if not args.keep:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
