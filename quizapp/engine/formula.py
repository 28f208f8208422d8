"""The calculator formula language: spreadsheet-style arithmetic on exact Decimals.

A formula is parsed with Python's ``ast`` module and then checked against an allow-list; it is never
passed to ``eval`` or ``compile``. What is allowed:

- numbers (``12``, ``0.6``, ``1.5e3``) and the names of inputs and computed values;
- ``+ - * /``, ``**`` for powers, unary ``-`` and ``+``, parentheses;
- comparisons ``== != < <= > >=`` (chains such as ``0 < x <= 10`` work) giving 1 (true) or 0 (false);
- ``and``, ``or``, ``not`` (short-circuit, giving 1 or 0; any non-zero number counts as true);
- the functions ``if(cond, a, b)``, ``min(a, ...)``, ``max(a, ...)``, ``round(x[, places])``,
  ``ceil(x[, places])``, ``floor(x[, places])``, ``abs(x)``, ``sqrt(x)``, ``pow(a, b)``; their names may be
  written in any case (``IF``, ``Round``). ``if`` evaluates only the branch it picks.

Arithmetic is Decimal with 28 significant digits, rounding half-up, so ``3 * 0.6`` is exactly ``1.8``;
a result smaller than 10^-20 in size counts as 0.
Division by zero, the square root of a negative number, a result of 10^15 or more in size, or an input
left empty make the value *undefined* (``Undefined`` is raised); the calculator then shows its fallback.

Bounds: a formula has at most 1,000 characters, 200 syntax nodes and 50 levels of nesting, so parsing and
evaluating one always take bounded time.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

MAX_LENGTH = 1000
MAX_NODES = 200
MAX_DEPTH = 50
# Values this large are refused: they are never a sensible answer and would render as huge strings.
LIMIT = Decimal("1e15")
# Values this small count as zero, so a result never carries an exponent of thousands of digits.
TINY = Decimal("1e-20")
MAX_PLACES = 12

ONE = Decimal(1)
ZERO = Decimal(0)

# name -> (fewest arguments, most arguments)
FUNCTIONS: dict[str, tuple[int, int]] = {
    "if": (3, 3),
    "min": (1, 50),
    "max": (1, 50),
    "round": (1, 2),
    "ceil": (1, 2),
    "floor": (1, 2),
    "abs": (1, 1),
    "sqrt": (1, 1),
    "pow": (2, 2),
}
# `if` is a Python keyword; it is renamed to this (same length, so column numbers stay right) before
# parsing. Definition names start with a letter, so it can't clash with one.
_IF_ALIAS = "_f"

BIN_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
CMP_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
REFUSED_OPS = {
    ast.BitXor: "'^' is not a power here: write a ** b or pow(a, b)",
    ast.Mod: "'%' (remainder) is not supported; percent inputs already hold fractions (5% is 0.05)",
    ast.FloorDiv: "'//' is not supported: write floor(a / b)",
    ast.MatMult: "'@' is not an operator in formulas",
    ast.BitAnd: "'&' is not supported: write 'and'",
    ast.BitOr: "'|' is not supported: write 'or'",
    ast.LShift: "'<<' is not supported",
    ast.RShift: "'>>' is not supported",
}


def context() -> Context:
    """The arithmetic every formula runs in: errors are trapped so they become undefined values."""
    return Context(prec=28, rounding=ROUND_HALF_UP, Emax=999_999, Emin=-999_999,
                   traps=[InvalidOperation, DivisionByZero, Overflow])


class FormulaError(ValueError):
    """A formula that can't be accepted; `column` (1-based) points at the problem when known."""

    def __init__(self, message: str, column: int | None = None):
        self.message = message
        self.column = column
        super().__init__(message + (f" (at column {column})" if column else ""))


class Undefined(ArithmeticError):
    """A formula without a usable result: division by zero, an empty input, a value out of range."""

    def __init__(self, reason: str, name: str | None = None):
        self.reason = reason
        self.name = name  # the input or value it traces back to, when one
        super().__init__(reason)


@dataclass(frozen=True)
class Formula:
    source: str
    names: frozenset[str]
    node: tuple = field(repr=False, compare=False)

    def evaluate(self, env: Mapping[str, Decimal | None]) -> Decimal:
        """The value of the formula. A name mapped to None (or missing) is undefined. Raises Undefined."""
        with localcontext(context()):
            try:
                value = _eval(self.node, env)
            except (InvalidOperation, Overflow) as err:
                raise Undefined(_describe(err)) from None
            except DivisionByZero:
                raise Undefined("division by zero") from None
            return checked(value)

    def holds(self, env: Mapping[str, Decimal | None]) -> bool:
        """For conditions: true when the value is non-zero. Raises Undefined."""
        return self.evaluate(env) != 0


def checked(value: Decimal) -> Decimal:
    if not value.is_finite() or abs(value) >= LIMIT:
        raise Undefined("the result is too large")
    if abs(value) < TINY:
        return ZERO  # also turns -0 into 0
    return value


def _describe(err: ArithmeticError) -> str:
    if isinstance(err, Overflow):
        return "the result is too large"
    return "the result is not a number"


def parse(source: str) -> Formula:
    """Check a formula and turn it into an evaluable Formula. Raises FormulaError."""
    if not isinstance(source, str) or not source.strip():
        raise FormulaError("the formula is empty")
    if len(source) > MAX_LENGTH:
        raise FormulaError(f"the formula is longer than {MAX_LENGTH} characters")
    prepared = _rename_if(source.strip())
    try:
        tree = ast.parse(prepared, mode="eval")
    except SyntaxError as err:
        raise FormulaError(_syntax_message(prepared, err), _column(err)) from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("the formula is not valid") from None
    builder = _Builder(prepared)
    node = builder.build(tree.body, 1)
    return Formula(source, frozenset(builder.names), node)


def _rename_if(source: str) -> str:
    """Replace the name token `if` (a Python keyword) by an alias, leaving everything else in place."""
    if "if" not in source:
        return source
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME and tok.string == "if":
                edits.append(tok.start)
    except (tokenize.TokenError, SyntaxError):
        return source  # ast.parse reports the real problem
    for row, col in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + _IF_ALIAS + line[col + 2:]
    return "".join(lines)


def _column(err: SyntaxError) -> int | None:
    return err.offset if err.offset and err.offset > 0 else None


def _syntax_message(source: str, err: SyntaxError) -> str:
    stripped = source.replace("==", "").replace("<=", "").replace(">=", "").replace("!=", "")
    if "=" in stripped:
        return "a single '=' is not allowed: compare with '=='"
    if source.count("(") != source.count(")"):
        return "the parentheses do not match"
    if "too many nested" in (err.msg or ""):
        return f"the formula is nested too deeply (at most {MAX_DEPTH} levels)"
    return "this is not a formula we can read: check for a missing operator, comma or parenthesis"


class _Builder:
    """Walks the parsed tree, refusing anything off the allow-list, and builds plain tuples."""

    def __init__(self, source: str):
        self.source = source
        self.names: set[str] = set()
        self.count = 0

    def fail(self, message: str, node: ast.AST) -> FormulaError:
        return FormulaError(message, getattr(node, "col_offset", -1) + 1 or None)

    def build(self, node: ast.AST, depth: int) -> tuple:
        self.count += 1
        if self.count > MAX_NODES:
            raise FormulaError(f"the formula is too long (more than {MAX_NODES} parts)")
        if depth > MAX_DEPTH:
            raise self.fail(f"the formula is nested too deeply (at most {MAX_DEPTH} levels)", node)
        d = depth + 1
        if isinstance(node, ast.Constant):
            return ("num", self._number(node))
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op not in BIN_OPS:
                raise self.fail(REFUSED_OPS.get(op, "this operator is not supported"), node)
            return ("bin", BIN_OPS[op], self.build(node.left, d), self.build(node.right, d))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return ("neg", self.build(node.operand, d))
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, d)
            if isinstance(node.op, ast.Not):
                return ("not", self.build(node.operand, d))
            raise self.fail("'~' is not supported", node)
        if isinstance(node, ast.Compare):
            ops = []
            for op in node.ops:
                if type(op) not in CMP_OPS:
                    raise self.fail("only == != < <= > >= compare values", node)
                ops.append(CMP_OPS[type(op)])
            return ("cmp", tuple(ops), tuple(self.build(x, d) for x in (node.left, *node.comparators)))
        if isinstance(node, ast.BoolOp):
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return (kind, tuple(self.build(v, d) for v in node.values))
        if isinstance(node, ast.Call):
            return self._call(node, d)
        if isinstance(node, ast.Attribute):
            raise self.fail("'.' can only appear inside a number; attribute access is not allowed", node)
        if isinstance(node, ast.Subscript):
            raise self.fail("'[...]' is not allowed in formulas", node)
        if isinstance(node, ast.IfExp):
            raise self.fail("write if(condition, then, otherwise)", node)
        raise self.fail("this is not allowed in formulas: use numbers, names, operators and the "
                        "functions " + ", ".join(FUNCTIONS), node)

    def _number(self, node: ast.Constant) -> Decimal:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            if isinstance(value, bool):
                raise self.fail("True and False are not values here: use 1 and 0", node)
            if isinstance(value, str):
                raise self.fail("text is not allowed in formulas, only numbers", node)
            raise self.fail("only plain numbers are allowed", node)
        # The literal's own text, not the float Python made of it: 0.6 stays exactly 0.6.
        text = ast.get_source_segment(self.source, node) or repr(value)
        try:
            number = Decimal(text.replace("_", ""))
        except InvalidOperation:
            raise self.fail(f"{text!r} is not a number", node) from None
        if not number.is_finite() or abs(number) >= LIMIT:
            raise self.fail(f"{text} is too large", node)
        return number

    def _name(self, node: ast.Name) -> tuple:
        name = node.id
        if name.lower() in FUNCTIONS or name == _IF_ALIAS:
            public = _public(name)
            raise self.fail(f"{public!r} is a function: call it like {public.lower()}(...)", node)
        self.names.add(name)
        return ("name", name)

    def _call(self, node: ast.Call, d: int) -> tuple:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only the functions " + ", ".join(FUNCTIONS) + " can be called", node)
        fname = "if" if node.func.id == _IF_ALIAS else node.func.id.lower()
        if fname not in FUNCTIONS:
            raise self.fail(f"unknown function {node.func.id!r}; use one of: " + ", ".join(FUNCTIONS), node)
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(f"{fname}() takes plain arguments only", node)
        low, high = FUNCTIONS[fname]
        if not low <= len(node.args) <= high:
            want = str(low) if low == high else (f"{low} or {high}" if high == low + 1 else f"{low} or more")
            raise self.fail(f"{fname}() takes {want} argument{'s' if high > 1 else ''}, "
                            f"not {len(node.args)}", node)
        return ("call", fname, tuple(self.build(a, d) for a in node.args))


def _public(name: str) -> str:
    return "if" if name == _IF_ALIAS else name


def is_reserved(name: str) -> bool:
    """Names a definition can't give an input or value: function names and Python keywords."""
    return name.lower() in FUNCTIONS or keyword.iskeyword(name) or keyword.issoftkeyword(name)


# --- evaluation -------------------------------------------------------------------------------------------


def _truth(value: Decimal) -> bool:
    return value != 0


def _as_bool(flag: bool) -> Decimal:
    return ONE if flag else ZERO


def _places(node: tuple, env: Mapping[str, Decimal | None], fname: str) -> int:
    value = _eval(node, env)
    if value != value.to_integral_value() or not -MAX_PLACES <= value <= MAX_PLACES:
        raise Undefined(f"{fname}() takes a whole number of places from {-MAX_PLACES} to {MAX_PLACES}")
    return int(value)


def _quantize(value: Decimal, places: int, rounding: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding)


def _round_to(rounding: str) -> Callable:
    def fn(args: tuple, env: Mapping[str, Decimal | None], fname: str) -> Decimal:
        value = _eval(args[0], env)
        places = _places(args[1], env, fname) if len(args) > 1 else 0
        return _quantize(value, places, rounding)

    return fn


def _sqrt(args, env, fname):
    value = _eval(args[0], env)
    if value < 0:
        raise Undefined("the square root of a negative number")
    return value.sqrt()


def _pow(args, env, fname):
    base, exponent = _eval(args[0], env), _eval(args[1], env)
    return _power(base, exponent)


def _power(base: Decimal, exponent: Decimal) -> Decimal:
    if base == 0 and exponent < 0:
        raise Undefined("division by zero")
    if base < 0 and exponent != exponent.to_integral_value():
        raise Undefined("a negative number to a fractional power")
    return base ** exponent


def _if(args, env, fname):
    return _eval(args[1] if _truth(_eval(args[0], env)) else args[2], env)


CALLS: dict[str, Callable] = {
    "if": _if,
    "min": lambda args, env, fname: min(_eval(a, env) for a in args),
    "max": lambda args, env, fname: max(_eval(a, env) for a in args),
    "round": _round_to(ROUND_HALF_UP),
    "ceil": _round_to(ROUND_CEILING),
    "floor": _round_to(ROUND_FLOOR),
    "abs": lambda args, env, fname: abs(_eval(args[0], env)),
    "sqrt": _sqrt,
    "pow": _pow,
}

_COMPARE = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _eval(node: tuple, env: Mapping[str, Decimal | None]) -> Decimal:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "name":
        value = env.get(node[1])
        if value is None:
            raise Undefined(f"{node[1]} has no value", node[1])
        return value
    if kind == "bin":
        left, right = _eval(node[2], env), _eval(node[3], env)
        op = node[1]
        if op == "+":
            result = left + right
        elif op == "-":
            result = left - right
        elif op == "*":
            result = left * right
        elif op == "/":
            if right == 0:
                raise Undefined("division by zero")
            result = left / right
        else:
            result = _power(left, right)
        return _bounded(result)
    if kind == "neg":
        return -_eval(node[1], env)
    if kind == "not":
        return _as_bool(not _truth(_eval(node[1], env)))
    if kind == "cmp":
        ops, operands = node[1], node[2]
        left = _eval(operands[0], env)
        for op, operand in zip(ops, operands[1:], strict=True):
            right = _eval(operand, env)
            if not _COMPARE[op](left, right):
                return ZERO
            left = right
        return ONE
    if kind == "and":
        return _as_bool(all(_truth(_eval(v, env)) for v in node[1]))
    if kind == "or":
        return _as_bool(any(_truth(_eval(v, env)) for v in node[1]))
    if kind == "call":
        return _bounded(CALLS[node[1]](node[2], env, node[1]))
    raise AssertionError(f"unknown node {kind!r}")


def _bounded(value: Decimal) -> Decimal:
    # Checked at every step, so an intermediate can't grow without limit before the end.
    if abs(value) >= LIMIT * LIMIT:
        raise Undefined("the result is too large")
    return value
