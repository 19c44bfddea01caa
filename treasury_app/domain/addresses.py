"""Checks that a payee address is well formed for the network it will be paid on, before any money moves."""

from __future__ import annotations

import base64
import binascii
import hashlib
import string
from collections.abc import Callable
from dataclasses import dataclass

import base58
from bech32 import CHARSET as BECH32_CHARSET
from bech32 import bech32_hrp_expand, bech32_polymod, convertbits

from .assets import AddressFormat, Network
from .errors import InvalidFieldError

_FIELD = "address"
# Longer than any address of any supported chain (bech32 stops at 90): a pasted paragraph is refused
# before it reaches a decoder.
_MAX_LENGTH = 100
_BASE58 = base58.BITCOIN_ALPHABET.decode("ascii")
_HEX = frozenset(string.hexdigits)
_TON_CHARS = frozenset(string.ascii_letters + string.digits + "+/-_")
# What the bech32 polymod leaves for a valid checksum: 1 for bech32 (BIP-173), this for bech32m (BIP-350).
_BECH32M_CONST = 0x2BC830A3


@dataclass(frozen=True)
class _Chain:
    """A Bitcoin-family chain: its base58check version bytes and, if it has segwit, its bech32 prefix."""

    versions: frozenset[int]
    starts: tuple[str, ...]  # how its addresses begin; says what was expected and tells chains apart
    hrp: str | None = None


_CHAINS: dict[AddressFormat, _Chain] = {
    AddressFormat.BITCOIN: _Chain(frozenset({0x00, 0x05}), ("1", "3", "bc1"), "bc"),
    AddressFormat.BITCOIN_TESTNET: _Chain(frozenset({0x6F, 0xC4}), ("m", "n", "2", "tb1"), "tb"),
    # Litecoin moved P2SH to its own M prefix, but wallets still hand out the Bitcoin-shared 3 form.
    AddressFormat.LITECOIN: _Chain(frozenset({0x30, 0x32, 0x05}), ("L", "M", "3", "ltc1"), "ltc"),
    AddressFormat.DOGECOIN: _Chain(frozenset({0x1E, 0x16}), ("D", "A", "9")),
}

# How a format is named when an address turns out to belong to it rather than to the chosen network.
_LABELS: dict[AddressFormat, str] = {
    AddressFormat.BITCOIN: "Bitcoin",
    AddressFormat.BITCOIN_TESTNET: "Bitcoin testnet",
    AddressFormat.LITECOIN: "Litecoin",
    AddressFormat.DOGECOIN: "Dogecoin",
    AddressFormat.EVM: "Ethereum-style (0x…)",
    AddressFormat.TRON: "Tron",
    AddressFormat.TON: "TON",
    AddressFormat.SOLANA: "Solana",
}


def _an(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def _either(options: tuple[str, ...]) -> str:
    return ", ".join(options[:-1]) + " or " + options[-1]


def _refuse(message: str) -> InvalidFieldError:
    return InvalidFieldError(_FIELD, message)


def _quoted(chars: set[str]) -> str:
    return ", ".join(f"'{c}'" for c in sorted(chars))


def _clean(text: str) -> str:
    """Strip surrounding whitespace and refuse what no address of any chain can contain."""
    address = (text or "").strip()
    if not address:
        raise _refuse("is empty")
    if any(c.isspace() for c in address):
        raise _refuse("has a space or line break inside; an address is one unbroken run of characters")
    # Lookalike letters (Cyrillic а for Latin a) and invisible characters are how a swapped address hides.
    odd = dict.fromkeys(c for c in address if not (c.isascii() and c.isprintable()))
    if odd:
        shown = ", ".join(
            f"'{c}' (U+{ord(c):04X})" if c.isprintable() else f"an invisible character (U+{ord(c):04X})"
            for c in list(odd)[:3]
        )
        raise _refuse(f"contains characters that are not allowed: {shown}; addresses use plain Latin "
                      "letters and digits only")
    if len(address) > _MAX_LENGTH:
        raise _refuse(f"is {len(address)} characters long, longer than any address (was something else pasted?)")
    return address


def _base58check(text: str, name: str) -> bytes:
    """The version byte and 20-byte payload of a 25-byte base58check string (Bitcoin family, Tron)."""
    bad = set(text) - set(_BASE58)
    if bad:
        raise _refuse(f"contains {_quoted(bad)}, which cannot appear in {_an(name)} address "
                      "(it uses digits and letters except 0, O, I and l)")
    raw = base58.b58decode(text)
    if len(raw) != 25:
        raise _refuse(f"has the wrong length for {_an(name)} address (a character missing or extra?)")
    if hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] != raw[21:]:
        raise _refuse(f"is not {_an(name)} address: checksum does not match (a typo?)")
    return raw[:21]


def _check_segwit(text: str, hrp: str, name: str) -> None:
    """BIP-173 and BIP-350: v0 programs carry a bech32 checksum, v1 to v16 (taproot on) a bech32m one."""
    if text != text.lower() and text != text.upper():
        raise _refuse(f"mixes upper- and lower-case letters; {_an(name)} {hrp}1 address is written in one case")
    data = text.lower()[len(hrp) + 1:]
    bad = set(data) - set(BECH32_CHARSET)
    if bad:
        raise _refuse(f"contains {_quoted(bad)}, which cannot appear after {hrp}1 "
                      "(it uses digits and letters except 1, b, i and o)")
    values = [BECH32_CHARSET.index(c) for c in data]
    if len(values) < 7:  # a version symbol and the six checksum symbols
        raise _refuse(f"is too short to be {_an(name)} address (characters missing?)")
    constant = bech32_polymod(bech32_hrp_expand(hrp) + values)
    if constant not in (1, _BECH32M_CONST):
        raise _refuse(f"is not {_an(name)} address: checksum does not match (a typo?)")
    version = values[0]
    if version > 16:
        raise _refuse(f"is not {_an(name)} address: segwit version {version} does not exist (a typo?)")
    if constant != (1 if version == 0 else _BECH32M_CONST):
        raise _refuse(f"has the wrong kind of checksum for its version ({hrp}1q needs bech32, later "
                      "versions bech32m); the wallet that made it may be outdated")
    program = convertbits(values[1:-6], 5, 8, False)
    if program is None or not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
        raise _refuse(f"has the wrong length for {_an(name)} address (a character missing or extra?)")


def _check_bitcoin_family(text: str, network: Network) -> None:
    chain = _CHAINS[network.address_format]
    # The hrp may be written in capitals (BIP-173 allows all-upper for QR codes); base58 prefixes may not.
    if chain.hrp is not None and text.lower().startswith(chain.hrp + "1"):
        _check_segwit(text, chain.hrp, network.name)
        return
    if not text.startswith(chain.starts):
        raise _refuse(f"is not {_an(network.name)} address: it should start with {_either(chain.starts)}")
    if _base58check(text, network.name)[0] not in chain.versions:
        raise _refuse(f"is not {_an(network.name)} address: it should start with {_either(chain.starts)}")


def _eip55(hex40: str) -> str:
    """EIP-55: a hex letter is upper case where the keccak-256 of the lower-case hex has a nibble >= 8."""
    from Crypto.Hash import keccak  # here, not at the top: it costs the window's start ~50 ms of imports

    lower = hex40.lower()
    digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
    return "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, digest))


def _check_evm(text: str, network: Network) -> None:
    if not text.startswith("0x"):
        if len(text) == 40 and set(text) <= _HEX:
            raise _refuse("is missing the 0x at its start")
        raise _refuse(f"is not {_an(network.name)} address: it should start with 0x")
    digits = text[2:]
    bad = set(digits) - _HEX
    if bad:
        raise _refuse(f"has characters that are not hex digits (0-9, a-f) after 0x: {_quoted(bad)}")
    if len(digits) != 40:
        raise _refuse(f"has {len(digits)} hex digits after 0x; {_an(network.name)} address has 40")
    # All one case carries no checksum (older wallets write it so); mixed case is a checksum to honour.
    if digits != digits.lower() and digits != digits.upper() and _eip55(digits) != digits:
        raise _refuse("mixed-case EVM address fails its EIP-55 checksum (a typo?)")


def _check_tron(text: str, network: Network) -> None:
    if len(text) == 42 and text.startswith("41") and set(text) <= _HEX:
        raise _refuse("is a Tron address written in hex (41…); payout providers need the form that starts with T")
    if not text.startswith("T"):
        raise _refuse(f"is not {_an(network.name)} address: {_an(network.name)} address starts with T")
    # Every 0x41-led 25-byte value spells 34 characters, so a dropped character is reported as such.
    if len(text) != 34:
        raise _refuse(f"is {len(text)} characters long; {_an(network.name)} address has 34")
    if _base58check(text, network.name)[0] != 0x41:
        raise _refuse(f"is not {_an(network.name)} address: {_an(network.name)} address starts with T")


def _check_ton(text: str, network: Network) -> None:
    if ":" in text:  # raw form, <workchain>:<account hash>
        workchain, _, account = text.partition(":")
        if workchain not in ("0", "-1"):
            raise _refuse("is a raw TON address whose workchain is not 0 or -1")
        if len(account) != 64 or not set(account) <= _HEX:
            raise _refuse("is a raw TON address, but it needs exactly 64 hex digits after the ':'")
        return
    if len(text) != 48:
        raise _refuse(f"is {len(text)} characters long; {_an(network.name)} address has 48")
    bad = set(text) - _TON_CHARS
    if bad:
        raise _refuse(f"contains {_quoted(bad)}, which cannot appear in {_an(network.name)} address")
    if set(text) & set("+/") and set(text) & set("-_"):
        raise _refuse("mixes the two ways of writing a TON address (with + and /, or with - and _)")
    raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    flags, workchain = raw[0], raw[1]
    # crc_hqx with a zero start is CRC16-XMODEM, the checksum TON puts in its last two bytes.
    if binascii.crc_hqx(raw[:34], 0) != int.from_bytes(raw[34:], "big"):
        raise _refuse(f"is not {_an(network.name)} address: checksum does not match (a typo?)")
    if flags & 0x7F not in (0x11, 0x51) or workchain not in (0x00, 0xFF):
        raise _refuse(f"is not {_an(network.name)} address: it should start with EQ, UQ, Ef or Uf")
    if flags & 0x80 and not network.is_testnet:
        raise _refuse(f"is a TON testnet address, but the network is {network.name}")


def _check_solana(text: str, network: Network) -> None:
    bad = set(text) - set(_BASE58)
    if bad:
        raise _refuse(f"contains {_quoted(bad)}, which cannot appear in {_an(network.name)} address "
                      "(it uses digits and letters except 0, O, I and l)")
    if not 32 <= len(text) <= 44:
        raise _refuse(f"is {len(text)} characters long; {_an(network.name)} address has 32 to 44")
    # A Solana address is a bare public key with no checksum: the length is all there is to verify.
    if len(base58.b58decode(text)) != 32:
        raise _refuse(f"has the wrong length for {_an(network.name)} address (a character missing or extra?)")


_CHECKERS: dict[AddressFormat, Callable[[str, Network], None]] = {
    AddressFormat.BITCOIN: _check_bitcoin_family,
    AddressFormat.BITCOIN_TESTNET: _check_bitcoin_family,
    AddressFormat.LITECOIN: _check_bitcoin_family,
    AddressFormat.DOGECOIN: _check_bitcoin_family,
    AddressFormat.EVM: _check_evm,
    AddressFormat.TRON: _check_tron,
    AddressFormat.TON: _check_ton,
    AddressFormat.SOLANA: _check_solana,
}

# Stand-in networks to try an address against other formats; testnet so TON's testnet flag is no objection.
_PROBES: dict[AddressFormat, Network] = {
    fmt: Network(fmt.value, label, fmt, is_testnet=True) for fmt, label in _LABELS.items()
}


def _recognise(address: str, exclude: AddressFormat) -> str | None:
    """The label of another format that `address` is valid in, so a wrong-chain paste is named as such."""
    for fmt, probe in _PROBES.items():
        if fmt is exclude:
            continue
        try:
            _CHECKERS[fmt](address, probe)
        except InvalidFieldError:
            continue
        return probe.name
    return None


def validate_address(network: Network, text: str) -> str:
    """The address with surrounding whitespace removed, or `InvalidFieldError("address", …)` saying what is wrong.

    Nothing else is changed: case is kept, since EVM case carries a checksum and providers compare strings.
    A payout keeps the spelling that was typed, even an EVM address in one case: rewritten into its checksummed
    form it would look checked when no checksum ever was, and `address_checksum_note` could no longer warn at
    approval and confirmation. (The approval binding and the audit trail hash the address as stored.)
    """
    address = _clean(text)
    try:
        _CHECKERS[network.address_format](address, network)
    except InvalidFieldError:
        # Paying the right address on the wrong chain is the mistake users fear most; name it plainly.
        other = _recognise(address, network.address_format)
        if other is None:
            raise
        raise _refuse(f"is {_an(other)} address, but the network is {network.name}") from None
    return address


def to_checksum_address(text: str) -> str:
    """The EIP-55 mixed-case spelling of an EVM address, which lets a later typo be caught.

    Refuses what `validate_address` refuses, including a mixed-case spelling whose checksum is wrong:
    that is a typo to report, not a spelling to correct.
    """
    address = _clean(text)
    _check_evm(address, _PROBES[AddressFormat.EVM])
    return "0x" + _eip55(address[2:])


@dataclass(frozen=True)
class ChecksumNote:
    """An EVM address written in one case carries no EIP-55 checksum: a mistyped character in it is accepted.

    `checksummed` is its EIP-55 spelling, for a person to compare with the address they were given (wallets
    and block explorers show that spelling, where a typo would stand out).
    """

    address: str
    checksummed: str


def address_checksum_note(network: Network, address: str) -> ChecksumNote | None:
    """A note when `address` on `network` is an EVM address that carries no checksum; None when it does, or
    when its format has a checksum of its own. Refuses what `validate_address` refuses."""
    if network.address_format is not AddressFormat.EVM:
        return None
    clean = validate_address(network, address)
    checksummed = to_checksum_address(clean)
    # One case that happens to be the checksummed spelling (0x5290…EE7 is all capitals) was checked.
    if clean == checksummed:
        return None
    return ChecksumNote(clean, checksummed)


def canonical_address(network: Network, text: str) -> str:
    """The one spelling under which an address is kept to be looked up again (the address book).

    EVM: the EIP-55 spelling (refusing what `validate_address` refuses), since case there is only a checksum
    and 0xabc… and 0xAbC… are one account. Every other format: as given, without surrounding whitespace; its
    case is part of the address, and checking it is `validate_address`'s work.
    """
    if network.address_format is AddressFormat.EVM:
        return to_checksum_address(text)
    return (text or "").strip()


_HINTS: dict[AddressFormat, str] = {
    **{fmt: f"starts with {_either(chain.starts)}" for fmt, chain in _CHAINS.items()},
    AddressFormat.EVM: "0x followed by 40 hex digits",
    AddressFormat.TRON: "starts with T, 34 characters",
    AddressFormat.TON: "48 characters starting with EQ or UQ, or raw 0:<64 hex digits>",
    AddressFormat.SOLANA: "32 to 44 letters and digits",
}


def describe_format(network: Network) -> str:
    """A short hint of what an address on `network` looks like, for the address field's placeholder."""
    return f"{network.name}: {_HINTS[network.address_format]}"
