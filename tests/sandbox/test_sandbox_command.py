"""`treasury-app sandbox` as a person runs it: a real process, its banner, a request, SIGTERM, exit code 0."""

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner
from sandbox_doc_requests import cryptomus_sign

from treasury_app.sandbox.command_line import sandbox_command

unix_only = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM and SIGINT are POSIX signals")


def start_process(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "treasury_app.sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def read_banner(process, deadline=20.0):
    """Lines up to 'Stop with Ctrl-C.', which the sandbox prints once it listens."""
    lines, limit = [], time.monotonic() + deadline
    while time.monotonic() < limit:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Stop with Ctrl-C."):
            return lines
    process.kill()
    raise AssertionError(f"no banner: {lines!r} {process.stderr.read()!r}")


def base_url_in(lines, provider):
    (url,) = [m.group(1) for line in lines if (m := re.match(rf"{provider}\s+base URL\s+(\S+)", line))]
    return url


@unix_only
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_sandbox_serves_then_stops_cleanly_on_a_signal(stop_signal):
    process = start_process("--seed", "4", "--fault", "cryptomus:services:500:1")
    try:
        lines = read_banner(process)
        url = base_url_in(lines, "Cryptomus")
        assert base_url_in(lines, "Pay3") == url
        assert any("sandbox-cryptomus-payout-key" in line for line in lines)
        assert any("sandbox-pay3-api-secret" in line for line in lines)
        assert "Fault      cryptomus:services:500:1" in lines
        sign = cryptomus_sign(b"{}")
        headers = {"merchant": "8b7ef1b6-5c1f-4f0b-9b44-5a9d4b3c2a10", "sign": sign}
        assert httpx.post(f"{url}/v1/balance", content=b"{}", headers=headers).json()["state"] == 0
        assert httpx.post(f"{url}/v1/payout/services", content=b"{}", headers=headers).status_code == 500
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Sandbox stopped." in out
    assert "POST /v1/balance" in err  # one access-log line per request
    assert "Traceback" not in err


@unix_only
def test_the_banner_says_how_payouts_end_and_a_failure_rate_is_asked_for_by_option():
    plain = start_process("--quiet")
    with_failures = start_process("--quiet", "--failure-rate", "0.25")
    try:
        plain_lines, failing_lines = read_banner(plain), read_banner(with_failures)
        for process in (plain, with_failures):
            process.terminate()
            process.communicate(timeout=20)
    finally:
        for process in (plain, with_failures):
            if process.poll() is None:
                process.kill()
    outcomes = ("Outcomes   every payout succeeds, except amounts whose decimals end in 13 (fail) or 14 "
                "(cancelled)")
    assert outcomes in plain_lines and outcomes in failing_lines
    assert not any("at random" in line for line in plain_lines)
    assert "           and 25% fail at random (by the seed)" in failing_lines
    refused = CliRunner().invoke(sandbox_command, ["--failure-rate", "2"])
    assert refused.exit_code == 2 and "--failure-rate" in refused.output


@unix_only
def test_custom_credentials_are_printed_and_used():
    process = start_process("--cryptomus-payout-key", "my-key", "--pay3-client-id", "me", "--pay3-api-secret", "s3",
                            "--quiet")
    try:
        lines = read_banner(process)
        url = base_url_in(lines, "Pay3")
        assert any(line.endswith("my-key") for line in lines)
        token = httpx.post(f"{url}/v1/client/access-token", json={"clientId": "me", "apiSecret": "s3"})
        assert token.status_code == 200
        process.terminate()
        process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0


def test_non_loopback_host_is_refused_without_allow_remote():
    result = CliRunner().invoke(sandbox_command, ["--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


def test_badly_written_fault_flag_is_a_usage_error():
    result = CliRunner().invoke(sandbox_command, ["--fault", "cryptomus:create:teapot"])
    assert result.exit_code == 2
    assert "kind 'teapot'" in result.output


def test_help_documents_the_fault_syntax_and_the_defaults():
    result = CliRunner().invoke(sandbox_command, ["--help"], prog_name="treasury-app sandbox")
    assert result.exit_code == 0
    unwrapped = "".join(result.output.split())  # help text wraps long defaults at hyphens
    for words in ("PROVIDER:ENDPOINT:KIND[=VALUE][:COUNT]", "commit-drop", "latency=SECONDS", "8700",
                  "sandbox-cryptomus-payout-key", "sandbox-client", "sandbox-pay3-api-secret", "/_sandbox/payouts",
                  "--allow-remote"):
        assert "".join(words.split()) in unwrapped, words


def test_busy_port_is_a_clear_error(sandbox):
    result = CliRunner().invoke(sandbox_command, ["--port", str(sandbox.running.port), "--quiet"])
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{sandbox.running.port}" in result.output
