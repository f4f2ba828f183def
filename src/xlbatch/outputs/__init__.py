"""Outputs: what the run publishes in the outbox.

write                  the CSVs, run.json and the workbook, published together;
workbook               consolidated.xlsx, sheet by sheet: overview (汇总, charts), unit_sheets, change_sheet;
formats                the cell formats every workbook shares (the blank template's too);
reviews, changes       what a previous workbook and run carry into this one (reviews, 变更记录);
template               the blank form a bureau hands to its units.
"""
