"""The demo desk: a throwaway data folder with three operators whose passwords are shown on the sign-in
screen, a USDT approval threshold, sixty days of invented history (payouts of every status, both providers,
every step audited so that `audit verify` passes), and a few payouts sent live to the embedded sandbox so
that the window has something moving the moment it opens.

The history goes through the services that write every real payout (compose, approval routing, audited
transitions); only the provider's answers are invented, and their timestamps are days in the past.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import base58
import bech32

from treasury_app.app_paths import ledger_path
from treasury_app.domain.addresses import to_checksum_address
from treasury_app.domain.assets import find_asset
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import FeeMode
from treasury_app.ledger import ApprovalDecision, Ledger, PayoutChanges, PayoutRecord, open_ledger
from treasury_app.ledger.timestamps import utc_now

from . import audit
from .approval_policies import ApprovalPolicies
from .approvals import Approvals
from .operator_accounts import OperatorAccounts, SignedIn
from .payout_outcomes import CLAIM_HOLDER_KEY, WorkflowAction
from .payout_workflow import PayoutWorkflow

HISTORY_DAYS = 60
HISTORY_PAYOUTS = 320
RECENT_PAYOUTS = 24  # of them in the last two days: waiting for approval, approved, ready to send
USDT_THRESHOLD = Decimal("1000")
DEMO_FOLDER_PREFIX = "treasury-desk-demo-"


@dataclass(frozen=True)
class DemoOperator:
    name: str
    role: str
    password: str  # published on purpose: the demo moves no money

    @property
    def role_text(self) -> str:
        return self.role


DEMO_OPERATORS = (
    DemoOperator("iris", "initiator", "iris-demo-desk"),
    DemoOperator("arno", "approver", "arno-demo-desk"),
    DemoOperator("ada", "admin", "ada-demo-desk"),
)
INITIATOR, APPROVER, ADMIN = DEMO_OPERATORS


@dataclass(frozen=True)
class DemoAsset:
    provider: str
    currency: str
    network: str
    low: Decimal
    high: Decimal
    places: int
    fee: Decimal
    weight: int


# What the sandbox offers, with its fees (sandbox/config.py), and how often each is paid in the demo.
DEMO_ASSETS = (
    DemoAsset("cryptomus", "USDT", "TRON", Decimal(20), Decimal(9000), 2, Decimal(1), 40),
    DemoAsset("cryptomus", "USDT", "ETH", Decimal(100), Decimal(20000), 2, Decimal("3.5"), 8),
    DemoAsset("cryptomus", "BTC", "BTC", Decimal("0.001"), Decimal("0.25"), 5, Decimal("0.00002"), 5),
    DemoAsset("cryptomus", "ETH", "ETH", Decimal("0.02"), Decimal("4"), 4, Decimal("0.0005"), 5),
    DemoAsset("pay3", "USDT", "TRON", Decimal(20), Decimal(9000), 2, Decimal("1.5"), 28),
    DemoAsset("pay3", "USDT", "ETH", Decimal(100), Decimal(15000), 2, Decimal("4.2"), 6),
    DemoAsset("pay3", "BTC", "BTC_TESTNET", Decimal("0.0005"), Decimal("0.05"), 5, Decimal("0.000066"), 4),
    DemoAsset("pay3", "ETH", "ETH", Decimal("0.02"), Decimal("3"), 4, Decimal("0.0009"), 4),
)
APPROVAL_FATES = frozenset({PayoutStatus.AWAITING_APPROVAL, PayoutStatus.APPROVED, PayoutStatus.REJECTED})
REFERENCES = ("INV", "PAYROLL", "AFF", "REFUND", "VENDOR")
FAILURES = ("Not enough funds on the provider balance", "The destination address was rejected by the network",
            "The provider cancelled the transfer after a compliance check")
REJECTIONS = ("The invoice number does not match our records", "Duplicate of an earlier payout",
              "Please split this into two payouts under the limit")


class DemoClock:
    """Stands where the generator puts it, a second further at every reading (each stamp distinct)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def at(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


def create_demo_folder() -> Path:
    """A fresh throwaway folder (the operating system's temporary folder) for one demo run."""
    return Path(tempfile.mkdtemp(prefix=DEMO_FOLDER_PREFIX))


def write_demo_desk(data_dir: Path, *, now: datetime | None = None, seed: int = 2026,
                    payouts: int = HISTORY_PAYOUTS) -> int:
    """Operators, policy and `payouts` past payouts in an empty data folder; returns how many were written."""
    end = now or utc_now()
    clock = DemoClock(end - timedelta(days=HISTORY_DAYS, hours=1))
    with open_ledger(ledger_path(data_dir), clock=clock) as ledger:
        if OperatorAccounts(ledger, clock=clock).has_operators():
            raise ValueError(f"{data_dir} already holds a desk; the demo writes only into an empty folder")
        history = _History(ledger, clock, random.Random(seed))
        history.set_up_desk()
        recent = min(RECENT_PAYOUTS, payouts // 4)
        moments = sorted([end - timedelta(seconds=history.rng.uniform(2 * 86400, HISTORY_DAYS * 86400))
                          for _ in range(payouts - recent)]
                         + [end - timedelta(seconds=history.rng.uniform(600, 2 * 86400)) for _ in range(recent)])
        with ledger.transaction():  # one commit for the whole history
            for moment in moments:
                history.payout(moment, recent=end - moment < timedelta(days=2))
    return payouts


async def send_live_demo_payouts(workflow: PayoutWorkflow, approvals: Approvals, accounts: OperatorAccounts,
                                 count: int = 3) -> list[PayoutRecord]:
    """A few small payouts sent now through the real workflow to the (embedded) sandbox: the window then shows
    them moving from processing to completed while the user looks."""
    iris = accounts.authenticate(INITIATOR.name, INITIATOR.password)
    sent = []
    for index in range(count):
        asset = (DEMO_ASSETS[0], DEMO_ASSETS[4])[index % 2]
        payout = workflow.compose(iris, provider=asset.provider, currency=asset.currency, network=asset.network,
                                  address=_addresses(random.Random(index))[asset.network][0],
                                  amount=str(Decimal(120 + 35 * index)), reference=f"LIVE-{index + 1:03d}")
        payout = await workflow.estimate(iris, payout.id)
        sent.append(await workflow.execute(iris, payout.id))
    return sent


class _History:
    def __init__(self, ledger: Ledger, clock: DemoClock, rng: random.Random) -> None:
        self.ledger = ledger
        self.clock = clock
        self.rng = rng
        self.accounts = OperatorAccounts(ledger, clock=clock)
        self.approvals = Approvals(ledger, clock=clock)
        self.workflow = PayoutWorkflow(ledger, {}, clock)
        self.addresses = _addresses(rng)
        self.signed: dict[str, SignedIn] = {}
        self.counter = 0

    def set_up_desk(self) -> None:
        for demo in (ADMIN, INITIATOR, APPROVER):
            roles = ["admin"] if demo is ADMIN else [demo.role]
            acting = self.signed.get(ADMIN.name)
            self.accounts.add(demo.name, roles, demo.password, acting=acting)
            self.signed[demo.name] = SignedIn(demo.name, frozenset(roles), self.clock())
        ApprovalPolicies(self.ledger, clock=self.clock).set("USDT", acting=self.signed[ADMIN.name],
                                                              approval_threshold=USDT_THRESHOLD)

    def payout(self, moment: datetime, *, recent: bool) -> None:
        self.clock.at(moment)
        self.counter += 1
        fate = self._fate(recent)
        asset = self.rng.choices(DEMO_ASSETS, weights=[a.weight for a in DEMO_ASSETS])[0]
        amount = self._amount(asset)
        if fate in APPROVAL_FATES:  # a decision to show: large enough for the policy to ask for one
            asset = DEMO_ASSETS[self.rng.choice((0, 4))]
            amount = USDT_THRESHOLD + Decimal(self.rng.randrange(0, 80)) * 50
        iris = self.signed[INITIATOR.name]
        # Where the provider lets a person choose, a fifth take the fee from the amount; else its default.
        choosable = len(self.workflow.capabilities(asset.provider).fee_modes) > 1
        fee_mode = FeeMode.FROM_AMOUNT if choosable and self.rng.random() < 0.2 else None
        payout = self.workflow.compose(
            iris, provider=asset.provider, currency=asset.currency, network=asset.network,
            address=self.rng.choice(self.addresses[asset.network]), amount=str(amount), fee_mode=fee_mode,
            reference=f"{self.rng.choice(REFERENCES)}-{moment:%Y%m}-{self.counter:04d}",
            note="Monthly settlement" if self.rng.random() < 0.15 else None)
        if fate is PayoutStatus.DRAFT:
            return
        payout = self._estimated(payout, asset)
        if fate in (PayoutStatus.ESTIMATED, PayoutStatus.EXPIRED) and payout.status is PayoutStatus.ESTIMATED:
            if fate is PayoutStatus.EXPIRED:
                self._step(payout, PayoutStatus.EXPIRED, "payout.expired", minutes=45,
                           detail={"reason": "the estimate was never sent and has expired"})
            return
        if self.approvals.policy_decision(payout).needs_approval:
            payout = self.approvals.request_approval(payout.id, acting=iris)
            if fate is PayoutStatus.AWAITING_APPROVAL:
                return
            self.clock.at(self.clock.now + timedelta(minutes=self.rng.uniform(5, 90)))
            if fate is PayoutStatus.REJECTED:
                self.approvals._record_decision(payout.id, self.signed[APPROVER.name], ApprovalDecision.REJECTED,
                                                self.rng.choice(REJECTIONS))
                return
            self.approvals._record_decision(payout.id, self.signed[APPROVER.name], ApprovalDecision.APPROVED, None)
            payout = self.ledger.payouts.get(payout.id)
            if fate is PayoutStatus.APPROVED:
                return
        elif fate in (PayoutStatus.AWAITING_APPROVAL, PayoutStatus.REJECTED, PayoutStatus.APPROVED):
            return  # small enough to need no approval: it simply waits, estimated
        self._sent(payout, asset, fate)

    def _fate(self, recent: bool) -> PayoutStatus:
        s = PayoutStatus
        if recent:
            choices = ((s.COMPLETED, 40), (s.AWAITING_APPROVAL, 18), (s.APPROVED, 8), (s.ESTIMATED, 10),
                       (s.DRAFT, 4), (s.FAILED, 6), (s.REJECTED, 4))
        else:
            choices = ((s.COMPLETED, 78), (s.FAILED, 6), (s.CANCELLED, 3), (s.REJECTED, 6), (s.EXPIRED, 6),
                       (s.DRAFT, 1))
        return self.rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]

    def _amount(self, asset: DemoAsset) -> Decimal:
        # Log-uniform: many small payouts, a few large ones, as a treasury's history looks.
        # Decimal all the way (a demo amount is money too): the draw in billionths, the power in Decimal.
        draw = Decimal(self.rng.randrange(1_000_000_000)) / Decimal(1_000_000_000)
        value = asset.low * (asset.high / asset.low) ** draw
        amount = value.quantize(Decimal(1).scaleb(-asset.places), rounding=ROUND_DOWN)
        if asset.currency == "USDT" and self.rng.random() < 0.3:
            amount = amount.quantize(Decimal(10), rounding=ROUND_DOWN) or Decimal(50)
        if amount.as_tuple().exponent < 0 and str(amount).rstrip("0").endswith(("13", "14")):
            amount += Decimal(1).scaleb(-asset.places)  # the sandbox's test amounts fail: not in the history
        return amount

    def _estimated(self, payout: PayoutRecord, asset: DemoAsset) -> PayoutRecord:
        fee = asset.fee
        net = payout.amount - fee if payout.fee_mode is FeeMode.FROM_AMOUNT else payout.amount
        total = payout.amount if payout.fee_mode is FeeMode.FROM_AMOUNT else payout.amount + fee
        changes = PayoutChanges(estimated_fee=fee, estimated_net=net, estimated_total=total, estimate_warnings=(),
                                estimate_data={}, estimated_at=self.clock.now)
        return audit.audited_transition(
            self.ledger, payout.id, PayoutStatus.ESTIMATED, operator=INITIATOR.name,
            action=WorkflowAction.ESTIMATED, changes=changes,
            detail={"fee": fee, "net": net, "total": total, "warnings": []}, clock=self.clock)

    def _sent(self, payout: PayoutRecord, asset: DemoAsset, fate: PayoutStatus) -> None:
        self.clock.at(self.clock.now + timedelta(minutes=self.rng.uniform(1, 30)))
        key = payout.idempotency_key
        payout = audit.audited_transition(
            self.ledger, payout.id, PayoutStatus.SUBMITTING, operator=INITIATOR.name,
            action=WorkflowAction.SUBMITTING, detail={"idempotency_key": key, CLAIM_HOLDER_KEY: "demo:0"},
            clock=self.clock)
        provider_id = f"{asset.provider[:3]}-{self.rng.getrandbits(48):012x}"
        raw = {"cryptomus": ("process", "paid", "fail", "cancel"),
               "pay3": ("ORDER_PAYMENT_PROCESSING", "COMPLETED", "FAILED", "ABANDONED")}[asset.provider]
        payout = self._step(payout, PayoutStatus.PROCESSING, WorkflowAction.SUBMITTED, minutes=0.1,
                            changes=PayoutChanges(provider_status=raw[0], provider_payout_id=provider_id),
                            detail={"provider_status": raw[0], "provider_payout_id": provider_id})
        if fate is PayoutStatus.COMPLETED:
            tx = f"{self.rng.getrandbits(256):064x}"
            tx = "0x" + tx if find_asset(asset.currency, asset.network).network.address_format == "evm" else tx
            self._step(payout, PayoutStatus.COMPLETED, WorkflowAction.PROVIDER_UPDATE, minutes=3,
                       changes=PayoutChanges(provider_status=raw[1], tx_hash=tx, actual_fee=payout.estimated_fee,
                                             actual_amount=payout.estimated_net),
                       detail={"provider_status": raw[1], "provider_payout_id": provider_id})
        else:
            cancelled = fate is PayoutStatus.CANCELLED
            self._step(payout, fate, WorkflowAction.PROVIDER_UPDATE, minutes=4,
                       changes=PayoutChanges(provider_status=raw[3] if cancelled else raw[2],
                                             failure_reason=FAILURES[2] if cancelled else self.rng.choice(FAILURES[:2])),
                       detail={"provider_status": raw[3] if cancelled else raw[2]})

    def _step(self, payout: PayoutRecord, target: PayoutStatus, action: str, *, minutes: float,
              changes: PayoutChanges | None = None, detail: dict | None = None) -> PayoutRecord:
        self.clock.at(self.clock.now + timedelta(minutes=minutes * self.rng.uniform(0.5, 1.5)))
        actor = "poller" if action == WorkflowAction.PROVIDER_UPDATE else INITIATOR.name
        return audit.audited_transition(self.ledger, payout.id, target, operator=actor, action=action,
                                        changes=changes, detail=detail, clock=self.clock)


def _addresses(rng: random.Random) -> dict[str, list[str]]:
    """A few valid recipients per network (real checksums, random keys nobody holds)."""

    def raw(n: int) -> bytes:
        return bytes(rng.getrandbits(8) for _ in range(n))

    tron = [base58.b58encode_check(b"\x41" + raw(20)).decode() for _ in range(8)]
    evm = [to_checksum_address("0x" + raw(20).hex()) for _ in range(8)]
    btc = [bech32.encode("bc", 0, list(raw(20))) for _ in range(4)]
    btc_test = [bech32.encode("tb", 0, list(raw(20))) for _ in range(4)]
    return {"TRON": tron, "ETH": evm, "BSC": evm, "POLYGON": evm, "BTC": btc, "BTC_TESTNET": btc_test}

