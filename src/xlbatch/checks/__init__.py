"""Checks: the rule catalogue and the national scoring rules.

rules     every rule code as one named object (severity, Chinese title, description, checks);
score     execution rates, indicator scores, totals and grades recomputed;
validate  runs the catalogue's checks as named pandera checks and turns failures into findings.
"""
