"""Cryptomus's `sign` header: the published vectors, checked over the raw bytes whatever their JSON layout."""

import json

import pytest
from sandbox_doc_requests import MERCHANT, TRON_ADDRESS, cryptomus_sign, decimal_json, payout_fields, php_json

from treasury_app.sandbox.cryptomus_api import cryptomus_sign as sandbox_sign

VECTOR_KEY = "TEST_PAYOUT_KEY_0123456789abcdef"
VECTOR_ADDRESS = "TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV"
VECTOR_PAYOUT_BODY = (
    '{"amount":"10.50","currency":"USDT","network":"TRON","order_id":"treasury-0001",'
    '"address":"TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV","is_subtract":true,'
    '"url_callback":"https:\\/\\/example.com\\/cryptomus\\/payout"}'
)
# The table of cryptomus.md, body as exact UTF-8 bytes.
VECTORS = [
    ("", "7a6ee735b317173eba5e4e359a15517b"),
    ("{}", "d387ee47021ee83849588f66ae148a8e"),
    ("[]", "90d42448caa86f71f4bbcb07e84eb0a7"),
    (VECTOR_PAYOUT_BODY, "5e7195f6720d9dc4ad8cbef1d5fba273"),
    ('{"order_id":"treasury-0001"}', "77e83153f1bbf158a38ac364fe566e83"),
    ('{"order_id":"t-2","comment":"Выплата\\/тест"}', "1d6b09b199e1afbd3ac5b93dafd99f66"),
]
SPACED_PAYOUT_SIGN = "bc678016bfef8a0750a493c826006bec"
UNESCAPED_SLASH_PAYOUT_SIGN = "f10acf1b18df9b09a5179aa30551aba9"


@pytest.fixture
def vector_cryptomus(start_sandbox):
    """A sandbox whose payout key is the vectors' key, so the published bodies and signs go through as they are."""
    box = start_sandbox(cryptomus_payout_key=VECTOR_KEY)
    client = box.cryptomus
    client.key = VECTOR_KEY
    return client


@pytest.mark.parametrize(("body", "sign"), VECTORS, ids=["empty", "{}", "[]", "payout", "order_id", "utf8"])
def test_sandbox_sign_function_matches_the_published_vectors(body, sign):
    assert sandbox_sign(body.encode(), VECTOR_KEY) == sign
    assert cryptomus_sign(body.encode(), VECTOR_KEY) == sign


def test_the_spaced_and_unescaped_layouts_sign_as_documented():
    data = json.loads(VECTOR_PAYOUT_BODY)
    assert sandbox_sign(json.dumps(data).encode(), VECTOR_KEY) == SPACED_PAYOUT_SIGN
    compact = json.dumps(data, separators=(",", ":")).encode()
    assert sandbox_sign(compact, VECTOR_KEY) == UNESCAPED_SLASH_PAYOUT_SIGN


def test_published_payout_vector_passes_the_sign_check(vector_cryptomus):
    """The exact published bytes and sign are accepted; only the vector's address is refused.

    The vector's TRON address has a bad base58check checksum, so the answer is the 422 for `address` alone:
    the sign, and every other field, passed.
    """
    response = vector_cryptomus.send("/v1/payout", VECTOR_PAYOUT_BODY.encode(), sign="5e7195f6720d9dc4ad8cbef1d5fba273")
    assert response.status_code == 422
    assert response.json() == {"state": 1, "errors": {"address": ["validation.address"]}}


def test_published_payout_vector_with_a_valid_address_creates_the_payout(vector_cryptomus):
    body = VECTOR_PAYOUT_BODY.replace(VECTOR_ADDRESS, TRON_ADDRESS).encode()
    result = vector_cryptomus.result(vector_cryptomus.send("/v1/payout", body))
    assert (result["amount"], result["currency"], result["network"]) == ("10.50000000", "USDT", "TRON")
    assert result["address"] == TRON_ADDRESS and result["status"] == "process"


def test_published_order_id_vector_reads_the_payout(vector_cryptomus):
    vector_cryptomus.result(vector_cryptomus.create(order_id="treasury-0001"))
    response = vector_cryptomus.send("/v1/payout/info", b'{"order_id":"treasury-0001"}',
                                     sign="77e83153f1bbf158a38ac364fe566e83")
    assert vector_cryptomus.result(response)["address"] == TRON_ADDRESS


def test_published_order_id_vector_for_no_payout_is_not_found_rather_than_refused(vector_cryptomus):
    response = vector_cryptomus.send("/v1/payout/info", b'{"order_id":"treasury-0001"}',
                                     sign="77e83153f1bbf158a38ac364fe566e83")
    assert response.status_code == 404


@pytest.mark.parametrize(("body", "sign"), VECTORS[:3], ids=["empty", "{}", "[]"])
@pytest.mark.parametrize("path", ["/v1/balance", "/v1/payout/services"])
def test_calls_without_parameters_accept_empty_body_braces_and_brackets(vector_cryptomus, path, body, sign):
    response = vector_cryptomus.send(path, body.encode(), sign=sign)
    assert response.status_code == 200 and response.json()["state"] == 0


def test_utf8_vector_passes_the_sign_check_and_then_fails_validation(vector_cryptomus):
    """The sixth vector is not a create request, but its sign over raw UTF-8 must be accepted."""
    body = '{"order_id":"t-2","comment":"Выплата\\/тест"}'.encode()
    response = vector_cryptomus.send("/v1/payout", body, sign="1d6b09b199e1afbd3ac5b93dafd99f66")
    assert response.status_code == 422
    assert "amount" in response.json()["errors"]


@pytest.mark.parametrize(("layout", "sign"), [({}, SPACED_PAYOUT_SIGN),
                                              ({"separators": (",", ":")}, UNESCAPED_SLASH_PAYOUT_SIGN)],
                         ids=["spaced", "unescaped-slash"])
def test_other_layouts_of_the_vector_pass_the_sign_check_with_their_documented_signs(vector_cryptomus, layout, sign):
    body = json.dumps(json.loads(VECTOR_PAYOUT_BODY), **layout).encode()
    response = vector_cryptomus.send("/v1/payout", body, sign=sign)
    assert response.json() == {"state": 1, "errors": {"address": ["validation.address"]}}


def test_spaced_json_body_is_accepted_when_its_bytes_are_signed(vector_cryptomus):
    body = json.dumps(payout_fields(url_callback="https://example.com/cryptomus/payout"), indent=2).encode()
    assert b'": ' in body and b"\n" in body  # spaces and newlines between the tokens
    result = vector_cryptomus.result(vector_cryptomus.send("/v1/payout", body))
    assert result["status"] == "process"


def test_unescaped_slash_body_is_accepted_when_its_bytes_are_signed(vector_cryptomus):
    body = json.dumps(payout_fields(url_callback="https://example.com/cryptomus/payout"),
                      separators=(",", ":")).encode()
    assert b"https://example.com" in body
    result = vector_cryptomus.result(vector_cryptomus.send("/v1/payout", body))
    assert result["status"] == "process"


def test_escaped_slash_and_raw_utf8_body_is_accepted_when_its_bytes_are_signed(vector_cryptomus):
    body = php_json(payout_fields(url_callback="https://example.com/выплата"))
    assert b"https:\\/\\/" in body and "выплата".encode() in body
    assert vector_cryptomus.result(vector_cryptomus.send("/v1/payout", body))["status"] == "process"


@pytest.mark.parametrize("other_layout_sign", [SPACED_PAYOUT_SIGN, UNESCAPED_SLASH_PAYOUT_SIGN])
def test_sign_of_another_layout_is_refused_for_these_bytes(vector_cryptomus, other_layout_sign):
    response = vector_cryptomus.send("/v1/payout", VECTOR_PAYOUT_BODY.encode(), sign=other_layout_sign)
    assert response.status_code == 401
    assert response.json() == {"state": 1, "message": "Invalid Sign."}
    assert vector_cryptomus.http.get("/_sandbox/payouts").json()["payouts"] == []


def test_wrong_key_sign_is_refused_and_creates_nothing(sandbox, cryptomus):
    body = php_json(payout_fields())
    response = cryptomus.send("/v1/payout", body, sign=cryptomus_sign(body, "not-the-payout-key"))
    assert response.status_code == 401
    assert decimal_json(response)["state"] == 1
    assert sandbox.payouts() == []


def test_missing_sign_is_refused(sandbox):
    response = sandbox.http.post("/v1/balance", content=b"{}", headers={"merchant": MERCHANT})
    assert response.status_code == 401
    assert response.json()["state"] == 1


def test_unknown_merchant_is_refused(cryptomus):
    response = cryptomus.call("/v1/balance", merchant="00000000-0000-4000-8000-000000000000")
    assert response.status_code == 401
    assert response.json() == {"state": 1, "message": "Merchant not found"}


def test_missing_merchant_is_refused(sandbox, cryptomus):
    response = sandbox.http.post("/v1/balance", content=b"{}", headers={"sign": cryptomus_sign(b"{}")})
    assert response.status_code == 401
    assert response.json()["state"] == 1


def test_answers_escape_slashes_as_php_does(cryptomus):
    response = cryptomus.call("/v1/payout/services")
    assert response.status_code == 200
    assert "/" not in response.text.replace("\\/", "")
