"""Valid sample data for tests: credit codes whose check characters are right."""

from __future__ import annotations

from domain.values import credit_code_check_character


def credit_code(serial: int, prefix: str = "91", division: str = "320506") -> str:
    body = f"{prefix}{division}{serial:09d}"
    return body + credit_code_check_character(body)


def wrong_check(code: str) -> str:
    """The same code with a check character that fails."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:17] + alphabet[(alphabet.index(code[17]) + 1) % 31]
