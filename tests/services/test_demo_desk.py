"""The demo desk (`treasury-app --demo`): three operators who sign in with the published passwords, a USDT
threshold, and past payouts of every status and both providers over sixty days, with an intact audit trail."""

from datetime import UTC, datetime, timedelta

from treasury_app.app_paths import ledger_path
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutFilter, open_ledger
from treasury_app.security.audit_chain import verify
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.demo_data import DEMO_OPERATORS, HISTORY_DAYS, write_demo_desk
from treasury_app.services.operator_accounts import OperatorAccounts

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_the_demo_desk_has_every_status_both_providers_and_sixty_days(tmp_path, monkeypatch):
    monkeypatch.setenv("TREASURY_INSECURE_TEST_HASHING", "1")
    assert write_demo_desk(tmp_path, now=NOW, payouts=320) == 320
    with open_ledger(ledger_path(tmp_path)) as ledger:
        payouts = ledger.payouts.page(PayoutFilter(), limit=10_000)
        assert len(payouts) == 320
        terminal = {PayoutStatus.COMPLETED, PayoutStatus.FAILED, PayoutStatus.CANCELLED, PayoutStatus.REJECTED,
                    PayoutStatus.EXPIRED}
        assert terminal | {PayoutStatus.AWAITING_APPROVAL, PayoutStatus.APPROVED, PayoutStatus.ESTIMATED} \
            <= {p.status for p in payouts}
        assert {p.provider for p in payouts} == {"cryptomus", "pay3"}
        oldest = min(p.created_at for p in payouts)
        assert NOW - timedelta(days=HISTORY_DAYS + 1) <= oldest < NOW - timedelta(days=HISTORY_DAYS - 5)
        accounts = OperatorAccounts(ledger)
        for demo in DEMO_OPERATORS:
            assert demo.role in accounts.authenticate(demo.name, demo.password).roles
        assert ApprovalPolicies(ledger).get("USDT").approval_threshold == 1000
        report = verify(ledger)
        assert report.intact and report.payouts_checked == 320


def test_the_demo_writes_only_into_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TREASURY_INSECURE_TEST_HASHING", "1")
    write_demo_desk(tmp_path, now=NOW, payouts=8)
    try:
        write_demo_desk(tmp_path, now=NOW, payouts=8)
    except ValueError as refused:
        assert "already holds a desk" in str(refused)
    else:
        raise AssertionError("a second demo was written over a desk")
