"""Cryptomus signs: the published vectors of cryptomus.md, and bodies encoded the PHP way."""

import pytest

from treasury_app.providers.cryptomus_signing import encode_body, sign_body

KEY = "TEST_PAYOUT_KEY_0123456789abcdef"
PAYOUT_BODY = (
    '{"amount":"10.50","currency":"USDT","network":"TRON","order_id":"treasury-0001",'
    '"address":"TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV","is_subtract":true,'
    '"url_callback":"https:\\/\\/example.com\\/cryptomus\\/payout"}'
)


@pytest.mark.parametrize(
    ("body", "sign"),
    [
        ("", "7a6ee735b317173eba5e4e359a15517b"),
        ("{}", "d387ee47021ee83849588f66ae148a8e"),
        ("[]", "90d42448caa86f71f4bbcb07e84eb0a7"),
        (PAYOUT_BODY, "5e7195f6720d9dc4ad8cbef1d5fba273"),
        ('{"order_id":"treasury-0001"}', "77e83153f1bbf158a38ac364fe566e83"),
        ('{"order_id":"t-2","comment":"Выплата\\/тест"}', "1d6b09b199e1afbd3ac5b93dafd99f66"),
    ],
)
def test_published_vectors_sign_as_documented(body, sign):
    assert sign_body(body.encode("utf-8"), KEY) == sign


def test_payout_body_is_encoded_byte_for_byte_like_php():
    data = {
        "amount": "10.50", "currency": "USDT", "network": "TRON", "order_id": "treasury-0001",
        "address": "TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV", "is_subtract": True,
        "url_callback": "https://example.com/cryptomus/payout",
    }
    assert encode_body(data) == PAYOUT_BODY.encode("utf-8")


def test_non_ascii_stays_raw_utf8_and_slashes_are_escaped():
    expected = '{"order_id":"t-2","comment":"Выплата\\/тест"}'.encode()
    assert encode_body({"order_id": "t-2", "comment": "Выплата/тест"}) == expected


def test_a_call_without_parameters_sends_and_signs_an_empty_object():
    assert encode_body(None) == b"{}"
    assert sign_body(encode_body({}), KEY) == "d387ee47021ee83849588f66ae148a8e"


def test_spaced_or_unescaped_encodings_sign_differently():
    # The documented alternatives: valid only if those are the bytes actually sent.
    import json

    data = json.loads(PAYOUT_BODY)
    assert sign_body(json.dumps(data).encode(), KEY) == "bc678016bfef8a0750a493c826006bec"
    assert sign_body(json.dumps(data, separators=(",", ":")).encode(), KEY) == "f10acf1b18df9b09a5179aa30551aba9"
