"""Intake: from the inbox to cell values.

discover  lists the inbox's files and what each is (spreadsheet, ignored, and why);
safety    judges a file safe to open (size, compression ratio, XML declarations) before any parser sees it;
read      reads a workbook once into plain sheets of cell values.
"""
