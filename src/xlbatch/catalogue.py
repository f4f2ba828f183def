"""The rule catalogue's vocabulary and registry (SPEC section 3), free of pandas.

Each `Rule` is one named object: code, severity, Chinese title and description,
the stage that evaluates it, its frame checks and its message templates. A
`Check` is vectorized over one of the two frames (`forms`: one row per form;
`indicators`: one row per indicator), names the columns it `reads` and returns
True where the row passes; `describe` turns a failing row (all its columns)
into the message a clerk or auditor reads. `checks/validate.py` runs the checks
as named pandera checks, so the failure-case table is keyed by rule code.

Read-stage rules (intake/read_rules.py) have no frame check; their messages are
templates (`Rule.message`), filled where the file is refused. So have the rules of
the reports stage (checks/rules/reports.py), filled where the reports are checked.

Every rule is registered where it is defined (`register`), and the catalogue's
order is the order of registration: intake/read_rules.py first, then the
modules of checks/rules/ as its `__init__` imports them. `RULES` is complete
once `xlbatch.checks.rules` is imported; this module and the read stage do not
import it, so that reading a file loads neither pandas nor pandera.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .config import Config

FORMS, INDICATORS = "forms", "indicators"
READ, VALIDATE, EVALUATE = "read", "validate", "evaluate"
# Rules of the submission season that judge no form row (a roster unit, a file): messages, no check.
SEASON = "season"
# Rules over the forms and the units' 自评报告 together (checks/rules/reports.py): message templates, no frame check.
REPORTS = "reports"


@dataclass(frozen=True)
class Detail:
    """What a failing row tells the reader: the cell, the message, found vs expected."""

    field: str
    cell: str
    message: str
    value: str = ""
    expected: str = ""


@dataclass(frozen=True)
class Check:
    frame: str
    reads: tuple[str, ...]  # the columns `passes` reads: pandera is shown only these
    passes: Callable[[pd.DataFrame, Config], pd.Series]
    describe: Callable[[dict[str, Any], Config], Detail]


class MessageError(LookupError):
    """A message asked of a rule that has no such template, or filled with the wrong fields."""


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: str
    description: str
    stage: str
    checks: tuple[Check, ...] = ()
    # key → str.format template of a message this rule's code is raised with (read-stage rules).
    # Not hashed (a mapping is not hashable); the code identifies the rule.
    messages: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        object.__setattr__(self, "messages", dict(self.messages))  # a copy: no caller's dict changes it
        for key, template in self.messages.items():
            try:
                template_fields(template)
            except ValueError as exc:
                raise MessageError(f"{self.code}: message {key!r} is no valid template ({exc})") from None

    @property
    def titled(self) -> str:
        """How a person sees the rule: its Chinese title, the code beside it: 执行率填报有误（RATE_MISMATCH）."""
        return f"{self.title}（{self.code}）"

    def message(self, key: str, **fields: Any) -> str:
        """The message `key` filled with `fields`: exactly the fields its template names."""
        try:
            template = self.messages[key]
        except KeyError:
            known = ", ".join(self.messages) or "none"
            raise MessageError(f"{self.code} has no message {key!r} (it has: {known})") from None
        wanted = template_fields(template)
        if set(fields) != wanted:
            raise MessageError(f"{self.code} message {key!r} takes the fields {sorted(wanted)}, "
                               f"was given {sorted(fields)}")
        return template.format(**fields)


def template_fields(template: str) -> set[str]:
    """The field names a str.format template fills ("{limit:g}" → "limit"); ValueError if malformed."""
    names = set()
    for _text, name, _spec, _conversion in string.Formatter().parse(template):
        if name is not None:
            if not name or name[0].isdigit():
                raise ValueError(f"positional field in {template!r}")
            names.add(name.split(".")[0].split("[")[0])
    return names


RULES: dict[str, Rule] = {}  # code → rule, in the order registered (the catalogue's order)


def register(rule: Rule) -> Rule:
    """Add `rule` to the catalogue after those registered before it; a code is registered once."""
    if rule.code in RULES:
        raise ValueError(f"rule {rule.code} is registered twice")
    RULES[rule.code] = rule
    return rule


def titled(code: str) -> str:
    """`code` as a person sees it: its rule's Chinese title and the code (the code alone if unknown)."""
    rule = RULES.get(code)
    return rule.titled if rule else code


def registered() -> tuple[Rule, ...]:
    """The rules registered so far, in catalogue order."""
    return tuple(RULES.values())
