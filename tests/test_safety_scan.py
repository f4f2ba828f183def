"""The container scan (safety.py): what it must find however the bytes are laid out.

The extent scan (expat) is checked against the plain definition — over a model of rows and cells,
not over XML — on generated sheets written every way the markup allows (quotes, prefixes, attribute
order, ">" inside values, rows and cells without r) and fed in arbitrary pieces; and end to end on
worksheets large enough to be read in several chunks, with the far cell and the DOCTYPE placed where
chunks meet.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlbatch.config import Config
from xlbatch.intake import safety
from xlbatch.intake.safety import Extent, ReadError, inspect_zip

LIMITS = Config().limits

# A cell: (explicit (row, col) or None, holds a value, how it is written); a row: (r or None, cells).
_CELL = st.tuples(st.none() | st.tuples(st.integers(1, 1_100_000), st.integers(1, 17_000)), st.booleans(),
                  st.sampled_from(["plain", "single", "prefixed", "gt_first", "r_last"]))
_ROW = st.tuples(st.none() | st.integers(1, 1_100_000), st.lists(_CELL, max_size=4), st.booleans())


def _cell_xml(at, valued: bool, how: str) -> str:
    name = "x:c" if how == "prefixed" else "c"
    ref = f"{safety._col_letters(at[1])}{at[0]}" if at else None
    quote = "'" if how == "single" else '"'
    r = f" r={quote}{ref}{quote}" if ref else ""
    attrs = f' s="1" t="n"{r}' if how == "r_last" else f' xx=">"{r}' if how == "gt_first" else r
    value = "<x:v>1</x:v>" if how == "prefixed" else "<v>1</v>"
    return f"<{name}{attrs}>{value}</{name}>" if valued else f"<{name}{attrs}/>"


def _row_xml(r, cells, open_: bool) -> str:
    tag = f"<row r='{r}' spans='1:2'" if r else "<row"
    return f"{tag}>{''.join(_cell_xml(*c) for c in cells)}</row>" if cells or open_ else f"{tag}/>"


def _sheet_of(rows) -> bytes:
    body = "".join(_row_xml(*row) for row in rows)
    return f'<worksheet xmlns:x="urn:x"><sheetData>{body}</sheetData></worksheet>'.encode()


def _plain_extent(rows) -> Extent:
    """The definition, as calamine numbers cells: a row without r follows the highest row seen, a cell
    without r the highest column seen in its row; cells holding a value, and rows holding an element,
    reach as far as they are; a cell without r is named by its row unless it widens the sheet."""
    extent, top = Extent(), 0
    for r, cells, _ in rows:
        row = r or top + 1
        top, col = max(top, row), 0
        for at, valued, _how in cells:
            cr, cc = at or (row, col + 1)
            col = max(col, cc)
            if valued and (cr > extent.rows or cc > extent.cols):
                ref = (f"{safety._col_letters(cc)}{cr}" if at or cc > extent.cols else f"第 {cr} 行")
                extent.rows, extent.cols, extent.ref = max(extent.rows, cr), max(extent.cols, cc), ref
        if cells and row > extent.rows:
            extent.rows, extent.ref = row, f"第 {row} 行"
    return extent


@settings(max_examples=400, deadline=None)
@given(st.lists(_ROW, max_size=8), st.lists(st.integers(1, 400), max_size=6))
def test_extent_scan_matches_the_plain_definition(rows, cuts):
    sheet = _sheet_of(rows)
    scan = safety._SheetScan("xl/worksheets/sheet1.xml")
    for start, end in zip([0, *sorted(cuts)], [*sorted(cuts), len(sheet)], strict=True):
        scan.feed(sheet[start:end])  # expat keeps what a piece leaves unfinished
    scan.feed(b"", final=True)
    assert scan.error == "" and scan.extent == _plain_extent(rows)


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
    assert _extent(_xlsx(tmp_path, sheet)) == Extent(1048576, 16384, "XFD1048576")


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
        inspect_zip((tmp_path / "late.xlsx").read_bytes(), ".xlsx", LIMITS)
    assert refused.value.code == "FILE_UNSAFE" and "docProps/custom.xml" in refused.value.message


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("marker", ["<!DOCTYPE sst>", "<!ENTITY e 'x'>"])
@pytest.mark.parametrize("shift", [0, 2, 10, 16])
def test_a_utf16_dtd_in_a_part_that_is_no_worksheet_is_refused(tmp_path, encoding, marker, shift):
    """Only worksheets are parsed: in any other part the byte search alone must find it, in UTF-16 too,
    even split by a chunk boundary (`shift` bytes of the marker before it)."""
    head = '<?xml version="1.0" encoding="UTF-16"?><sst>'.encode(encoding)
    pad = b" \0" if encoding == "utf-16-le" else b"\0 "
    pad *= (safety._CHUNK - len(head) - shift) // 2
    text = head + pad + marker.encode(encoding) + "</sst>".encode(encoding)
    path = tmp_path / "u16.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", _sheet_xml(10))
        z.writestr("xl/sharedStrings.xml", text)
    with pytest.raises(ReadError) as refused:
        inspect_zip(path.read_bytes(), ".xlsx", LIMITS)
    assert refused.value.code == "FILE_UNSAFE" and "xl/sharedStrings.xml" in refused.value.message
