"""The form: from cell values to typed form records and frames.

vocabulary the form's words: each field's role, the label stems that find it, the name outputs show;
values     what a cell says (amounts, percents, measures, blanks);
parse      finds a self-evaluation form in a sheet by its labels;
analyse    one file's forms or the finding that rejects it (the unit of work an executor runs);
normalize  forms as the two frames the checks read (one row per form, one per indicator).
"""
