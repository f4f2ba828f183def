"""The command line on a terminal, in Chinese: argparse's own messages and help (`chinese`,
`HelpFormatter`), and text wrapped to the terminal's width the way Chinese is set (`wrap`).

argparse passes every text it prints through gettext (`_()` and `ngettext()` at module level), so a
translation table keyed by its message ids translates them exactly, the ones the command line
triggers today and the ones it may trigger later, without re-parsing English text. A subclass
would have to rewrite `error` and the usage formatter and still meet messages built deep inside
`parse_known_args` (required arguments, invalid choices, mutually exclusive options) already in
English. A compiled .mo catalogue under gettext's global domain would hang on LANGUAGE/LANG and
change every gettext user of the process; `chinese()` instead installs the table for argparse
only, while the command line builds its parser and parses (the default -h help is set when a
parser is built).

The table holds the ids of Python 3.11's argparse that a person can meet; the ones only a
programmer meets (a parser built wrongly) stay English, as they are raised, not printed.
"""

from __future__ import annotations

import argparse
import contextlib
import gettext
import re

from rich.cells import cell_len, chop_cells

MESSAGES = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助信息并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "参数 %s 必须给出其中一个",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多需要一个值",
    "expected at least one argument": "至少需要一个值",
    "ambiguous option: %(option)s could match %(matches)s": "有歧义的选项：%(option)s 可能是 %(matches)s",
    "ignored explicit argument %r": "多余的值 %r 被忽略",
    "unexpected option string: %s": "意外的选项：%s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的命令 %(parser_name)r（可选：%(choices)s）",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
}
PLURALS = {  # singular id → the one Chinese form
    "expected %s argument": "需要 %s 个值",
}


class _Table(gettext.NullTranslations):
    """A gettext catalogue from the tables above; an id not in them passes through unchanged."""

    def gettext(self, message: str) -> str:
        return MESSAGES.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if singular in PLURALS:
            return PLURALS[singular]
        return singular if n == 1 else plural


_TABLE = _Table()


@contextlib.contextmanager
def chinese():
    """argparse's messages in Chinese while the block runs (restored after, also on SystemExit)."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _TABLE.gettext, _TABLE.ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help laid out by display width: a Chinese character takes two terminal columns.

    argparse measures with len(): its usage and help lines ran past the terminal's width, and the
    help column shifted right by a column per Chinese character of an option's metavar (--config 文件).
    Its section headings end in an ASCII colon, which becomes a Chinese one."""

    HEADINGS = ("位置参数", "选项", "命令")

    def format_help(self) -> str:
        text = super().format_help()
        for heading in self.HEADINGS:
            text = text.replace(f"\n{heading}:\n", f"\n{heading}：\n")
        return text

    def _format_usage(self, usage, actions, groups, prefix) -> str:
        saved = self._width
        try:
            for _attempt in range(4):  # narrower until its widest line fits
                text = super()._format_usage(usage, actions, groups, prefix)
                over = max(cell_len(line) for line in text.splitlines()) - saved
                if over <= 0:
                    break
                self._width -= over
        finally:
            self._width = saved
        return text

    def _split_lines(self, text: str, width: int) -> list[str]:
        text = self._whitespace_matcher.sub(" ", text).strip()
        return [text[start:end] for start, end in wrap(text, width)]

    def _format_action(self, action: argparse.Action) -> str:
        out = super()._format_action(action)
        invocation = self._format_action_invocation(action)
        first, sep, rest = out.partition("\n")
        start = first.find(invocation)
        if start < 0 or cell_len(invocation) == len(invocation):
            return out
        head, tail = first[:start + len(invocation)], first[start + len(invocation):].lstrip(" ")
        if not tail:
            return out
        column = min(self._action_max_length + 2, self._max_help_position)
        if cell_len(head) + 2 <= column:
            first = head + " " * (column - cell_len(head)) + tail
        else:  # wider than the help column: the help starts on the next line, as argparse does it
            first = head + "\n" + " " * column + tail
        return first + sep + rest


# Chinese punctuation that never starts a line, and that never ends one (JIS X 4051's 禁则, in short).
_NO_LINE_START = set("，。、；：？！）」』》〉】”’%…·")
_NO_LINE_END = set("（「『《〈【“‘")
_TOKEN = re.compile(r"[A-Za-z0-9_.,:/%+\-=<>≥≤~#@&*'\"()\[\]]+| +|.")


def wrap(text: str, width: int) -> list[tuple[int, int]]:
    """The lines of `text` at most `width` display columns wide (a Chinese character counts 2), as
    (start, end) offsets: a line breaks at a space or between two Chinese characters; a Latin word
    or number stays whole unless it alone is wider than a line; closing punctuation does not start
    a line, opening punctuation does not end one. Spaces at a break are dropped."""
    lines: list[tuple[int, int]] = []
    offset = 0
    for paragraph in text.split("\n"):
        tokens = [(m.start() + offset, m.end() + offset) for m in _TOKEN.finditer(paragraph)]
        lines.extend(_fill(text, tokens, width) or [(offset, offset)])
        offset += len(paragraph) + 1
    return lines


def _fill(text: str, tokens: list[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    lines, line = [], []  # line: the tokens of the line being filled
    for start, end in _cut_wide(text, tokens, width):
        token = text[start:end]
        if token.isspace() and not line:
            continue
        used = sum(cell_len(text[a:b]) for a, b in line)
        if used + cell_len(token) > width and line:
            carry = [] if token.isspace() else _carried(text, line, (start, end), width)
            lines.append(_span(text, line))
            line = carry
            if token.isspace():
                continue
        line.append((start, end))
    if line:
        lines.append(_span(text, line))
    return lines


def _carried(text: str, line: list[tuple[int, int]], following: tuple[int, int],
             width: int) -> list[tuple[int, int]]:
    """The tokens taken from the end of `line` to the next line (禁则), so that the next line does
    not start with closing punctuation nor this one end with opening punctuation; none when that
    would leave this line less than half full (a run of brackets) or not fit the next one."""
    carry: list[tuple[int, int]] = []
    first = following[0]
    while len(line) > 1 and (text[first] in _NO_LINE_START or text[line[-1][0]] in _NO_LINE_END):
        carry.insert(0, line.pop())
        first = carry[0][0]
    taken = sum(cell_len(text[a:b]) for a, b in [*carry, following])
    if sum(cell_len(text[a:b]) for a, b in line) * 2 < width or taken > width:
        line.extend(carry)
        return []
    return carry


def _cut_wide(text: str, tokens, width: int):
    """The tokens, a word wider than a line cut into pieces of the line's width."""
    for start, end in tokens:
        while cell_len(text[start:end]) > width:
            piece = len(chop_cells(text[start:end], width)[0])
            yield start, start + piece
            start += piece
        yield start, end


def _span(text: str, line: list[tuple[int, int]]) -> tuple[int, int]:
    end = line[-1][1]
    while end > line[0][0] and text[end - 1] == " ":
        end -= 1
    return line[0][0], end
