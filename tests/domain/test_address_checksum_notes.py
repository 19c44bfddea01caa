"""An EVM address written in one case carries no checksum: the domain says so and gives the checksummed
spelling to compare, refuses a wrong mixed-case checksum, and keeps one spelling for the address book."""

import hashlib

import pytest
from Crypto.Hash import keccak

from treasury_app.domain.addresses import (
    ChecksumNote,
    address_checksum_note,
    canonical_address,
    to_checksum_address,
    validate_address,
)
from treasury_app.domain.assets import NETWORKS
from treasury_app.domain.errors import InvalidFieldError

ETH, BSC, TRON, SOL = (NETWORKS[c] for c in ("ETH", "BSC", "TRON", "SOL"))
# EIP-55's own mixed-case vectors.
CHECKSUMMED = ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
               "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"]
# An EIP-55 vector whose checksummed spelling is all capitals, and the typo of it in lower case.
ALL_CAPS = "0x52908400098527886E0F7030069857D2E4169EE7"
TYPO_IN_LOWER_CASE = "0x52908400098527886e0f7030069857d2e4169ee8"
TRON_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


@pytest.mark.parametrize(("data", "digest"), [
    (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
])
def test_the_hash_behind_eip55_is_keccak_256_not_the_standard_sha3_256(data, digest):
    # EIP-55 hashes with Keccak-256 as Ethereum uses it; hashlib's sha3_256 pads differently.
    assert keccak.new(digest_bits=256, data=data).hexdigest() == digest
    assert hashlib.sha3_256(data).hexdigest() != digest


@pytest.mark.parametrize("address", CHECKSUMMED)
def test_an_address_in_lower_or_upper_case_gets_a_note_with_its_eip55_spelling(address):
    for one_case in (address.lower(), "0x" + address[2:].upper()):
        assert address_checksum_note(ETH, one_case) == ChecksumNote(one_case, address)


@pytest.mark.parametrize("address", [*CHECKSUMMED, ALL_CAPS])
def test_a_checksummed_address_gets_no_note(address):
    assert address_checksum_note(ETH, address) is None
    assert address_checksum_note(BSC, address) is None


def test_a_one_character_typo_in_lower_case_is_accepted_but_noted_with_a_spelling_that_differs():
    assert validate_address(ETH, TYPO_IN_LOWER_CASE) == TYPO_IN_LOWER_CASE
    note = address_checksum_note(ETH, TYPO_IN_LOWER_CASE)
    assert note is not None
    assert note.checksummed.lower() == TYPO_IN_LOWER_CASE
    # Beside the payee's checksummed spelling, the typo shows as more than the one digit: its letters' case moves.
    differing = [i for i, (mine, theirs) in enumerate(zip(note.checksummed, ALL_CAPS)) if mine != theirs]
    assert len(differing) > 1 and differing[-1] == len(ALL_CAPS) - 1


def test_a_wrong_mixed_case_checksum_is_refused_naming_the_address():
    wrong = CHECKSUMMED[0][:3] + CHECKSUMMED[0][3].swapcase() + CHECKSUMMED[0][4:]
    with pytest.raises(InvalidFieldError) as caught:
        address_checksum_note(ETH, wrong)
    assert caught.value.field == "address"
    assert "EIP-55 checksum" in caught.value.message


def test_formats_with_their_own_checksum_or_none_to_spell_get_no_note():
    assert address_checksum_note(TRON, TRON_ADDRESS) is None
    assert address_checksum_note(SOL, "11111111111111111111111111111111") is None


def test_the_canonical_spelling_is_eip55_for_evm_and_as_given_elsewhere():
    assert canonical_address(ETH, "  " + CHECKSUMMED[1].lower() + " ") == CHECKSUMMED[1]
    assert canonical_address(ETH, CHECKSUMMED[1]) == to_checksum_address(CHECKSUMMED[1])
    assert canonical_address(TRON, f" {TRON_ADDRESS}\n") == TRON_ADDRESS
    with pytest.raises(InvalidFieldError) as caught:
        canonical_address(ETH, CHECKSUMMED[1].swapcase().replace("0X", "0x"))
    assert caught.value.field == "address"
