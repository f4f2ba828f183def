"""Workbooks whose number cells store what no clerk types but files do carry: 1e309, Infinity, NaN.

XlsxWriter refuses to write infinity or NaN as a number, but the cell XML may hold any text in
<v>, and calamine reads `<v>1e309</v>`, `<v>Infinity</v>` and `<v>inf</v>` as float inf and
`<v>NaN</v>` as NaN (an overflowed export, a hand-edited file). `store_numbers` writes the form
with placeholder numbers and then rewrites those cells' stored values.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def store_numbers(path: Path, stored: dict[float, str]) -> Path:
    """Replace each placeholder number's stored value in every worksheet of `path`."""
    with zipfile.ZipFile(path) as src:
        parts = [(item, src.read(item)) for item in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item, data in parts:
            if item.filename.startswith("xl/worksheets/"):
                for placeholder, text in stored.items():
                    old = f"<v>{placeholder!r}</v>".encode()
                    assert old in data, f"placeholder {placeholder!r} not in {item.filename}"
                    data = data.replace(old, f"<v>{text}</v>".encode())
            dst.writestr(item, data)
    path.write_bytes(out.getvalue())
    return path
