"""Who the app is, in one place: its name, version and identifiers, as the window, the command line, the data
folder, the provider requests and the installers (packaging/build.py and its templates) all spell them.

Nothing here may change lightly once installed: the identifier names the desktop entry, the macOS bundle and the
Windows installer's upgrade key, and the data folder's name is where existing desks keep their ledgers.
"""

from __future__ import annotations

from treasury_app import __version__

APP_TITLE = "Treasury Desk"
VERSION = __version__
# Reverse-DNS: the .desktop file and AppStream id on Linux, CFBundleIdentifier on macOS.
APP_ID = "org.treasurydesk.TreasuryDesk"
# The installed program's file name (the bundle's executable, the menu entry's Exec), and the command-line name
# a pip install gives (`treasury-app`, kept for scripts that already call it).
EXECUTABLE = "treasury-desk"
COMMAND = "treasury-app"
# The folder under the platform's user data location (platformdirs): existing ledgers live there.
DATA_FOLDER = "TreasuryDesk"
SUMMARY = "Send crypto payouts through payout providers, with approvals and a local ledger"
PUBLISHER = "Treasury Desk developers"
HOMEPAGE = "https://treasurydesk.org"
LICENSE = "LicenseRef-proprietary"
# The Windows installer's AppId: a GUID that must never change, or an upgrade installs a second copy.
WINDOWS_APP_GUID = "{6F0C8E2A-3B7D-4E51-9A24-7D1E5C3B9F60}"
USER_AGENT = f"TreasuryDesk/{VERSION}"
# The date of this version's release, for the AppStream metainfo's release list: change it with VERSION.
RELEASE_DATE = "2026-12-07"
