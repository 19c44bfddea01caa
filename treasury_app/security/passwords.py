"""Operators' passwords: argon2id hashes (memory-hard, through argon2-cffi), the rules a new password must meet,
and upgrading a stored hash when the parameters are raised.

Production parameters are RFC 9106's second recommendation ("low memory"): argon2id, 64 MiB, 3 passes,
4 lanes. That is over three times OWASP's minimum (19 MiB, 2 passes, 1 lane) and costs a desktop about
0.1 s per sign-in or approval, which nobody notices; a password-guessing rig pays 64 MiB per guess, which is
what makes GPUs and ASICs slow at it.

Tests may set `TREASURY_INSECURE_TEST_HASHING=1` to hash with tiny parameters (still argon2id), so that a suite
which creates hundreds of operators stays fast. Never set it on a real desk: hashes made under it are weak.
Should it happen, they are upgraded to the production parameters at the next sign-in without it.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field

from argon2 import Parameters, PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import ARGON2_VERSION
from argon2.profiles import RFC_9106_LOW_MEMORY

from .errors import WeakPasswordError

MIN_LENGTH = 12
# Hashing a megabyte-long "password" is an easy way to make the desk slow; nobody types more than this.
MAX_LENGTH = 1024
TEST_HASHING_ENV = "TREASURY_INSECURE_TEST_HASHING"


@dataclass(frozen=True)
class HashingProfile:
    name: str
    parameters: Parameters


PRODUCTION_PROFILE = HashingProfile("production", RFC_9106_LOW_MEMORY)
# Still argon2id, so tests exercise the same code path; only the cost differs.
TEST_PROFILE = HashingProfile(
    "insecure-test",
    Parameters(type=Type.ID, version=ARGON2_VERSION, salt_len=16, hash_len=32, time_cost=1, memory_cost=64,
               parallelism=1),
)


def active_profile() -> HashingProfile:
    """The production profile unless the test setting is on (read at every call, so tests can switch it)."""
    return TEST_PROFILE if os.environ.get(TEST_HASHING_ENV) == "1" else PRODUCTION_PROFILE


def check_password_rules(password: str, *, name: str | None = None) -> None:
    """Raise `WeakPasswordError` saying what to change; passwords are taken exactly as typed (no trimming)."""
    if not isinstance(password, str):
        raise WeakPasswordError("must be text")
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"is {len(password)} characters long; use at least {MIN_LENGTH}")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"is longer than {MAX_LENGTH} characters")
    if not password.strip():
        raise WeakPasswordError("is only spaces")
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in password):
        raise WeakPasswordError("contains a control character (a pasted line break or tab?)")
    if name is not None and password.strip().casefold() == name.strip().casefold():
        raise WeakPasswordError("must not be the operator's name")


def hash_password(password: str, profile: HashingProfile | None = None) -> str:
    """A new argon2id hash (PHC string with a fresh random salt) of a password that meets the rules."""
    check_password_rules(password)
    return _hasher(profile or active_profile()).hash(password)


@dataclass(frozen=True)
class PasswordCheck:
    matches: bool
    # A fresh hash with today's stronger parameters, to be stored instead of the old one (None: keep it).
    upgraded_hash: str | None = field(default=None, repr=False)


def verify_password(stored_hash: str, password: str, profile: HashingProfile | None = None) -> PasswordCheck:
    """Whether the password matches; a damaged stored hash matches nothing (it never raises for bad input)."""
    target = profile or active_profile()
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        return PasswordCheck(False)
    try:
        _hasher(target).verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return PasswordCheck(False)
    if _weaker_than(stored_hash, target.parameters):
        return PasswordCheck(True, _hasher(target).hash(password))
    return PasswordCheck(True)


def spend_a_verification(password: str) -> None:
    """Take as long as a real verification, for a name that does not exist: timing must not reveal names."""
    verify_password(_dummy_hash(active_profile()), password if isinstance(password, str) else "")


def parameters_of(stored_hash: str) -> Parameters:
    return extract_parameters(stored_hash)


def _weaker_than(stored_hash: str, target: Parameters) -> bool:
    """Upgrade only, never downgrade: a test setting must not weaken a hash made with production parameters."""
    try:
        stored = extract_parameters(stored_hash)
    except InvalidHashError:
        return True
    return (
        stored.type is not Type.ID
        or stored.version < target.version
        or stored.memory_cost < target.memory_cost
        or stored.time_cost < target.time_cost
        or stored.hash_len < target.hash_len
        or stored.salt_len < target.salt_len
    )


def _hasher(profile: HashingProfile) -> PasswordHasher:
    return PasswordHasher.from_parameters(profile.parameters)


_dummy_hashes: dict[str, str] = {}


def _dummy_hash(profile: HashingProfile) -> str:
    if profile.name not in _dummy_hashes:
        _dummy_hashes[profile.name] = _hasher(profile).hash("not a password anyone has: only spends time")
    return _dummy_hashes[profile.name]
