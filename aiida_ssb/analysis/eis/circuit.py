"""Equivalent circuits written in impedance.py syntax, parsed without ``eval``.

Grammar (whitespace is ignored)::

    circuit  := series
    series   := term ('-' term)*
    term     := ELEMENT | 'p' '(' series (',' series)+ ')'
    ELEMENT  := SYMBOL SUFFIX          e.g. R0, CPE1, Wo1, Rgb, CPEel
    SYMBOL   := 'CPE' | 'Wo' | 'Ws' | 'R' | 'C' | 'L' | 'W'   (longest match wins)
    SUFFIX   := [A-Za-z0-9_]*

``-`` joins in series, ``p(a, b, ...)`` joins in parallel, and both nest freely:
``R0-p(R1,CPE1)-p(R2,CPE2)-CPE3``. Names must be unique. The longest symbol that starts a name
decides its kind, so ``Wo1`` is a finite-length open Warburg, ``Ws1`` a short one, ``CPE1`` a CPE.

Parameters are ordered as their elements appear in the string. Each has a display name
(``R1``, ``CPE1_Q``, ``CPE1_alpha``, ``W1_sigma``, ``Wo1_R``, ``Wo1_tau``), a unit and a
storage key built by one rule::

    key = lower(element name) [+ '_' + lower(parameter suffix)] [+ '_' + unit token]

with the parameter suffix only for elements with more than one parameter (or the Warburg sigma),
and the unit token from :data:`~aiida_ssb.analysis.eis.elements.UNIT_TOKENS` (``ohm``, ``f``,
``h``, ``s_sa`` for S s^alpha, ``ohm_per_sqrt_s``, ``s``; none for dimensionless): ``r1_ohm``,
``c1_f``, ``l1_h``, ``cpe1_q_s_sa``, ``cpe1_alpha``, ``w1_sigma_ohm_per_sqrt_s``, ``wo1_r_ohm``,
``wo1_tau_s``. The standard error of a parameter is stored under the same key with ``_stderr``
inserted before the unit token (``r1_stderr_ohm``, ``cpe1_alpha_stderr``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple, NoReturn

import numpy as np
from numpy.typing import ArrayLike

from aiida_ssb.analysis.eis.elements import ELEMENT_KINDS, KIND_SYMBOLS, ElementKind, _Evaluated
from aiida_ssb.exceptions import SettingsError

__all__ = ['Circuit', 'CircuitSyntaxError', 'Element', 'ElementInfo', 'Parallel', 'ParameterError', 'Series']


MAX_NESTING = 16
"""Deepest nesting of parallel blocks ``p(...)`` a circuit may have: a bound on the parser's (and every tree
walk's) recursion, above any equivalent circuit in use (a transmission line of ten rungs nests ten deep). A
1,200-deep circuit string exhausted Python's recursion limit before this bound."""


class CircuitSyntaxError(SettingsError):
    """A circuit string that cannot be parsed; the message names the column (1-based)."""

    def __init__(self, spec: str, reason: str, column: int | None = None):
        self.spec = spec
        self.reason = reason
        self.column = column
        where = f' at column {column}' if column is not None else ''
        pointer = ''
        if column is not None:
            pointer = f'\n    {spec}\n    {" " * (column - 1)}^'
        super().__init__(f'{reason}{where} in circuit {spec!r}{pointer}')


class ParameterError(SettingsError):
    """Parameter values that do not match a circuit (unknown name, wrong count, invalid value)."""


class ElementInfo(NamedTuple):
    """Name and kind symbol of one element, in order of appearance."""

    name: str
    kind: str


# ---------------------------------------------------------------------------------------------- tree


@dataclasses.dataclass
class Element:
    name: str
    kind: ElementKind
    start: int  # index of its first parameter
    column: int

    @property
    def size(self) -> int:
        return len(self.kind.parameters)

    def evaluate(self, omega: np.ndarray, values: np.ndarray, jac: bool) -> _Evaluated:
        return self.kind.evaluate(omega, values[self.start : self.start + self.size], jac)

    def elements(self) -> Iterator[Element]:
        yield self

    def signature(self) -> str:
        return self.kind.symbol


@dataclasses.dataclass
class Series:
    children: list[Node]
    start: int = 0
    size: int = 0

    def evaluate(self, omega: np.ndarray, values: np.ndarray, jac: bool) -> _Evaluated:
        z: np.ndarray | None = None
        blocks: list[np.ndarray] = []
        for child in self.children:
            zc, jc = child.evaluate(omega, values, jac)
            z = zc if z is None else z + zc
            if jc is not None:
                blocks.append(jc)
        assert z is not None  # a series has at least two children
        if not jac:
            return z, None
        return z, np.concatenate(blocks, axis=1)

    def elements(self) -> Iterator[Element]:
        for child in self.children:
            yield from child.elements()

    def signature(self) -> str:
        return '-'.join(child.signature() for child in self.children)


@dataclasses.dataclass
class Parallel:
    children: list[Node]
    start: int = 0
    size: int = 0

    def evaluate(self, omega: np.ndarray, values: np.ndarray, jac: bool) -> _Evaluated:
        zs = []
        blocks: list[np.ndarray] = []
        y: np.ndarray | None = None
        for child in self.children:
            zc, jc = child.evaluate(omega, values, jac)
            zs.append(zc)
            if jc is not None:
                blocks.append(jc)
            y = 1.0 / zc if y is None else y + 1.0 / zc
        assert y is not None  # a parallel block has at least two branches
        z: np.ndarray = 1.0 / y
        if not jac:
            return z, None
        # dZ/dp = (Z / Z_i)^2 dZ_i/dp for a parameter p of branch i
        scaled = [jc * ((z / zc) ** 2)[:, None] for zc, jc in zip(zs, blocks)]
        return z, np.concatenate(scaled, axis=1)

    def elements(self) -> Iterator[Element]:
        for child in self.children:
            yield from child.elements()

    def signature(self) -> str:
        return 'p(' + ','.join(child.signature() for child in self.children) + ')'


# -------------------------------------------------------------------------------------------- parser

_PUNCTUATION = '-,()'


class _Token(NamedTuple):
    kind: str  # 'name', 'parallel', or the punctuation character, or 'end'
    text: str
    column: int


def _tokenise(spec: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(spec)
    while i < n:
        ch = spec[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _PUNCTUATION:
            tokens.append(_Token(ch, ch, i + 1))
            i += 1
            continue
        if ch.isalpha():
            j = i + 1
            while j < n and (spec[j].isalnum() or spec[j] == '_'):
                j += 1
            text = spec[i:j]
            k = j
            while k < n and spec[k].isspace():
                k += 1
            if text == 'p' and k < n and spec[k] == '(':
                tokens.append(_Token('parallel', text, i + 1))
            else:
                tokens.append(_Token('name', text, i + 1))
            i = j
            continue
        raise CircuitSyntaxError(spec, f'unexpected character {ch!r}', i + 1)
    tokens.append(_Token('end', '', n + 1))
    return tokens


class _Parser:
    def __init__(self, spec: str):
        self.spec = spec
        self.tokens = _tokenise(spec)
        self.pos = 0
        self.open_stack: list[int] = []
        self.elements: list[Element] = []
        self.seen: dict[str, int] = {}
        self.n_params = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def error(self, reason: str, column: int | None) -> NoReturn:
        raise CircuitSyntaxError(self.spec, reason, column)

    def parse(self) -> Node:
        if self.peek().kind == 'end':
            self.error('empty circuit string', None)
        node = self.series()
        token = self.peek()
        if token.kind == ')':
            self.error("unbalanced parentheses: unexpected ')'", token.column)
        if token.kind != 'end':
            self.error(f'expected "-" or the end of the circuit, found {token.text!r}', token.column)
        return node

    def series(self) -> Node:
        children = [self.term()]
        while self.peek().kind == '-':
            self.take()
            children.append(self.term())
        return children[0] if len(children) == 1 else Series(children)

    def term(self) -> Node:
        token = self.take()
        if token.kind == 'name':
            return self.element(token)
        if token.kind == 'parallel':
            opening = self.take()  # '(' guaranteed by the tokeniser
            if len(self.open_stack) >= MAX_NESTING:
                self.error(f'a circuit nests at most {MAX_NESTING} levels of p(...)', opening.column)
            self.open_stack.append(opening.column)
            branches = [self.series()]
            while self.peek().kind == ',':
                self.take()
                branches.append(self.series())
            closing = self.peek()
            if closing.kind == 'end':
                self.error(f"unbalanced parentheses: '(' at column {opening.column} is never closed", closing.column)
            if closing.kind != ')':
                self.error(
                    f"expected ',' or ')' in the parallel block opened at column {opening.column}, "
                    f'found {closing.text!r}',
                    closing.column,
                )
            self.take()
            self.open_stack.pop()
            if len(branches) < 2:
                self.error('a parallel block p(...) needs at least two branches separated by commas', token.column)
            return Parallel(branches)
        if token.kind == 'end':
            self.error('the circuit ends where an element or p(...) was expected', token.column)
        if token.kind == ')':
            self.error("unbalanced parentheses: unexpected ')'", token.column)
        if token.kind == '(':
            self.error("unexpected '(' (parentheses only follow the parallel operator 'p')", token.column)
        self.error(f'expected an element or p(...), found {token.text!r}', token.column)

    def element(self, token: _Token) -> Element:
        name = token.text
        kind = None
        for symbol in KIND_SYMBOLS:
            if name.startswith(symbol):
                kind = ELEMENT_KINDS[symbol]
                break
        if kind is None:
            known = ', '.join(sorted(ELEMENT_KINDS, key=lambda s: (len(s), s)))
            self.error(
                f'unknown element {name!r} (element names start with one of {known}; '
                f"'p(...)' is the parallel operator)",
                token.column,
            )
        if name in self.seen:
            self.error(f'duplicate element name {name!r} (first used at column {self.seen[name]})', token.column)
        self.seen[name] = token.column
        element = Element(name, kind, self.n_params, token.column)
        self.n_params += element.size
        self.elements.append(element)
        return element


def _assign_ranges(node: Node) -> None:
    if isinstance(node, Element):
        return
    for child in node.children:
        _assign_ranges(child)
    first = node.children[0]
    node.start = first.start
    node.size = sum(child.size for child in node.children)


Node = Element | Series | Parallel


# ------------------------------------------------------------------------------------------- circuit


class Circuit:
    """An equivalent circuit with analytic impedance and Jacobian.

    Attributes (tuples in order of appearance in the string): ``parameter_names`` (``'R1'``,
    ``'CPE1_Q'``...), ``parameter_units`` (``'ohm'``, ``'S s^alpha'``...), ``parameter_keys``
    (``'r1_ohm'``, ``'cpe1_q_s_sa'``...), ``stderr_keys`` (``'r1_stderr_ohm'``...), ``log_mask``
    (which parameters are fitted as logarithms) and ``default_bounds``.

    >>> c = Circuit('R0-p(R1,CPE1)')
    >>> c.parameter_names
    ('R0', 'R1', 'CPE1_Q', 'CPE1_alpha')
    >>> c.parameter_keys
    ('r0_ohm', 'r1_ohm', 'cpe1_q_s_sa', 'cpe1_alpha')
    """

    def __init__(self, spec: str):
        if not isinstance(spec, str):
            raise TypeError(f'a circuit is given as a string such as "R0-p(R1,CPE1)", not {type(spec).__name__}')
        parser = _Parser(spec)
        self.tree = parser.parse()
        _assign_ranges(self.tree)
        self.spec = spec
        self._elements = tuple(parser.elements)
        names: list[str] = []
        units: list[str] = []
        keys: list[str] = []
        stderr_keys: list[str] = []
        log_mask: list[bool] = []
        bounds: list[tuple[float, float]] = []
        descriptions: list[str] = []
        owner: list[Element] = []
        for element in self._elements:
            for spec_p in element.kind.parameters:
                if spec_p.suffix is None:
                    name = element.name
                    base = element.name.lower()
                else:
                    name = f'{element.name}_{spec_p.suffix}'
                    base = f'{element.name.lower()}_{spec_p.suffix.lower()}'
                token = spec_p.unit_token
                names.append(name)
                units.append(spec_p.unit)
                keys.append(f'{base}_{token}' if token else base)
                stderr_keys.append(f'{base}_stderr_{token}' if token else f'{base}_stderr')
                log_mask.append(spec_p.log)
                bounds.append(spec_p.bounds)
                descriptions.append(f'{spec_p.description} of {element.name}')
                owner.append(element)
        duplicates = {k for k in keys if keys.count(k) > 1}
        if duplicates:
            raise CircuitSyntaxError(
                spec,
                f'element names give colliding parameter keys {sorted(duplicates)} '
                '(names must differ in more than letter case)',
            )
        self.parameter_names: tuple[str, ...] = tuple(names)
        self.parameter_units: tuple[str, ...] = tuple(units)
        self.parameter_keys: tuple[str, ...] = tuple(keys)
        self.stderr_keys: tuple[str, ...] = tuple(stderr_keys)
        self.parameter_descriptions: tuple[str, ...] = tuple(descriptions)
        self.log_mask = np.array(log_mask, dtype=bool)
        self.default_bounds: tuple[tuple[float, float], ...] = tuple(bounds)
        self._owner = tuple(owner)
        self._index = {n: i for i, n in enumerate(names)}
        self._index.update({k: i for i, k in enumerate(keys)})

    # ------------------------------------------------------------------------------ description
    @property
    def elements(self) -> tuple[ElementInfo, ...]:
        """``(name, kind)`` of every element, in order of appearance."""
        return tuple(ElementInfo(e.name, e.kind.symbol) for e in self._elements)

    @property
    def n_parameters(self) -> int:
        return len(self.parameter_names)

    def __repr__(self) -> str:
        return f'Circuit({self.spec!r})'

    def __str__(self) -> str:
        return self.spec

    def index(self, name: str) -> int:
        """Position of a parameter given by display name (``CPE1_Q``) or storage key (``cpe1_q_s_sa``)."""
        try:
            return self._index[name]
        except KeyError:
            raise ParameterError(
                f'{name!r} is not a parameter of circuit {self.spec!r}; parameters: {", ".join(self.parameter_names)}'
            ) from None

    def element_of(self, name: str) -> str:
        """Name of the element that owns a parameter."""
        return self._owner[self.index(name)].name

    # --------------------------------------------------------------------------------- values
    def values_array(self, params: Mapping[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
        """Parameter values as a float array in :attr:`parameter_names` order (names or keys accepted)."""
        if isinstance(params, Mapping):
            out = np.full(self.n_parameters, np.nan)
            for name, value in params.items():
                out[self.index(name)] = float(value)
            missing = [n for n, v in zip(self.parameter_names, out) if np.isnan(v)]
            if missing:
                raise ParameterError(f'missing values for {", ".join(missing)} of circuit {self.spec!r}')
        else:
            out = np.asarray(params, dtype=float).ravel()
            if out.size != self.n_parameters:
                raise ParameterError(
                    f'circuit {self.spec!r} has {self.n_parameters} parameters '
                    f'({", ".join(self.parameter_names)}), got {out.size} values'
                )
        if not np.all(np.isfinite(out)):
            bad = [n for n, v in zip(self.parameter_names, out) if not np.isfinite(v)]
            raise ParameterError(f'non-finite values for {", ".join(bad)}')
        return out

    def values_dict(self, values: np.ndarray) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.parameter_names, values)}

    # ------------------------------------------------------------------------------ evaluation
    @staticmethod
    def _omega(frequency_hz: ArrayLike) -> np.ndarray:
        f = np.asarray(frequency_hz, dtype=float).ravel()
        if f.size == 0:
            raise ValueError('frequency_hz is empty')
        if not np.all(np.isfinite(f)) or np.any(f <= 0):
            raise ValueError('frequency_hz must be finite and > 0 everywhere')
        return 2.0 * np.pi * f

    def _evaluate(self, omega: np.ndarray, values: np.ndarray, jac: bool) -> _Evaluated:
        return self.tree.evaluate(omega, values, jac)

    def impedance(
        self, frequency_hz: ArrayLike, params: Mapping[str, float] | Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """Complex impedance (ohm) at ``frequency_hz`` for ``params`` (mapping or array)."""
        z, _ = self._evaluate(self._omega(frequency_hz), self.values_array(params), False)
        return z

    def jacobian(
        self, frequency_hz: ArrayLike, params: Mapping[str, float] | Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """Complex ``dZ/dp`` of shape ``(n_frequencies, n_parameters)``, linear parameters."""
        _, j = self._evaluate(self._omega(frequency_hz), self.values_array(params), True)
        assert j is not None  # asked for
        return j
