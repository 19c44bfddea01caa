"""The Policy tab as an admin uses it: a new approval threshold saved in the window decides the very next payout
composed in the window (at the threshold it needs approval, just under it it does not); a bad amount is said
beside its field and nothing is saved; the desk's limits are saved and audited like on the command line."""

from __future__ import annotations

from decimal import Decimal

from ui_loop import drive, until
from window_driver import click, compose, estimate, open_administration, sign_in, sign_out, type_into


async def policy_tab(shell, qtbot):
    """Ada (the demo's admin) signed in, Administration open on its Policy tab, the USDT policy shown."""
    await sign_in(shell, qtbot, "ada")
    admin = await open_administration(shell)
    admin.show_tab(admin.policy)
    admin.policy.choose_currency("USDT")
    return admin, admin.policy


def test_a_threshold_saved_in_the_window_decides_the_next_payout_composed_in_it(shell, loop, qtbot):
    async def story() -> None:
        admin, policy = await policy_tab(shell, qtbot)
        assert policy.threshold.text() == "1000"  # the demo's
        assert "at most 18 decimal places" in policy.places.text()  # USDT on BNB Smart Chain has 18
        type_into(qtbot, policy.threshold, "250")
        click(qtbot, policy.save_policy)
        await until(lambda: "saved" in policy.saved_notice.text(), what="the policy saved")
        assert shell.front.ledger.policies.get("USDT").approval_threshold == Decimal("250")
        row = shell.front.ledger.audit.last()
        assert (row.operator, row.action, row.subject) == ("ada", "policy.set", "policy:USDT")
        assert row.detail["before"]["approval_threshold"] == "1000"  # exact decimal text in the trail
        assert row.detail["after"]["approval_threshold"] == "250"
        admin.close()

        await sign_out(shell, qtbot)
        await sign_in(shell, qtbot, "iris")
        at_threshold = await compose(shell, qtbot, amount="250")
        await estimate(at_threshold, qtbot)
        assert at_threshold.pages.currentIndex() == 1, at_threshold.problem.text()
        assert at_threshold._reviewed.policy.needs_approval
        assert at_threshold.send.text() == "Send for approval"
        at_threshold.close()
        under = await compose(shell, qtbot, amount="249.99")
        await estimate(under, qtbot)
        assert under.pages.currentIndex() == 1, under.problem.text()
        assert under._reviewed.policy.is_free
        assert under.send.text() != "Send for approval"

    drive(loop, shell, story)


def test_a_bad_amount_is_said_beside_its_field_and_nothing_is_saved(shell, loop, qtbot):
    async def story() -> None:
        _admin, policy = await policy_tab(shell, qtbot)
        rows = len(list(shell.front.ledger.audit.rows()))
        type_into(qtbot, policy.threshold, "250." + "1" * 19)
        type_into(qtbot, policy.desk_limit, "5000")
        click(qtbot, policy.save_policy)
        error = policy.errors["approval_threshold"]
        await until(lambda: error.isVisible(), what="the threshold's error")
        assert error.text() == "Approval threshold has 19 decimal places; at most 18 are allowed for USDT."
        assert "Nothing was saved" in policy.saved_notice.text()
        assert shell.front.ledger.policies.get("USDT").daily_limit_desk is None
        assert len(list(shell.front.ledger.audit.rows())) == rows

    drive(loop, shell, story)


def test_the_desk_limits_are_saved_each_as_its_own_audited_change(shell, loop, qtbot):
    async def story() -> None:
        _admin, policy = await policy_tab(shell, qtbot)
        assert policy.expiry.value() == 24 and policy.idle_minutes.text() == "10"
        policy.expiry.setValue(4)
        click(qtbot, policy.save_expiry)
        await until(lambda: "4 hours" in policy.saved_notice.text(), what="the expiry saved")
        type_into(qtbot, policy.fee_tolerance, "0.5x")
        click(qtbot, policy.save_limits)
        await until(lambda: policy.errors["fee_tolerance"].isVisible(), what="the tolerance's error")
        assert "not a number" in policy.errors["fee_tolerance"].text()
        type_into(qtbot, policy.fee_tolerance, "0.02")
        policy.estimate_age.setValue(300)
        click(qtbot, policy.save_limits)
        await until(lambda: "execution limits are saved" in policy.saved_notice.text(), what="the limits saved")
        type_into(qtbot, policy.idle_minutes, "0.5")
        click(qtbot, policy.save_idle)
        await until(lambda: policy.errors["minutes"].isVisible(), what="the idle lock's error")
        type_into(qtbot, policy.idle_minutes, "15")
        click(qtbot, policy.save_idle)
        await until(lambda: "15 minutes" in policy.saved_notice.text(), what="the idle lock saved")
        settings = shell.front.ledger.settings
        assert settings.get("approval.expiry_hours") == 4
        assert settings.get("workflow.fee_tolerance") == "0.02"
        assert settings.get("workflow.estimate_max_age_seconds") == 300
        assert settings.get("desk.idle_lock_seconds") == 900
        changes = [r for r in shell.front.ledger.audit.rows() if r.action == "settings.changed"]
        assert [(r.operator, r.subject) for r in changes] == [
            ("ada", "setting:approval.expiry_hours"), ("ada", "setting:workflow"), ("ada", "setting:idle_lock")]

    drive(loop, shell, story)
