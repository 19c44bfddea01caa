"""The files the installers are made of, checked without freezing anything: the icons in their containers, the
menu entry and metainfo filled from treasury_app/identity.py, the Windows script's values, the window's icon."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from installer_paths import PACKAGING, PROJECT, load_build_script  # first: it puts packaging/ on sys.path

from icon_files import (LINUX_SIZES, MACOS_TYPES, WINDOWS_SIZES, icns_container, ico_container, read_icns_types,
                        read_ico_sizes, render_icons, render_png)
from PySide6.QtGui import QImage

from treasury_app import identity

SVG = PROJECT / "resources" / "app-icon" / "treasury-desk.svg"


@pytest.fixture(scope="module")
def icons(qapp, tmp_path_factory):  # pytest-qt's QApplication, made before render_png would make a bare one
    return render_icons(SVG, tmp_path_factory.mktemp("icons"))


def test_every_png_has_its_size_and_the_drawing_with_transparent_corners(icons):
    assert set(icons.pngs) >= set(LINUX_SIZES) | set(WINDOWS_SIZES) | set(MACOS_TYPES)
    for size, path in icons.pngs.items():
        image = QImage(str(path))
        assert (image.width(), image.height()) == (size, size), path.name
        assert image.pixelColor(0, 0).alpha() == 0, f"{path.name}: the rounded corner is not transparent"
        tile = image.pixelColor(size // 2, int(size * 0.12))  # inside the blue tile, above the white wallet
        assert tile.alpha() == 255 and tile.blue() > tile.red() + 60, f"{path.name}: no blue tile at the top"


def test_the_ico_holds_each_windows_size_as_a_whole_png(icons):
    assert read_ico_sizes(icons.ico.read_bytes()) == list(WINDOWS_SIZES)


def test_the_icns_holds_each_macos_size_with_lengths_that_add_up(icons):
    assert read_icns_types(icons.icns.read_bytes()) == [MACOS_TYPES[size] for size in sorted(MACOS_TYPES)]


def test_the_container_readers_refuse_damaged_files():
    png = render_png(SVG, 16)
    with pytest.raises(ValueError, match="not a whole PNG"):
        read_ico_sizes(ico_container({16: png})[:-10].replace(b"\x89PNG", b"XXXX"))
    with pytest.raises(ValueError, match="length is wrong"):
        read_icns_types(icns_container({16: png})[:-1])
    with pytest.raises(ValueError, match="not an SVG"):
        render_png(PACKAGING / "linux" / "desktop-entry.in", 16)


@pytest.fixture(scope="module")
def build_script():
    return load_build_script()


def test_the_menu_entry_starts_the_program_with_the_icon_the_window_declares(build_script):
    entry = build_script.filled(PACKAGING / "linux" / "desktop-entry.in")
    fields = dict(line.split("=", 1) for line in entry.splitlines() if "=" in line)
    assert fields["Name"] == identity.APP_TITLE
    assert fields["Exec"] == identity.EXECUTABLE
    # The window calls setDesktopFileName(APP_ID): the menu entry must be APP_ID.desktop with the icon APP_ID.
    assert fields["Icon"] == identity.APP_ID
    assert fields["Terminal"] == "false"


def test_every_template_is_filled_completely(build_script):
    templates = sorted((PACKAGING / "linux").glob("*.in"))
    assert {t.name for t in templates} == {"desktop-entry.in", "metainfo.xml.in", "AppRun.in", "install.sh.in"}
    for template in templates:
        text = build_script.filled(template, ICON_SIZES="16 32")
        assert not re.findall(r"@[A-Z_]+@", text), template.name
    metainfo = build_script.filled(PACKAGING / "linux" / "metainfo.xml.in")
    assert f"<id>{identity.APP_ID}</id>" in metainfo
    assert f'<release version="{identity.VERSION}" date="{identity.RELEASE_DATE}"/>' in metainfo


def test_a_template_with_an_unknown_placeholder_stops_the_build(build_script, tmp_path):
    template = tmp_path / "broken.in"
    template.write_text("Name=@APP_TITLE@\nExec=@PROGRAM_NAME@\n")
    with pytest.raises(build_script.BuildError, match="PROGRAM_NAME"):
        build_script.filled(template)


@pytest.mark.parametrize("tool, arguments", [("desktop-file-validate", []),
                                             ("appstreamcli", ["validate", "--no-net", "--pedantic"])])
def test_the_filled_linux_files_pass_the_debian_validators(build_script, tmp_path, tool, arguments):
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: packaging/bootstrap.py test installs desktop-file-utils and appstream")
    template = "desktop-entry.in" if tool == "desktop-file-validate" else "metainfo.xml.in"
    suffix = ".desktop" if tool == "desktop-file-validate" else ".metainfo.xml"
    path = tmp_path / f"{identity.APP_ID}{suffix}"
    path.write_text(build_script.filled(PACKAGING / "linux" / template))
    result = subprocess.run([tool, *arguments, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    # And they do reject a broken file: the check is real.
    path.write_text(path.read_text().replace(identity.APP_TITLE, "", 1).replace("Type=Application", "Type=Nonsense"))
    assert subprocess.run([tool, *arguments, str(path)], capture_output=True).returncode != 0


def test_the_windows_script_reads_exactly_the_values_build_py_passes(build_script, icons, tmp_path):
    script = (PACKAGING / "windows" / "treasury-desk.iss").read_text(encoding="utf-8")
    used = set(re.findall(r"\{#(\w+)\}", script))
    passed = build_script.inno_defines(tmp_path / "bundle", tmp_path, icons)
    assert used == set(passed)
    assert passed["AppGuid"] == identity.WINDOWS_APP_GUID.strip("{}")
    assert re.fullmatch(r"[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", passed["AppGuid"])
    # Installs under Program Files and leaves the user's data folder alone (nothing outside {app} is deleted).
    assert r"DefaultDirName={autopf}\{#AppTitle}" in script
    deleted = re.findall(r'Name: "([^"]+)"', script.split("[UninstallDelete]")[1])
    assert deleted and all(name.startswith("{app}") for name in deleted)


def test_the_macos_bundle_is_configured_from_identity():
    spec = (PACKAGING / "treasury-desk.spec").read_text(encoding="utf-8")
    assert "bundle_identifier=identity.APP_ID" in spec and '"CFBundleShortVersionString": identity.VERSION' in spec
    entitlements = (PACKAGING / "macos" / "entitlements.plist").read_text()
    assert "com.apple.security.cs.allow-unsigned-executable-memory" in entitlements


def test_the_window_wears_the_application_icon(qapp):
    from treasury_app.ui import theme

    icon = theme.app_icon()
    sizes = {size.width() for size in icon.availableSizes()}
    assert {16, 32, 48, 256} <= sizes
    drawn = icon.pixmap(64, 64).toImage()
    rendered = QImage.fromData(render_png(SVG, 64))
    assert drawn.pixelColor(32, 16) == rendered.pixelColor(32, 16)
