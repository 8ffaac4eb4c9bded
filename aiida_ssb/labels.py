"""Link labels of sample ids and file names: :func:`link_label` and its inverse :func:`unlink_label` (pure: no
AiiDA import, so the queries that key records by label load without the process functions)."""

from __future__ import annotations

import hashlib
import re

from aiida_ssb.exceptions import InputError

__all__ = ['MAX_LINK_LABEL', 'RESERVED_LABELS', 'link_label', 'unlink_label']

#: the longest link label :func:`link_label` returns (AiiDA stores link labels in 255 characters)
MAX_LINK_LABEL = 200

#: fixed port names of the processes whose dynamic inputs are keyed by :func:`link_label`; a string equal to one
#: of them is written with its first character escaped (``parameters`` -> ``x_70arameters``)
RESERVED_LABELS = frozenset(
    (
        'metadata',
        'parameters',
        'product',
        'options',
        'conditions',
        'settings',
        'cell',
        'sample',
        'raw',
        'material',
        'previous',
        'amendment',
    )
)

_HASH_MARK = '_h'  # 'h' is no hex digit and no escape letter: a hashed label never equals an escaped one


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f'_{code:02x}'
    if code < 0x10000:
        return f'_u{code:04x}'
    return f'_U{code:08x}'


def link_label(text: str) -> str:
    """The AiiDA link label of a sample id or file name: an injective, stable, readable escape.

    Contract (the workflows key measurements and lab steps key their input materials by it):

    * **injective**: distinct strings give distinct labels, so ids or file names that differ only in
      punctuation or case (``LPS-1``, ``LPS_1``, ``LPS.1``, ``lps-1``) never share a label;
    * **stable**: a pure function of the string, the same in every process, version and profile;
    * **valid**: matches ``[A-Za-z][A-Za-z0-9_]*``, never contains ``__`` (AiiDA's namespace separator), never
      ends with ``_``, and has at most :data:`MAX_LINK_LABEL` characters;
    * **readable and reversible**: ASCII letters and digits stay as they are; every other character is written
      ``_`` plus two lower-case hex digits of its code (``-`` -> ``_2d``, ``.`` -> ``_2e``, ``_`` -> ``_5f``;
      ``_uXXXX`` / ``_UXXXXXXXX`` beyond U+00FF), so ``NCB-01.dry`` -> ``NCB_2d01_2edry`` and
      :func:`unlink_label` gives the string back. A string that starts with anything but an ASCII letter other
      than ``x``, or that equals a port name of :data:`RESERVED_LABELS`, is written ``x`` plus the escape of its
      first character (``01-A`` -> ``x_301_2dA``, ``parameters`` -> ``x_70arameters``);
    * **bounded**: an escape longer than :data:`MAX_LINK_LABEL` is cut and ends with ``_h`` and 20 hex digits of
      the string's SHA-256 (80 bits: injective in practice, and never equal to an escaped label).
    """
    if not isinstance(text, str) or not text:
        raise InputError(f'a link label needs a non-empty string, not {text!r}')
    first = text[0]
    if first.isascii() and first.isalpha() and first != 'x' and text not in RESERVED_LABELS:
        parts = [first]
    else:
        parts = ['x', _escape_char(first)]
    parts.extend(char if char.isascii() and char.isalnum() else _escape_char(char) for char in text[1:])
    label = ''.join(parts)
    if len(label) > MAX_LINK_LABEL:
        digest = hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:20]
        head = label[: MAX_LINK_LABEL - len(_HASH_MARK) - len(digest)]
        cut = head.rfind('_')  # never cut an escape in half
        if cut >= len(head) - 9:
            head = head[:cut]
        label = head + _HASH_MARK + digest
    return label


_ESCAPE = re.compile(r'_(?:([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))')


def unlink_label(label: str) -> str | None:
    """The string a :func:`link_label` came from (None for a shortened, hashed label or an older, lossy one)."""
    if _HASH_MARK in label:
        return None
    body = label[1:] if label.startswith('x_') else label
    result, position = [], 0
    for match in _ESCAPE.finditer(body):
        literal = body[position : match.start()]
        if '_' in literal:
            return None
        result.append(literal)
        result.append(chr(int(next(group for group in match.groups() if group), 16)))
        position = match.end()
    tail = body[position:]
    if '_' in tail:
        return None
    result.append(tail)
    text = ''.join(result)
    return text if text and link_label(text) == label else None
