"""`treasury-app provider …` as a user meets it: real processes, a real data folder, the sandbox over loopback.

The keyring of these processes is chosen through PYTHON_KEYRING_BACKEND: a test backend that keeps secrets in
this test's folder, so that one process can store what the next reads, and the machine's keyring is untouched.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from treasury_app.sandbox import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
)

PROJECT = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PASSWORD = "root", "correct horse battery staple"


@pytest.fixture
def desk(tmp_path):
    """Runs the app in a subprocess with its own data folder and test keyring folder."""
    keyring_dir = tmp_path / "keyring"
    keyring_dir.mkdir()
    data_dir = tmp_path / "desk"

    def run(*args: str, stdin: str = "", backend: str = "provider_test_keyrings.TestFolderKeyring",
            password: str = ADMIN_PASSWORD):
        env = {k: v for k, v in os.environ.items() if k != "TREASURY_DATA_DIR"}
        env.update({"PYTHON_KEYRING_BACKEND": backend, "TREASURY_TEST_KEYRING_DIR": str(keyring_dir),
                    "PYTHONPATH": os.pathsep.join([str(PROJECT), str(Path(__file__).parent)]),
                    "TREASURY_PASSWORD": password, "TREASURY_INSECURE_TEST_HASHING": "1"})
        return subprocess.run([sys.executable, "-m", "treasury_app", "--data-dir", str(data_dir), *args],
                              input=stdin, capture_output=True, text=True, env=env, timeout=60, cwd=PROJECT)

    run.data_dir = data_dir
    run.keyring_dir = keyring_dir
    # Changing a provider profile is an admin's act: the desk starts with one.
    created = run("operator", "add", ADMIN, "--role", "admin", stdin=ADMIN_PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    return run


def set_cryptomus(desk, sandbox, key=DEFAULT_CRYPTOMUS_PAYOUT_KEY):
    return desk("provider", "set", "cryptomus", "--as", ADMIN, "--base-url", sandbox.base_url, "--merchant",
                DEFAULT_CRYPTOMUS_MERCHANT, stdin=key + "\n")


def ledger_bytes(data_dir: Path) -> bytes:
    """The ledger file and its WAL and shared-memory companions, as stored on disk."""
    return b"".join(path.read_bytes() for path in sorted(data_dir.glob("ledger.sqlite3*")))


def test_set_cryptomus_reads_the_key_from_stdin_and_check_prints_balances(desk, sandbox):
    result = set_cryptomus(desk, sandbox)
    assert result.returncode == 0, result.stderr
    assert "[SANDBOX]" in result.stdout and "provider check cryptomus" in result.stdout
    check = desk("provider", "check", "cryptomus")
    assert check.returncode == 0, check.stderr
    assert "Reachable:    yes" in check.stdout and "Credentials:  accepted" in check.stdout
    assert "USDT       25000" in check.stdout
    for output in (result.stdout, result.stderr, check.stdout, check.stderr):
        assert DEFAULT_CRYPTOMUS_PAYOUT_KEY not in output


def test_the_secret_is_in_the_keyring_and_nowhere_in_the_ledger_files(desk, sandbox):
    assert set_cryptomus(desk, sandbox).returncode == 0
    assert desk("provider", "check", "cryptomus").returncode == 0  # the ledger has been used with the profile
    stored = ledger_bytes(desk.data_dir)
    assert DEFAULT_CRYPTOMUS_MERCHANT.encode() in stored  # the profile is there…
    assert DEFAULT_CRYPTOMUS_PAYOUT_KEY.encode() not in stored  # …its secret is not
    (entry,) = desk.keyring_dir.iterdir()
    assert DEFAULT_CRYPTOMUS_PAYOUT_KEY in entry.read_text()


def test_show_lists_profiles_and_never_their_secrets(desk, sandbox):
    assert set_cryptomus(desk, sandbox).returncode == 0
    assert desk("provider", "set", "pay3", "--as", ADMIN, "--base-url", sandbox.base_url, "--client-id", DEFAULT_PAY3_CLIENT_ID,
                stdin=DEFAULT_PAY3_API_SECRET + "\n").returncode == 0
    text, as_json = desk("provider", "show"), desk("provider", "show", "--json")
    assert text.returncode == 0 and as_json.returncode == 0
    assert "Cryptomus (cryptomus)" in text.stdout and "Pay3 (pay3)" in text.stdout
    assert "in the keyring ('treasury-desk' / 'cryptomus:" in text.stdout
    profiles = {p["name"]: p for p in json.loads(as_json.stdout)}
    assert profiles["pay3"]["account"] == DEFAULT_PAY3_CLIENT_ID and profiles["cryptomus"]["sandbox"] is True
    for output in (text.stdout, as_json.stdout):
        assert DEFAULT_CRYPTOMUS_PAYOUT_KEY not in output and DEFAULT_PAY3_API_SECRET not in output


def test_set_pay3_with_currencies_then_check_and_assets(desk, sandbox):
    result = desk("provider", "set", "pay3", "--as", ADMIN, "--base-url", sandbox.base_url, "--client-id", DEFAULT_PAY3_CLIENT_ID,
                  "--currency", "USDT-TRON=USDT:TRON", "--currency", "BTC-BitcoinTestnet=BTC:BTC_TESTNET",
                  stdin=DEFAULT_PAY3_API_SECRET + "\n")
    assert result.returncode == 0, result.stderr
    check = desk("provider", "check", "pay3", "--json")
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert report["ok"] and report["balances"] == {} and "no balance endpoint" in report["balances_note"]
    assets = desk("provider", "assets", "pay3")
    assert assets.returncode == 0, assets.stderr
    assert "USDT-TRON" in assets.stdout and "BTC-BTC_TESTNET" in assets.stdout
    assert "USDT-ETH" not in assets.stdout and "given by the estimate" in assets.stdout


def test_assets_of_cryptomus_show_limits_and_fee_rule(desk, sandbox):
    assert set_cryptomus(desk, sandbox).returncode == 0
    result = desk("provider", "assets", "cryptomus", "--json")
    assert result.returncode == 0, result.stderr
    tron = next(a for a in json.loads(result.stdout) if a["asset"] == "USDT-TRON")
    assert (tron["min_amount"], tron["fee_fixed"], tron["available"]) == ("0.50000000", "1.00000000", True)
    text = desk("provider", "assets", "cryptomus").stdout
    assert "USDT-TRON" in text and "1 USDT + 0 %" in text


def test_check_with_a_wrong_key_says_the_credentials_were_refused_and_exits_1(desk, sandbox):
    assert set_cryptomus(desk, sandbox, key="wrong-payout-key-123").returncode == 0
    check = desk("provider", "check", "cryptomus")
    assert check.returncode == 1
    assert "Credentials:  refused" in check.stdout and "Invalid Sign" in check.stderr
    assert "wrong-payout-key-123" not in check.stdout + check.stderr


def test_a_plain_http_base_url_to_another_computer_is_refused(desk):
    result = desk("provider", "set", "cryptomus", "--as", ADMIN, "--base-url", "http://api.cryptomus.com", "--merchant",
                  DEFAULT_CRYPTOMUS_MERCHANT, stdin="some-payout-key\n")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: base_url: must use https")


def test_no_secret_on_stdin_is_a_clear_error(desk, sandbox):
    result = desk("provider", "set", "cryptomus", "--as", ADMIN, "--base-url", sandbox.base_url, "--merchant",
                  DEFAULT_CRYPTOMUS_MERCHANT, stdin="")
    assert result.returncode == 1 and "no Cryptomus payout API key was given" in result.stderr


def test_without_a_usable_keyring_nothing_is_saved_and_the_error_says_how_to_get_one(desk, sandbox):
    result = desk("provider", "set", "cryptomus", "--as", ADMIN, "--base-url", sandbox.base_url, "--merchant",
                  DEFAULT_CRYPTOMUS_MERCHANT, stdin=DEFAULT_CRYPTOMUS_PAYOUT_KEY + "\n",
                  backend="keyring.backends.fail.Keyring")
    assert result.returncode == 1
    assert "no usable keyring" in result.stderr and "PYTHON_KEYRING_BACKEND" in result.stderr
    assert "No provider is set up" in desk("provider", "show").stdout
    assert DEFAULT_CRYPTOMUS_PAYOUT_KEY.encode() not in ledger_bytes(desk.data_dir)


def test_check_of_a_provider_never_set_up_says_what_to_do(desk):
    result = desk("provider", "check", "pay3")
    assert result.returncode == 1 and "provider set pay3" in result.stderr


def test_remove_deletes_the_profile_and_its_secret(desk, sandbox):
    assert set_cryptomus(desk, sandbox).returncode == 0
    result = desk("provider", "remove", "cryptomus", "--as", ADMIN)
    assert result.returncode == 0 and "removed" in result.stdout
    assert list(desk.keyring_dir.iterdir()) == []
    assert "No provider is set up" in desk("provider", "show").stdout


def test_only_an_admin_may_set_up_a_provider_and_the_change_is_audited(desk, sandbox):
    clerk_password = "clerk password 1234"
    clerk = desk("operator", "add", "clerk", "--role", "initiator", "--as", ADMIN, stdin=clerk_password + "\n")
    assert clerk.returncode == 0, clerk.stderr
    refused = desk("provider", "set", "cryptomus", "--as", "clerk", "--base-url", sandbox.base_url,
                   "--merchant", DEFAULT_CRYPTOMUS_MERCHANT, stdin=DEFAULT_CRYPTOMUS_PAYOUT_KEY + "\n",
                   password=clerk_password)
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: ") and "admin" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert json.loads(desk("provider", "show", "--json").stdout) == []
    assert not any(path.is_file() for path in desk.keyring_dir.rglob("*")), "no secret may be stored"

    assert set_cryptomus(desk, sandbox).returncode == 0
    trail = desk("audit", "show", "--json")
    assert trail.returncode == 0, trail.stderr
    assert "provider.set" in trail.stdout and DEFAULT_CRYPTOMUS_PAYOUT_KEY not in trail.stdout
    removed = desk("provider", "remove", "cryptomus", "--as", ADMIN)
    assert removed.returncode == 0, removed.stderr
    assert "provider.removed" in desk("audit", "show", "--json").stdout
    verified = desk("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
