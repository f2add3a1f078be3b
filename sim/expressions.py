"""Conditions and quantities over a sweep's outcomes: ``--where 'max_rung >= 9'``, ``--outcome``.

An expression is Python syntax limited to names, numbers, strings, comparisons (chains too),
``and``, ``or``, ``not``, ``+ - * /`` and parentheses. Names are columns of the runs table:
outcomes (``redline_crossed``), dotted outcomes (``n_attacks_by_group.Kata'ib Hezbollah`` in
backticks, since it holds spaces; ``days_at_rung.WAR`` needs none) and swept parameters. A missing
value (a censored day) compares false. Anything else is bad input, named in one line.
"""

import ast
import difflib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import InputError

COMPARISONS: dict[type, Callable] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
ARITHMETIC: dict[type, Callable] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
SLUG_WORDS = {">=": "ge", "<=": "le", "==": "eq", "!=": "ne", ">": "gt", "<": "lt"}
QUOTED = re.compile(r"`([^`]*)`")
NOT_COLUMNS = {"status", "error"}


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its syntax tree and the columns it reads."""

    text: str
    tree: ast.Expression
    quoted: dict[str, str]
    option: str

    @property
    def columns(self) -> list[str]:
        """The column names the expression uses, in order of first use."""
        names = [self.column(node) for node in ast.walk(self.tree) if is_name(node)]
        return list(dict.fromkeys(names))

    def column(self, node: ast.AST) -> str:
        """The column a name node stands for (a dotted name is one column)."""
        if isinstance(node, ast.Attribute):
            return f"{self.column(node.value)}.{node.attr}"
        return self.quoted.get(node.id, node.id)

    def show(self, node: ast.AST) -> str:
        """A part of the expression as the user wrote it."""
        text = ast.unparse(node)
        for name, column in self.quoted.items():
            text = text.replace(name, f"`{column}`")
        return text

    def slug(self) -> str:
        """A file-name-safe name: ``max_rung >= 9`` -> ``max_rung_ge_9``."""
        text = self.text
        for symbol, word in SLUG_WORDS.items():
            text = text.replace(symbol, f" {word} ")
        return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "condition"


def is_name(node: ast.AST) -> bool:
    """A name, or a dotted name whose innermost part is a name (``days_at_rung.WAR``)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def parse(text: str, columns: list[str], option: str = "--where") -> Expression:
    """Parse ``text`` and check that every name it uses is one of ``columns``."""
    quoted: dict[str, str] = {}

    def placeholder(match: re.Match) -> str:
        name = f"_quoted_{len(quoted)}"
        quoted[name] = match.group(1)
        return name

    source = QUOTED.sub(placeholder, text)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        raise InputError(option, repr(text), f"invalid syntax ({error.msg})") from None
    expression = Expression(text, tree, quoted, option)
    check_nodes(expression)
    known = [c for c in columns if c not in NOT_COLUMNS]
    for name in expression.columns:
        if name not in known:
            raise InputError(option, repr(text), unknown_name(name, known))
    return expression


def unknown_name(name: str, known: list[str]) -> str:
    """'unknown outcome X' with the closest known names."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"unknown outcome or parameter {name!r}{hint}"


def check_nodes(expression: Expression) -> None:
    """Only the allowed syntax: no calls, subscripts, lambdas or other Python."""
    allowed = (
        ast.Expression,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.Compare,
        ast.BinOp,
        ast.Name,
        ast.Attribute,
        ast.Constant,
        ast.Load,
        *COMPARISONS,
        *ARITHMETIC,
    )
    for node in ast.walk(expression.tree):
        if not isinstance(node, allowed):
            raise InputError(
                expression.option,
                repr(expression.text),
                f"{type(node).__name__.lower()} is not allowed (use names, numbers, "
                "comparisons, and/or/not, + - * /)",
            )
        if isinstance(node, ast.Attribute) and not is_name(node):
            raise InputError(expression.option, repr(expression.text), "attributes not allowed")


def value_of(expression: Expression, node: ast.AST, table: pd.DataFrame) -> np.ndarray | object:
    """The value of one node: an array over the rows, or a constant."""
    if is_name(node):
        return column_values(table[expression.column(node)])
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BoolOp):
        parts = [condition(expression, value, table) for value in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return combine.reduce(parts)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return ~condition(expression, node.operand, table)
        return -number(expression, node.operand, table)
    if isinstance(node, ast.BinOp):
        left = number(expression, node.left, table)
        right = number(expression, node.right, table)
        with np.errstate(divide="ignore", invalid="ignore"):
            return ARITHMETIC[type(node.op)](left, right)
    return comparison(expression, node, table)


def comparison(expression: Expression, node: ast.Compare, table: pd.DataFrame) -> np.ndarray:
    """A (chained) comparison, false where a value is missing."""
    result = np.ones(len(table), dtype=bool)
    left = value_of(expression, node.left, table)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = value_of(expression, right_node, table)
        try:
            with np.errstate(invalid="ignore"):
                result &= np.asarray(COMPARISONS[type(op)](left, right), dtype=bool)
        except TypeError:
            raise InputError(
                expression.option, repr(expression.text), "compares text with a number"
            ) from None
        left = right
    return result


def column_values(column: pd.Series) -> np.ndarray:
    """A column as an array: booleans stay booleans, numbers become floats (missing: NaN)."""
    if pd.api.types.is_bool_dtype(column):
        return column.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=float, na_value=np.nan)
    return column.astype(object).to_numpy()


def condition(expression: Expression, node: ast.AST, table: pd.DataFrame) -> np.ndarray:
    """A node that must be true or false in each row."""
    value = value_of(expression, node, table)
    if isinstance(value, np.ndarray) and value.dtype == bool:
        return value
    if isinstance(value, bool):
        return np.full(len(table), value)
    what = expression.show(node)
    raise InputError(
        expression.option,
        repr(expression.text),
        f"{what} is not true or false (compare it, e.g. {what} > 0)",
    )


def number(expression: Expression, node: ast.AST, table: pd.DataFrame) -> np.ndarray | float:
    """A node that must be numeric (booleans count as 0 and 1)."""
    value = value_of(expression, node, table)
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value.astype(float)
    if isinstance(value, int | float):
        return float(value)
    raise InputError(
        expression.option, repr(expression.text), f"{expression.show(node)} is not a number"
    )


def where(expression: Expression, table: pd.DataFrame) -> np.ndarray:
    """A condition's value in each row; bad input unless it is true or false everywhere."""
    return condition(expression, expression.tree.body, table)


def quantity(expression: Expression, table: pd.DataFrame) -> np.ndarray:
    """A numeric (or true/false, as 1/0) value in each row."""
    return number(expression, expression.tree.body, table)
