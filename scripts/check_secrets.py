#!/usr/bin/env python3
"""Refuse to start the compose topology on missing, placeholder or weak secrets.

Produces a verdict on the secrets docker-compose.yml reads from ``.env``: exit status 0 and one
line naming the checked variables when every secret is fit for use, or exit status 1 and one line
per offending variable (its name, the rule it breaks and how to make a good value) on stderr.
Values are never printed.

The ``secrets-check`` service of docker-compose.yml runs it before any other service starts (each
of them ``depends_on`` it with ``condition: service_completed_successfully``), so ``docker compose
up`` with ``.env.example`` copied unchanged to ``.env`` stops here. It needs only the standard
library, so it also runs on the host before ``docker compose up``::

    python scripts/check_secrets.py --env-file .env     # check a .env file
    python scripts/check_secrets.py                     # check the process environment

A value is refused when it is unset or empty, is a placeholder (the value any variable has in
``.env.example``, or anything containing ``change-me``), is shorter than its minimum, uses
characters its consumer cannot take, is not in the format its consumer needs (a Fernet key), has
too few distinct characters, or is shared with another secret.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
PLACEHOLDER_RE = re.compile(r"change[-_ ]?me", re.I)
MIN_DISTINCT_CHARS = 8


@dataclass(frozen=True)
class Secret:
    """What one secret must satisfy, and the command that makes a good value."""

    min_length: int
    make: str
    charset: str | None = None  # a regex character class the whole value must match
    charset_reason: str = ""
    fernet: bool = False


SECRETS: dict[str, Secret] = {
    "POSTGRES_PASSWORD": Secret(
        min_length=16,
        make='python -c "import secrets; print(secrets.token_hex(24))"',
        charset=r"[A-Za-z0-9._~-]",
        charset_reason="it goes into connection URLs: letters, digits and . _ ~ - only",
    ),
    "FERNET_KEY": Secret(
        min_length=44,
        make='python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"',
        fernet=True,
    ),
    "JWT_SECRET": Secret(
        min_length=32,
        make='python -c "import secrets; print(secrets.token_urlsafe(48))"',
    ),
    "AIRFLOW_ADMIN_PASSWORD": Secret(
        min_length=12,
        make='python -c "import secrets; print(secrets.token_urlsafe(18))"',
    ),
}


@dataclass(frozen=True)
class Problem:
    variable: str
    rule: str
    detail: str


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as docker compose reads a .env file: comments, `export`, quotes."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise SystemExit(f"secrets-check: {path}: line {number}: rule 'KEY=VALUE' failed: {line[:40]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0]
        values[key.strip()] = value
    return values


def placeholder_values(example: Path) -> set[str]:
    """Every value in .env.example that stands in for a secret (non-empty, so '' is not one)."""
    return {value for key, value in read_env_file(example).items() if key in SECRETS and value}


def _is_fernet_key(value: str) -> bool:
    # Airflow takes several comma-separated keys while rotating (the first one encrypts).
    for key in value.split(","):
        if not re.fullmatch(r"[A-Za-z0-9_-]{43}=", key.strip()):
            return False
        try:
            if len(base64.urlsafe_b64decode(key.strip())) != 32:
                return False
        except (binascii.Error, ValueError):
            return False
    return True


def _rules(spec: Secret, placeholders: set[str]) -> list[tuple[str, Callable[[str], bool], str]]:
    """(rule, passes, what to do) in the order they are tried; the first failure is reported."""
    rules: list[tuple[str, Callable[[str], bool], str]] = [
        ("set", bool, "it is unset or empty"),
        ("not a placeholder", lambda v: v not in placeholders and not PLACEHOLDER_RE.search(v),
         "it is still the placeholder from .env.example"),
        (f"at least {spec.min_length} characters", lambda v: len(v) >= spec.min_length, "it is too short"),
    ]
    if spec.charset:
        rules.append((f"characters {spec.charset}", lambda v: re.fullmatch(f"{spec.charset}+", v) is not None,
                      spec.charset_reason))
    if spec.fernet:
        rules.append(("Fernet key", _is_fernet_key, "it is not 32 url-safe base64-encoded bytes"))
    rules.append((f"at least {MIN_DISTINCT_CHARS} distinct characters",
                  lambda v: len(set(v)) >= MIN_DISTINCT_CHARS, "it is too repetitive to be random"))
    return rules


def check(env: Mapping[str, str], placeholders: set[str]) -> list[Problem]:
    """Every secret of SECRETS checked in `env`; the problems found, in SECRETS order."""
    problems: list[Problem] = []
    for variable, spec in SECRETS.items():
        value = env.get(variable, "")
        for rule, passes, detail in _rules(spec, placeholders):
            if not passes(value):
                problems.append(Problem(variable, rule, f"{detail}; make one with: {spec.make}"))
                break
    bad = {p.variable for p in problems}
    seen: dict[str, str] = {}
    for variable in SECRETS:
        value = env.get(variable, "")
        if variable in bad:
            continue
        if value in seen:
            problems.append(Problem(variable, "distinct from the other secrets",
                                    f"it has the same value as {seen[value]}; give each secret its own"))
        else:
            seen[value] = variable
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-file", type=Path, help="check this .env file instead of the process environment")
    parser.add_argument("--example", type=Path, default=DEFAULT_EXAMPLE,
                        help="the .env.example whose values are placeholders (default: the repository's)")
    args = parser.parse_args(argv)

    if not args.example.is_file():
        print(f"secrets-check: {args.example}: rule 'placeholders readable' failed: no such file",
              file=sys.stderr)
        return 2
    if args.env_file is not None and not args.env_file.is_file():
        print(f"secrets-check: {args.env_file}: rule 'env file readable' failed: no such file", file=sys.stderr)
        return 2
    source = str(args.env_file) if args.env_file else "the environment (.env under docker compose)"
    env = read_env_file(args.env_file) if args.env_file else dict(os.environ)

    problems = check(env, placeholder_values(args.example))
    if problems:
        print(f"secrets-check: refusing to start: {len(problems)} secret(s) in {source} are not fit for use:",
              file=sys.stderr)
        for p in problems:
            print(f"  {p.variable}: rule '{p.rule}' failed: {p.detail}", file=sys.stderr)
        print("Set each of them in .env (see the comments in .env.example), then start again.", file=sys.stderr)
        return 1
    print(f"secrets-check: {', '.join(SECRETS)} in {source} are set, not placeholders, and strong enough.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
