"""Password hashes: argon2id with memory-hard production parameters, rules for new passwords, verification
that never raises on bad input, and upgrades (never downgrades) of stored hashes."""

from __future__ import annotations

import pytest
from argon2 import Type

from treasury_app.security import passwords
from treasury_app.security.errors import WeakPasswordError
from treasury_app.security.passwords import (
    MIN_LENGTH,
    PRODUCTION_PROFILE,
    TEST_HASHING_ENV,
    TEST_PROFILE,
    active_profile,
    check_password_rules,
    hash_password,
    parameters_of,
    verify_password,
)

OWASP_MIN_MEMORY_KIB = 19 * 1024
GOOD = "correct horse battery staple"


def test_production_parameters_are_argon2id_and_at_least_owasps_minimum():
    params = PRODUCTION_PROFILE.parameters
    assert params.type is Type.ID
    assert params.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert params.time_cost >= 2 and params.salt_len >= 16 and params.hash_len >= 32


def test_without_the_test_setting_real_hashes_use_the_production_parameters(monkeypatch):
    monkeypatch.delenv(TEST_HASHING_ENV, raising=False)
    assert active_profile() is PRODUCTION_PROFILE
    stored = hash_password(GOOD)
    assert stored.startswith("$argon2id$")
    made_with = parameters_of(stored)
    assert (made_with.memory_cost, made_with.time_cost, made_with.parallelism) == (
        PRODUCTION_PROFILE.parameters.memory_cost, PRODUCTION_PROFILE.parameters.time_cost,
        PRODUCTION_PROFILE.parameters.parallelism)
    assert verify_password(stored, GOOD).matches


@pytest.mark.parametrize("value", ["0", "yes", "true", ""])
def test_only_the_exact_test_setting_switches_to_cheap_hashing(monkeypatch, value):
    monkeypatch.setenv(TEST_HASHING_ENV, value)
    assert active_profile() is PRODUCTION_PROFILE
    monkeypatch.setenv(TEST_HASHING_ENV, "1")
    assert active_profile() is TEST_PROFILE
    assert TEST_PROFILE.parameters.type is Type.ID  # cheap, but the same algorithm and code path


def test_each_hash_has_its_own_salt():
    first, second = (hash_password(GOOD, TEST_PROFILE) for _ in range(2))
    assert first != second
    assert verify_password(first, GOOD, TEST_PROFILE).matches and verify_password(second, GOOD, TEST_PROFILE).matches


@pytest.mark.parametrize("attempt", ["correct horse battery stapl", "Correct horse battery staple", "", " " + GOOD,
                                     "x" * 5000, None])
def test_anything_but_the_exact_password_fails_without_raising(attempt):
    stored = hash_password(GOOD, TEST_PROFILE)
    assert verify_password(stored, attempt, TEST_PROFILE).matches is False


@pytest.mark.parametrize("damaged", ["", "not a hash", "$argon2id$v=19$m=64,t=1,p=1$", "$2b$12$abcdefghijk"])
def test_a_damaged_stored_hash_matches_nothing(damaged):
    assert verify_password(damaged, GOOD, TEST_PROFILE).matches is False


def test_a_hash_with_weaker_parameters_is_upgraded_after_a_successful_check():
    weak = hash_password(GOOD, TEST_PROFILE)
    check = verify_password(weak, GOOD, PRODUCTION_PROFILE)
    assert check.matches and check.upgraded_hash is not None
    assert parameters_of(check.upgraded_hash).memory_cost == PRODUCTION_PROFILE.parameters.memory_cost
    assert check.upgraded_hash not in repr(check)
    assert verify_password(weak, "wrong password!", PRODUCTION_PROFILE).upgraded_hash is None


def test_a_stronger_hash_is_never_downgraded_by_the_test_setting():
    strong = hash_password(GOOD, PRODUCTION_PROFILE)
    check = verify_password(strong, GOOD, TEST_PROFILE)
    assert check.matches and check.upgraded_hash is None


@pytest.mark.parametrize(("password", "why"), [
    ("x" * (MIN_LENGTH - 1), f"use at least {MIN_LENGTH}"),
    (" " * 20, "only spaces"),
    ("tab\there and long", "control character"),
    ("y" * (passwords.MAX_LENGTH + 1), "longer than"),
])
def test_a_new_password_must_meet_the_rules(password, why):
    with pytest.raises(WeakPasswordError, match=why) as refused:
        check_password_rules(password)
    assert refused.value.field == "password"


def test_a_password_of_exactly_the_minimum_length_and_any_script_is_accepted():
    check_password_rules("x" * MIN_LENGTH)
    check_password_rules("пароль-очень-длинный")
    with pytest.raises(WeakPasswordError, match="operator's name"):
        check_password_rules("Alexander-The-Op", name="alexander-the-op")
