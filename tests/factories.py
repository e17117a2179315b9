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


def city_body_with_units(ledger, count: int):
    """``count`` enterprises registered (credit codes 1…count) and a city body founded on
    2024-01-01 with none of them admitted: the body's id and the codes."""
    codes = [credit_code(i) for i in range(1, count + 1)]
    for code in codes:
        ledger.register_unit(
            code=code,
            name=f"企业{code[-4:]}",
            unit_type="enterprise",
            division="320506",
            principal="p",
        )
    body = ledger.found_community(
        name="苏州联合体",
        kind="city",
        industry="电子",
        division="320500",
        founded_on="2024-01-01",
        principal="p",
    )
    return body.id, codes
