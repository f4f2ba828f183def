"""The container scan (safety.py): what it must find however the bytes are laid out.

The extent scan is checked against the plain definition — every cell tag with content, one at a
time, in document order — on generated tag soup, and end to end on worksheets large enough to be
read in several chunks, with the far cell and the DOCTYPE placed where chunks meet.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlbatch import safety
from xlbatch.config import Config
from xlbatch.safety import Extent, ReadError, inspect_zip

LIMITS = Config().limits
_PLAIN_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d{1,7})"[^>]*?(/?)>')
_PLAIN_ROW = re.compile(rb'<row\b[^>]*?\br="(\d{1,7})"[^>]*?(/?)>')


def _plain_scan(window: bytes, extent: Extent) -> None:
    """The definition: each cell with content that reaches further names the extent, then rows."""
    for col, row, empty in _PLAIN_CELL.findall(window):
        r, c = int(row), safety._col_number(col)
        if not empty and (r > extent.rows or c > extent.cols):
            extent.rows, extent.cols = max(extent.rows, r), max(extent.cols, c)
            extent.ref = f"{col.decode()}{row.decode()}"
    for row, empty in _PLAIN_ROW.findall(window):
        if not empty and int(row) > extent.rows:
            extent.rows, extent.ref = int(row), f"第 {int(row)} 行"


# Tag soup: well-formed cells and rows, and the pieces a hostile or broken file could shuffle.
_TOKENS = st.sampled_from([
    b'<c r="A1">', b'<c r="B2" t="s">', b'<c r="A100">', b'<c r="Z1">', b'<c r="C50">',
    b'<c r="XFD1048576">', b'<c r="AA10"/>', b'<c s="1" r="C3">',
    b'<c r="D4" r="E9">', b'<c r="a1">', b'<c r="ABCD1">', b'<col r="Z9">', b'<cr="Z9">', b'<c x:r="F6">',
    b'<row r="7">', b'<row r="12"/>', b'<row spans="1:3" r="20">', b'<c', b'<row', b' r="G', b'Q', b'12',
    b'00', b'"', b"'", b"/", b">", b" ", b"<v>1</v></c>", b"</row>", b"r=", b"<", b"\n",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_TOKENS, max_size=40).map(b"".join), min_size=1, max_size=4))
def test_extent_scan_matches_the_plain_definition(windows):
    fast, plain = Extent(), Extent()
    for window in windows:
        assert safety._CELL.findall(window) == [(c, r) for c, r, empty in _PLAIN_CELL.findall(window) if not empty]
        assert safety._ROW.findall(window) == [r for r, empty in _PLAIN_ROW.findall(window) if not empty]
        safety._scan_extent(window, fast)
        _plain_scan(window, plain)
        assert fast == plain


def _sheet_xml(cells: int, far: str | None = None, prolog: bytes = b"") -> bytes:
    """A worksheet of `cells` one-character cells (~40 bytes each), `far` placed in the middle."""
    rows = [b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (i, i)
            for i in range(1, cells + 1)]
    if far:
        rows.insert(cells // 2, b'<row r="9"><c r="%s"><v>1</v></c></row>' % far.encode())
    return (b'<?xml version="1.0"?>' + prolog + b"<worksheet><sheetData>" + b"".join(rows)
            + b"</sheetData></worksheet>")


def _xlsx(tmp_path: Path, sheet: bytes, name: str = "a.xlsx") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def _extent(path: Path) -> Extent:
    with zipfile.ZipFile(path) as archive:
        return safety._stream_members(archive, archive.infolist(), LIMITS)["xl/worksheets/sheet1.xml"]


def test_far_cell_deep_in_a_sheet_read_in_many_chunks_is_found(tmp_path):
    sheet = _sheet_xml(40_000, far="XFD1048576")
    assert len(sheet) > 4 * safety._CHUNK
    plain = Extent()
    _plain_scan(sheet, plain)
    assert (plain.rows, plain.cols, plain.ref) == (1048576, 16384, "XFD1048576")
    assert _extent(_xlsx(tmp_path, sheet)) == plain


@pytest.mark.parametrize("shift", range(0, 40, 7))
def test_a_cell_or_doctype_split_by_a_chunk_boundary_is_still_seen(tmp_path, shift):
    head = b'<?xml version="1.0"?><worksheet><sheetData>'
    for marker, expect in ((b'<row r="5"><c r="XFD5"><v>1</v></c></row>', "XFD5"),
                           (b"<!DOCTYPE x>", None)):
        pad = b" " * (safety._CHUNK - len(head) - len(marker) // 2 - shift)
        sheet = head + pad + marker + b"</sheetData></worksheet>"
        path = _xlsx(tmp_path, sheet, f"{shift}-{expect}.xlsx")
        if expect is None:
            with pytest.raises(ReadError) as refused:
                _extent(path)
            assert refused.value.code == "FILE_UNSAFE"
        else:
            assert _extent(path).ref == expect


def test_styled_empty_far_cells_do_not_count_but_far_rows_do(tmp_path):
    sheet = (b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c><c r="XFD1" s="2"/></row>'
             b'<row r="2000000"><c t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>')
    extent = _extent(_xlsx(tmp_path, sheet))
    assert (extent.rows, extent.cols, extent.ref) == (2000000, 1, "第 2000000 行")


def test_doctype_in_any_xml_part_is_refused_even_late(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", _sheet_xml(10))
        z.writestr("docProps/custom.xml", b"<a>" + b" " * (3 * safety._CHUNK) + b"<!ENTITY e 'x'></a>")
    (tmp_path / "late.xlsx").write_bytes(out.getvalue())
    with pytest.raises(ReadError) as refused:
        inspect_zip(tmp_path / "late.xlsx", ".xlsx", LIMITS)
    assert refused.value.code == "FILE_UNSAFE" and "docProps/custom.xml" in refused.value.message
