"""Address validation accepts every published and constructed valid address and refuses typos and wrong chains."""

import base64
import binascii
import re

import base58
import bech32
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from treasury_app.domain.addresses import describe_format, to_checksum_address, validate_address
from treasury_app.domain.assets import NETWORKS, AddressFormat
from treasury_app.domain.errors import InvalidFieldError

BTC, TESTNET, LTC, DOGE = (NETWORKS[c] for c in ("BTC", "BTC_TESTNET", "LTC", "DOGE"))
ETH, TRON, TON, SOL = (NETWORKS[c] for c in ("ETH", "TRON", "TON", "SOL"))
EVM_NETWORKS = [n for n in NETWORKS.values() if n.address_format is AddressFormat.EVM]
BASE58 = base58.BITCOIN_ALPHABET.decode()


# --- independent builders: the library encoders plus a CRC16 written here, not the module's ---------------

def b58check(version: int, payload: bytes) -> str:
    return base58.b58encode_check(bytes([version]) + payload).decode()


def bech32m_address(hrp: str, version: int, program: bytes) -> str:
    """BIP-350 encoding; the bech32 1.2 package only writes the older bech32 checksum."""
    data = [version] + bech32.convertbits(program, 8, 5)
    polymod = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + data + [0] * 6) ^ 0x2BC830A3
    return hrp + "1" + "".join(bech32.CHARSET[d] for d in data + [(polymod >> 5 * (5 - i)) & 31 for i in range(6)])


def crc16_xmodem(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def ton_address(account: bytes, flags: int = 0x11, workchain: int = 0, urlsafe: bool = True) -> str:
    body = bytes([flags, workchain & 0xFF]) + account
    raw = body + crc16_xmodem(body).to_bytes(2, "big")
    return (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()


def refused(network, text) -> str:
    """The message validation gives; it must be a plain sentence for a person, not a program's output."""
    with pytest.raises(InvalidFieldError) as caught:
        validate_address(network, text)
    error = caught.value
    assert error.field == "address"
    assert error.message and len(error.message) < 200
    assert not re.search(r"Traceback|Error\b|\\x|\\u|b'|<[a-z]|None", error.message), error.message
    return error.message


PAYLOAD = bytes(range(1, 21))
VALID = {
    "BTC": "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "BTC_TESTNET": "tb1q7sqtxktz3jle8evmfnnhv45s0maudwdtknmdqu",
    "LTC": b58check(0x30, PAYLOAD),
    "DOGE": b58check(0x1E, PAYLOAD),
    "ETH": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "BSC": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "POLYGON": "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "TRON": b58check(0x41, PAYLOAD),
    "TON": ton_address(bytes(range(32))),
    "SOL": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",  # the USDC mint
}
# One character changed in each: every format but Solana's carries a checksum that catches it.
TYPOS = {
    "BTC": "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
    "BTC_TESTNET": "tb1q7sqtxktz3jle8evmfnnhv45s0maudwdtknmdqv",
    "LTC": VALID["LTC"][:-1] + ("2" if VALID["LTC"][-1] != "2" else "3"),
    "DOGE": VALID["DOGE"][:-1] + ("2" if VALID["DOGE"][-1] != "2" else "3"),
    "ETH": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
    "BSC": "0xFB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "POLYGON": "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6Fb",
    "TRON": VALID["TRON"][:-1] + ("2" if VALID["TRON"][-1] != "2" else "3"),
    "TON": VALID["TON"][:-1] + ("A" if VALID["TON"][-1] != "A" else "B"),
}


def test_the_catalogue_uses_every_address_format_and_the_tests_cover_every_network():
    assert {n.address_format for n in NETWORKS.values()} == set(AddressFormat)
    assert set(VALID) == set(NETWORKS)


@pytest.mark.parametrize("code", sorted(VALID))
def test_a_valid_address_is_returned_unchanged(code):
    assert validate_address(NETWORKS[code], VALID[code]) == VALID[code]


@pytest.mark.parametrize("code", sorted(VALID))
def test_surrounding_whitespace_is_stripped_and_nothing_else_changes(code):
    assert validate_address(NETWORKS[code], f" \t{VALID[code]}\n ") == VALID[code]


@pytest.mark.parametrize("code", sorted(TYPOS))
def test_a_single_character_typo_is_refused_as_a_checksum_failure(code):
    assert "checksum" in refused(NETWORKS[code], TYPOS[code])


# --- what no address of any chain may contain -------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(NETWORKS))
@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_an_empty_address_is_refused(code, text):
    assert refused(NETWORKS[code], text) == "is empty"


@pytest.mark.parametrize("code", sorted(NETWORKS))
@pytest.mark.parametrize("inside", [" ", "\n", "\t", "\u00a0"])
def test_whitespace_inside_an_address_is_refused(code, inside):
    text = VALID[code][:10] + inside + VALID[code][10:]
    assert "space or line break inside" in refused(NETWORKS[code], text)


@pytest.mark.parametrize("code", sorted(NETWORKS))
@pytest.mark.parametrize(("odd", "named"), [
    ("\u0430", "'\u0430' (U+0430)"),  # Cyrillic a, looks like the Latin one
    ("\u200b", "invisible character (U+200B)"),  # zero-width space
    ("\x07", "invisible character (U+0007)"),
    ("\x00", "invisible character (U+0000)"),
    ("\x7f", "invisible character (U+007F)"),
    ("é", "'é' (U+00E9)"),
])
def test_control_and_non_ascii_characters_are_refused_and_named(code, odd, named):
    message = refused(NETWORKS[code], VALID[code][:5] + odd + VALID[code][6:])
    assert message.startswith("contains characters that are not allowed") and named in message


@pytest.mark.parametrize("code", sorted(NETWORKS))
def test_a_long_paste_is_refused_without_being_echoed(code):
    message = refused(NETWORKS[code], VALID[code] * 4)
    assert "longer than any address" in message and VALID[code] not in message


@pytest.mark.parametrize("code", sorted(NETWORKS))
def test_a_truncated_address_is_refused(code):
    refused(NETWORKS[code], VALID[code][:-3])


@pytest.mark.parametrize("code", sorted(NETWORKS))
def test_an_address_of_another_format_is_refused(code):
    for other, address in VALID.items():
        if NETWORKS[other].address_format is not NETWORKS[code].address_format:
            refused(NETWORKS[code], address)


def test_describe_format_gives_a_hint_for_every_network():
    assert describe_format(BTC) == "Bitcoin: starts with 1, 3 or bc1"
    assert describe_format(TESTNET) == "Bitcoin testnet: starts with m, n, 2 or tb1"
    assert describe_format(ETH) == "Ethereum: 0x followed by 40 hex digits"
    for network in NETWORKS.values():
        assert describe_format(network).startswith(network.name + ": ")


# --- Bitcoin: BIP-173 / BIP-350 published vectors ---------------------------------------------------------

BIP350_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "BTC"),
    ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "BTC_TESTNET"),
    ("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "BTC"),
    ("BC1SW50QGDZ25J", "BTC"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "BTC"),
    ("tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "BTC_TESTNET"),
    ("tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", "BTC_TESTNET"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "BTC"),
]
BIP350_INVALID = [
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # bech32 instead of bech32m
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",  # bech32 instead of bech32m
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # bech32 instead of bech32m
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # bech32m instead of bech32
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",  # bech32m instead of bech32
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # invalid character in checksum
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # invalid witness version
    "bc1pw5dgrnzv",  # program of 1 byte
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # program of 41 bytes
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program of 16 bytes
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",  # mixed case
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",  # zero padding of more than 4 bits
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",  # non-zero padding
    "bc1gmk9yu",  # empty data section
]
BIP173_INVALID = [
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # invalid checksum
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",  # invalid witness version
    "bc1rw5uspcuh",  # invalid program length
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",  # invalid program length
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",  # mixed case
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",  # zero padding of more than 4 bits
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",  # non-zero padding
]
# Valid under BIP-173, but v1+ with the old bech32 checksum, which BIP-350 made invalid.
BIP173_V1_PLUS_WITH_BECH32 = [
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
    "BC1SW50QA3JX3S",
    "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
]
UNKNOWN_HRP = [
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",  # BIP-350
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",  # BIP-173
]


@pytest.mark.parametrize(("address", "code"), BIP350_VALID)
def test_bip350_valid_segwit_addresses_pass_on_their_network(address, code):
    assert validate_address(NETWORKS[code], address) == address


@pytest.mark.parametrize(("address", "code"), BIP350_VALID)
def test_bip350_valid_segwit_addresses_are_named_on_the_other_bitcoin_network(address, code):
    other = TESTNET if code == "BTC" else BTC
    expected = "Bitcoin testnet" if code == "BTC_TESTNET" else "Bitcoin"
    assert refused(other, address) == f"is a {expected} address, but the network is {other.name}"


@pytest.mark.parametrize("address", BIP350_INVALID + BIP173_INVALID + BIP173_V1_PLUS_WITH_BECH32)
@pytest.mark.parametrize("network", [BTC, TESTNET, LTC, DOGE], ids=lambda n: n.code)
def test_bip173_and_bip350_invalid_segwit_addresses_are_refused(address, network):
    refused(network, address)


@pytest.mark.parametrize("address", UNKNOWN_HRP)
@pytest.mark.parametrize("network", [BTC, TESTNET, LTC, DOGE], ids=lambda n: n.code)
def test_segwit_addresses_of_unknown_networks_are_refused(address, network):
    assert "should start with" in refused(network, address)


def test_a_v0_address_with_a_bech32m_checksum_is_refused_for_its_checksum_kind():
    assert "wrong kind of checksum" in refused(BTC, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh")


def test_a_taproot_address_with_an_old_bech32_checksum_is_refused_for_its_checksum_kind():
    assert "wrong kind of checksum" in refused(BTC, BIP173_V1_PLUS_WITH_BECH32[0])


def test_a_mixed_case_segwit_address_is_refused_and_an_all_upper_one_passes():
    address = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
    assert validate_address(BTC, address.upper()) == address.upper()
    assert "upper- and lower-case" in refused(BTC, address[:5] + address[5].upper() + address[6:])


def test_known_bitcoin_p2pkh_and_p2sh_addresses_pass():
    assert validate_address(BTC, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") == "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
    assert validate_address(BTC, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy") == "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"


def test_bitcoin_testnet_address_is_refused_on_mainnet():
    message = refused(BTC, "tb1q7sqtxktz3jle8evmfnnhv45s0maudwdtknmdqu")
    assert message == "is a Bitcoin testnet address, but the network is Bitcoin"
    assert refused(BTC, b58check(0x6F, PAYLOAD)) == "is a Bitcoin testnet address, but the network is Bitcoin"


def test_bitcoin_mainnet_address_is_refused_on_testnet():
    assert refused(TESTNET, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") == \
        "is a Bitcoin address, but the network is Bitcoin testnet"


def test_the_pay3_seed_testnet_address_decodes():
    assert bech32.decode("tb", "tb1q7sqtxktz3jle8evmfnnhv45s0maudwdtknmdqu")[0] == 0
    assert validate_address(TESTNET, "tb1q7sqtxktz3jle8evmfnnhv45s0maudwdtknmdqu")


def test_base58_characters_that_bitcoin_leaves_out_are_named():
    message = refused(BTC, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0")
    assert "'0'" in message and "0, O, I and l" in message


def test_a_bitcoin_address_with_an_unknown_version_byte_is_refused():
    assert refused(BTC, b58check(0x01, PAYLOAD)) == "is not a Bitcoin address: it should start with 1, 3 or bc1"


def test_a_bitcoin_address_with_an_extra_character_is_refused_for_its_length():
    assert "wrong length" in refused(BTC, "1" + "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")


# --- Litecoin and Dogecoin --------------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    b58check(0x30, PAYLOAD), b58check(0x32, PAYLOAD), b58check(0x05, PAYLOAD),
    bech32.encode("ltc", 0, PAYLOAD), bech32m_address("ltc", 1, bytes(32)),
])
def test_litecoin_addresses_of_every_kind_pass(address):
    assert address[0] in "LM3l"
    assert validate_address(LTC, address) == address


@pytest.mark.parametrize("address", [b58check(0x1E, PAYLOAD), b58check(0x16, PAYLOAD)])
def test_dogecoin_addresses_of_both_kinds_pass(address):
    assert address[0] in "DA9"
    assert validate_address(DOGE, address) == address


def test_litecoin_address_is_refused_on_bitcoin():
    assert refused(BTC, b58check(0x30, PAYLOAD)) == "is a Litecoin address, but the network is Bitcoin"
    assert refused(BTC, bech32.encode("ltc", 0, PAYLOAD)) == "is a Litecoin address, but the network is Bitcoin"


def test_bitcoin_address_is_refused_on_litecoin_and_dogecoin():
    assert refused(LTC, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") == "is a Bitcoin address, but the network is Litecoin"
    assert refused(DOGE, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") == "is a Bitcoin address, but the network is Dogecoin"


def test_dogecoin_has_no_segwit_addresses():
    refused(DOGE, bech32.encode("doge", 0, PAYLOAD))
    assert refused(DOGE, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") == \
        "is a Bitcoin address, but the network is Dogecoin"


def test_dogecoin_address_is_refused_on_bitcoin():
    assert refused(BTC, b58check(0x1E, PAYLOAD)) == "is a Dogecoin address, but the network is Bitcoin"


# --- EVM: EIP-55 published vectors ------------------------------------------------------------------------

EIP55 = [
    "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",  # all caps
    "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",  # all lower
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",  # normal
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("network", EVM_NETWORKS, ids=lambda n: n.code)
@pytest.mark.parametrize("address", EIP55)
def test_eip55_vectors_pass_on_every_evm_network(network, address):
    assert validate_address(network, address) == address


@pytest.mark.parametrize("address", EIP55)
def test_to_checksum_address_gives_the_eip55_spelling(address):
    checksummed = to_checksum_address(address.lower())
    assert checksummed.lower() == address.lower()
    assert to_checksum_address(address.upper().replace("0X", "0x")) == checksummed
    assert to_checksum_address(checksummed) == checksummed
    if address[2:] not in (address[2:].lower(), address[2:].upper()):
        assert checksummed == address


@pytest.mark.parametrize("address", EIP55[4:])
def test_flipping_the_case_of_one_letter_fails_the_eip55_checksum(address):
    for i, c in enumerate(address[2:], start=2):
        if c.isalpha():
            flipped = address[:i] + c.swapcase() + address[i + 1:]
            assert refused(ETH, flipped) == "mixed-case EVM address fails its EIP-55 checksum (a typo?)"
            with pytest.raises(InvalidFieldError):
                to_checksum_address(flipped)


def test_an_evm_address_one_digit_short_says_how_many_it_has():
    assert refused(ETH, EIP55[4][:-1]) == "has 39 hex digits after 0x; an Ethereum address has 40"
    assert refused(NETWORKS["BSC"], EIP55[4] + "0") == "has 41 hex digits after 0x; a BNB Smart Chain address has 40"


def test_an_evm_address_without_0x_or_with_non_hex_is_refused():
    assert refused(ETH, EIP55[2][2:]) == "is missing the 0x at its start"
    assert "'g'" in refused(ETH, EIP55[2][:-1] + "g")
    assert "should start with 0x" in refused(ETH, "0X" + EIP55[2][2:])


def test_a_tron_address_is_refused_on_ethereum_and_an_evm_one_on_tron():
    assert refused(ETH, VALID["TRON"]) == "is a Tron address, but the network is Ethereum"
    assert refused(TRON, EIP55[4]) == "is an Ethereum-style (0x…) address, but the network is Tron"


def test_to_checksum_address_refuses_what_is_not_an_evm_address():
    with pytest.raises(InvalidFieldError) as caught:
        to_checksum_address(VALID["TRON"])
    assert caught.value.field == "address"


# --- Tron -------------------------------------------------------------------------------------------------

def test_a_tron_address_built_from_bytes_passes():
    address = b58check(0x41, bytes(20))
    assert address.startswith("T") and len(address) == 34
    assert validate_address(TRON, address) == address


def test_the_cryptomus_documentation_tron_address_has_a_bad_checksum():
    # TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV from the Cryptomus docs decodes to 25 bytes, but its checksum is wrong,
    # and no single-character change repairs it: it is an illustration, not a real address.
    with pytest.raises(ValueError):
        base58.b58decode_check("TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV")
    assert refused(TRON, "TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV") == \
        "is not a Tron address: checksum does not match (a typo?)"


def test_a_tron_address_in_hex_form_is_refused_with_the_reason():
    assert "written in hex" in refused(TRON, "41" + PAYLOAD.hex())


def test_a_tron_address_must_start_with_t():
    assert refused(TRON, "X" + VALID["TRON"][1:]) == "is not a Tron address: a Tron address starts with T"
    assert refused(TRON, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") == "is a Bitcoin address, but the network is Tron"


def test_a_tron_address_with_a_missing_character_is_refused_for_its_length():
    assert refused(TRON, VALID["TRON"][:-1]) == "is 33 characters long; a Tron address has 34"


# --- TON --------------------------------------------------------------------------------------------------

def test_the_crc16_used_here_is_xmodem_as_the_stdlib_computes_it():
    assert crc16_xmodem(b"123456789") == 0x31C3  # the published check value of CRC-16/XMODEM
    assert crc16_xmodem(b"123456789") == binascii.crc_hqx(b"123456789", 0)


@pytest.mark.parametrize("flags", [0x11, 0x51])
@pytest.mark.parametrize("workchain", [0, -1])
@pytest.mark.parametrize("urlsafe", [True, False])
def test_ton_user_friendly_addresses_pass(flags, workchain, urlsafe):
    address = ton_address(bytes(range(200, 232)), flags, workchain, urlsafe)
    assert validate_address(TON, address) == address


def test_a_known_ton_address_passes():
    assert validate_address(TON, "EQCD39VS5jcptHL8vMjEXrzGaRcCVYto7HUn4bpAOg8xqB2N")


@pytest.mark.parametrize("address", ["0:" + "ab" * 32, "-1:" + "AB" * 32])
def test_ton_raw_addresses_pass(address):
    assert validate_address(TON, address) == address


@pytest.mark.parametrize("address", ["1:" + "ab" * 32, "0:" + "ab" * 31 + "a", "0:" + "ab" * 31 + "zz", ":" + "ab" * 32])
def test_malformed_ton_raw_addresses_are_refused(address):
    assert "raw TON address" in refused(TON, address)


@pytest.mark.parametrize("flags", [0x91, 0xD1])
def test_a_ton_testnet_address_is_refused_on_mainnet(flags):
    assert refused(TON, ton_address(bytes(32), flags)) == "is a TON testnet address, but the network is TON"


def test_a_ton_address_with_an_unknown_tag_or_workchain_is_refused():
    assert "should start with EQ, UQ" in refused(TON, ton_address(bytes(32), flags=0x12))
    assert "should start with EQ, UQ" in refused(TON, ton_address(bytes(32), workchain=1))


def test_a_ton_address_of_the_wrong_length_or_mixed_alphabets_is_refused():
    assert refused(TON, VALID["TON"][:-1]) == "is 47 characters long; a TON address has 48"
    mixed = ton_address(bytes([0xFB]) * 32, urlsafe=False)
    assert "+" in mixed or "/" in mixed
    assert "mixes" in refused(TON, mixed[:-2] + "_" + mixed[-1])
    assert "'='" in refused(TON, VALID["TON"][:-1] + "=")


# --- Solana -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "11111111111111111111111111111111",  # the system program: 32 zero bytes
    "So11111111111111111111111111111111111111112",  # wrapped SOL
    base58.b58encode(bytes(range(32))).decode(),
    base58.b58encode(b"\xff" * 32).decode(),
])
def test_solana_addresses_pass(address):
    assert validate_address(SOL, address) == address


@pytest.mark.parametrize("raw", [b"\x07" * 31, b"\x00" + b"\x01" * 32], ids=["31 bytes", "33 bytes"])
def test_a_solana_address_that_is_not_32_bytes_is_refused(raw):
    address = base58.b58encode(raw).decode()
    assert 32 <= len(address) <= 44
    assert "wrong length" in refused(SOL, address)


def test_a_solana_address_with_characters_outside_base58_is_refused():
    assert "'0'" in refused(SOL, "0" + VALID["SOL"][1:])
    assert "is 31 characters long" in refused(SOL, "1" * 31)


# --- properties -------------------------------------------------------------------------------------------

CHAIN_VERSIONS = [(BTC, 0x00), (BTC, 0x05), (TESTNET, 0x6F), (TESTNET, 0xC4), (LTC, 0x30), (LTC, 0x32),
                  (LTC, 0x05), (DOGE, 0x1E), (DOGE, 0x16), (TRON, 0x41)]


@given(st.sampled_from(CHAIN_VERSIONS), st.binary(min_size=20, max_size=20))
def test_any_20_bytes_base58check_encoded_with_a_valid_version_validate(chain_version, payload):
    network, version = chain_version
    address = b58check(version, payload)
    assert validate_address(network, address) == address
    hint = describe_format(network)  # the placeholder names the first character a valid address has
    assert re.search(rf"\b{re.escape(address[0])}\b", hint), (address, hint)


@given(st.sampled_from(CHAIN_VERSIONS), st.binary(min_size=20, max_size=20), st.data())
def test_any_single_substitution_in_a_base58check_address_is_refused(chain_version, payload, data):
    network, version = chain_version
    address = b58check(version, payload)
    i = data.draw(st.integers(0, len(address) - 1))
    c = data.draw(st.sampled_from(BASE58).filter(lambda ch: ch != address[i]))
    with pytest.raises(InvalidFieldError):  # a 32-bit checksum: a collision is a 1 in 4 billion event
        validate_address(network, address[:i] + c + address[i + 1:])


SEGWIT_PROGRAMS = st.one_of(
    st.tuples(st.just(0), st.binary(min_size=20, max_size=20)),
    st.tuples(st.just(0), st.binary(min_size=32, max_size=32)),
    st.tuples(st.integers(1, 16), st.binary(min_size=2, max_size=40)),
)


@given(st.sampled_from([(BTC, "bc"), (TESTNET, "tb"), (LTC, "ltc")]), SEGWIT_PROGRAMS, st.data())
def test_any_single_substitution_in_a_segwit_address_is_refused(chain, program, data):
    network, hrp = chain
    version, witness = program
    address = bech32.encode(hrp, 0, witness) if version == 0 else bech32m_address(hrp, version, witness)
    assert validate_address(network, address) == address
    i = data.draw(st.integers(0, len(address) - 1))
    c = data.draw(st.sampled_from(bech32.CHARSET).filter(lambda ch: ch != address[i]))
    with pytest.raises(InvalidFieldError):  # bech32 and bech32m detect every error of up to 4 characters
        validate_address(network, address[:i] + c + address[i + 1:])


@given(st.binary(min_size=20, max_size=20))
def test_random_evm_addresses_validate_lower_and_checksummed(raw):
    lower = "0x" + raw.hex()
    checksummed = to_checksum_address(lower)
    assert validate_address(ETH, lower) == lower
    assert validate_address(ETH, checksummed) == checksummed
    assert to_checksum_address(checksummed) == checksummed
    assert to_checksum_address("0x" + raw.hex().upper()) == checksummed


@given(st.binary(min_size=20, max_size=20), st.data())
def test_flipping_one_letter_of_a_checksummed_evm_address_is_refused(raw, data):
    checksummed = to_checksum_address("0x" + raw.hex())
    letters = [i for i, c in enumerate(checksummed) if i >= 2 and c.isalpha()]
    assume(letters)
    i = data.draw(st.sampled_from(letters))
    flipped = checksummed[:i] + checksummed[i].swapcase() + checksummed[i + 1:]
    digits = flipped[2:]
    assume(digits not in (digits.lower(), digits.upper()))  # all one case carries no checksum
    assert "EIP-55" in refused(ETH, flipped)


@given(st.binary(min_size=32, max_size=32), st.sampled_from([0x11, 0x51]), st.sampled_from([0, -1]),
       st.booleans(), st.data())
def test_any_single_substitution_in_a_ton_address_is_refused(account, flags, workchain, urlsafe, data):
    address = ton_address(account, flags, workchain, urlsafe)
    assert validate_address(TON, address) == address
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + ("-_" if urlsafe else "+/")
    i = data.draw(st.integers(0, len(address) - 1))
    c = data.draw(st.sampled_from(alphabet).filter(lambda ch: ch != address[i]))
    with pytest.raises(InvalidFieldError):  # CRC16 detects every burst of up to 16 bits; a character is 6
        validate_address(TON, address[:i] + c + address[i + 1:])


@given(st.sampled_from(sorted(NETWORKS)), st.text(max_size=120))
def test_any_text_is_either_an_address_or_an_address_error(code, text):
    try:
        result = validate_address(NETWORKS[code], text)
    except InvalidFieldError as error:
        assert error.field == "address" and error.message
    else:
        assert result == text.strip()

