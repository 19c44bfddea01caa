"""The README's two roles for a team ledger, set up on a real PostgreSQL server with the README's own statements:
desks connected as the app's role do everything a desk does (operators, policy, an approved payout sent and
followed, the address book), yet that role can neither change nor delete the audit trail nor switch its guard
trigger off; and a desk whose role may not make the tables says who must, and changes nothing."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import psycopg
import pytest
from desk_fixtures import OTHER_TRON_ADDRESS, TestClock, build_desk

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import LedgerFileError, open_ledger
from treasury_app.security.audit_chain import verify
from treasury_app.services.approval_policies import ApprovalPolicies

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_role_statements() -> tuple[list[str], list[str]]:
    """The two ```sql blocks of the README's team-ledger roles: the superuser's, then the owner's."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("Two roles make the trail append-only"):]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)[:2]
    assert len(blocks) == 2, "the README's role set-up has lost its two sql blocks"
    return tuple([s.strip() for s in block.split(";") if s.strip()] for block in blocks)  # type: ignore[return-value]


@pytest.fixture
def team_roles(postgres_cluster):
    """The README's roles and database under names of this test's own (the roles are the whole cluster's)."""
    tag = secrets.token_hex(4)
    names = {"treasury_owner": f"owner_{tag}", "treasury_app": f"app_{tag}", "treasury": f"treasury_{tag}"}
    passwords = {"choose-one": secrets.token_urlsafe(12), "choose-another": secrets.token_urlsafe(12)}

    def ours(statement: str) -> str:
        for old, new in {**names, **passwords}.items():
            statement = re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, statement)
        return statement

    as_superuser, as_owner = readme_role_statements()
    with postgres_cluster.admin() as admin:
        for statement in as_superuser:
            admin.execute(ours(statement))
    database = names["treasury"]
    owner = postgres_cluster.url(database, names["treasury_owner"], passwords["choose-one"])
    app = postgres_cluster.url(database, names["treasury_app"], passwords["choose-another"])
    try:
        yield owner, app, [ours(statement) for statement in as_owner]
    finally:
        with postgres_cluster.admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in (names["treasury_app"], names["treasury_owner"]):
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_desks_on_the_apps_role_work_but_cannot_touch_the_audit_trail(team_roles):
    owner, app, grants = team_roles
    with open_ledger(owner):
        pass  # the owner makes the tables (README: `ledger check` as the owner)
    with psycopg.connect(owner, autocommit=True) as as_owner:
        for statement in grants:
            as_owner.execute(statement)

    clock = TestClock()
    with open_ledger(app, clock=clock) as ledger:
        desk = build_desk(ledger, clock)
        ApprovalPolicies(ledger, clock=clock).set("USDT", acting=desk.sign_in("root"), approval_threshold="1000")
        payout = desk.approved("alice", "bob", amount="2500")
        desk.finish(payout, PayoutStatus.SUBMITTING, PayoutStatus.PROCESSING, PayoutStatus.COMPLETED)
        entry = ledger.address_book.add(label="Payroll", currency="USDT", network="TRON", address=OTHER_TRON_ADDRESS,
                                        actor="bob")
        ledger.address_book.remove(entry.id)
        assert ledger.payouts.get(payout.id).status is PayoutStatus.COMPLETED
        rows = ledger.audit.last().seq

    with psycopg.connect(app, autocommit=True) as as_app:
        for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table audit_log"):
                as_app.execute(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner of table audit_log"):
            as_app.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete")
    with open_ledger(app) as ledger:
        report = verify(ledger)
    assert report.intact and report.rows_checked == rows and report.payouts_checked == 1


def test_a_desk_whose_role_may_not_make_the_tables_says_who_must_and_changes_nothing(team_roles, postgres_cluster):
    owner, app, _ = team_roles
    app_role = re.search(r"://([^:]+):", app).group(1)

    with pytest.raises(LedgerFileError) as refused:
        open_ledger(app)

    said = str(refused.value)
    assert f"the role {app_role} may not" in said and "permission denied for schema public" in said
    assert "Nothing was changed" in said and "as the tables' owner" in said
    assert re.search(r"://[^:]+:([^@]+)@", app).group(1) not in said
    with psycopg.connect(owner, autocommit=True) as as_owner:
        assert as_owner.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
