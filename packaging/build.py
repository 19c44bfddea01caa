"""Build Treasury Desk for the platform this runs on: the frozen bundle and what IT hands out.

    python packaging/build.py [--dist DIR] [--work DIR] [--no-archive]

Run it with the project's virtual environment after set-up (`python3 packaging/bootstrap.py build` does the
set-up and then runs this). It renders the icons from resources/app-icon, freezes the app with PyInstaller
(packaging/treasury-desk.spec) and then makes, in DIST (default `dist/`):

- Linux: the folder bundle `treasury-desk/` (with its menu entry, AppStream metainfo, icons and install.sh), the
  tarball `treasury-desk-VERSION-linux-ARCH.tar.gz`, an AppDir, and an AppImage when `appimagetool` is on PATH.
  The menu entry and metainfo are validated with desktop-file-validate and appstreamcli when they are installed.
- Windows: the bundle and `treasury-desk-VERSION-windows-x64-setup.exe`, compiled from
  packaging/windows/treasury-desk.iss by Inno Setup 6's ISCC.
- macOS: `Treasury Desk.app` (signed when TREASURY_CODESIGN_IDENTITY is set) and a .dmg.

Every name and version comes from treasury_app/identity.py. At the end it prints what makes up the bundle's size.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from icon_files import LINUX_SIZES, RenderedIcons, render_icons

PROJECT = Path(__file__).resolve().parent.parent
PACKAGING = PROJECT / "packaging"
sys.path.insert(0, str(PROJECT))
from treasury_app import identity  # noqa: E402

# Tarball entries get this time (and root ownership), so two builds of one commit give the same listing.
ARCHIVE_MTIME = int(os.environ.get("SOURCE_DATE_EPOCH", "1767225600"))  # 2026-01-01


class BuildError(Exception):
    """A step that could not be done, said in words (the build stops there)."""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=PROJECT / "dist", help="where the results go (default: dist/)")
    parser.add_argument("--work", type=Path, default=PROJECT / "build", help="PyInstaller's work folder (build/)")
    parser.add_argument("--no-archive", action="store_true", help="leave out the tarball, installer or disk image")
    options = parser.parse_args(argv)
    dist, work = options.dist.resolve(), options.work.resolve()
    started = time.monotonic()
    try:
        icons = render_icons(PROJECT / "resources" / "app-icon" / "treasury-desk.svg", work / "icons")
        bundle = freeze(dist, work, icons)
        if sys.platform.startswith("linux"):
            made = linux_packages(bundle, dist, icons, archive=not options.no_archive)
        elif sys.platform == "win32":
            made = [] if options.no_archive else [windows_installer(bundle, dist, icons)]
        elif sys.platform == "darwin":
            made = macos_packages(dist, archive=not options.no_archive)
        else:
            raise BuildError(f"no installer is defined for {sys.platform}; the bundle is in {bundle}")
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    print(size_report(bundle, made))
    print(f"Built {identity.APP_TITLE} {identity.VERSION} in {time.monotonic() - started:.0f} s.")
    return 0


def freeze(dist: Path, work: Path, icons: RenderedIcons) -> Path:
    """PyInstaller with the spec: the folder bundle DIST/treasury-desk."""
    env = {**os.environ, "TREASURY_BUILD_ICONS": str(icons.ico.parent)}
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", str(dist),
               "--workpath", str(work / "pyinstaller"), str(PACKAGING / "treasury-desk.spec")]
    print(f"Freezing {identity.APP_TITLE} {identity.VERSION} with PyInstaller …", flush=True)
    if subprocess.call(command, env=env, cwd=PROJECT) != 0:
        raise BuildError("PyInstaller stopped with an error (its messages are above)")
    return dist / identity.EXECUTABLE


def filled(template: Path, **extra: str) -> str:
    """A template from packaging/ with its @NAME@ placeholders replaced by identity's values."""
    values = {"APP_TITLE": identity.APP_TITLE, "VERSION": identity.VERSION, "APP_ID": identity.APP_ID,
              "EXECUTABLE": identity.EXECUTABLE, "SUMMARY": identity.SUMMARY, "PUBLISHER": identity.PUBLISHER,
              "HOMEPAGE": identity.HOMEPAGE, "LICENSE": identity.LICENSE, "DATA_FOLDER": identity.DATA_FOLDER,
              "RELEASE_DATE": identity.RELEASE_DATE, **extra}
    text = template.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    unknown = re.findall(r"@([A-Z_]+)@", text)
    if unknown:
        raise BuildError(f"{template.name} has placeholders build.py does not fill: {', '.join(unknown)}")
    return text


# ---- Linux ----------------------------------------------------------------------------------------------------

def linux_packages(bundle: Path, dist: Path, icons: RenderedIcons, *, archive: bool) -> list[Path]:
    templates = PACKAGING / "linux"
    share = bundle / "share"
    desktop = write(share / "applications" / f"{identity.APP_ID}.desktop", filled(templates / "desktop-entry.in"))
    metainfo = write(share / "metainfo" / f"{identity.APP_ID}.metainfo.xml", filled(templates / "metainfo.xml.in"))
    for size in LINUX_SIZES:
        copy(icons.pngs[size], share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{identity.APP_ID}.png")
    copy(icons.svg, share / "icons" / "hicolor" / "scalable" / "apps" / f"{identity.APP_ID}.svg")
    installer = write(bundle / "install.sh",
                      filled(templates / "install.sh.in", ICON_SIZES=" ".join(map(str, LINUX_SIZES))))
    installer.chmod(0o755)
    validate_linux_files(desktop, metainfo)
    made: list[Path] = []
    if archive:
        made.append(tarball(bundle, dist / f"{identity.EXECUTABLE}-{identity.VERSION}-linux-{machine()}.tar.gz"))
    appdir = app_dir(bundle, dist, icons, desktop, metainfo)
    appimage = make_appimage(appdir, dist) if archive else None
    return made + ([appimage] if appimage else [])


def validate_linux_files(desktop: Path, metainfo: Path) -> None:
    """desktop-file-validate and appstreamcli, where installed (Debian: desktop-file-utils, appstream)."""
    checks = [("desktop-file-validate", [str(desktop)], "desktop-file-utils"),
              ("appstreamcli", ["validate", "--no-net", "--pedantic", str(metainfo)], "appstream")]
    for tool, arguments, package in checks:
        found = shutil.which(tool)
        if not found:
            print(f"  not validated: {tool} is not installed (Debian package {package})")
            continue
        result = subprocess.run([found, *arguments], capture_output=True, text=True)
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0:
            raise BuildError(f"{tool} rejects {Path(arguments[-1]).name}:\n{output}")
        print(f"  validated by {tool}: {Path(arguments[-1]).name}")


def tarball(bundle: Path, target: Path) -> Path:
    """The bundle as `treasury-desk-VERSION/` in a gzip tarball, owned by root, with fixed times."""
    top = f"{identity.EXECUTABLE}-{identity.VERSION}"

    def normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = ARCHIVE_MTIME
        return info

    print(f"Writing {target.name} …", flush=True)
    partial = target.with_name(target.name + ".partial")  # never a half-written tarball under the real name
    with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
        archive.add(bundle, arcname=top, filter=normalised)
    partial.replace(target)
    return target


def app_dir(bundle: Path, dist: Path, icons: RenderedIcons, desktop: Path, metainfo: Path) -> Path:
    """The AppImage's folder layout: AppRun, the menu entry and icon at the top, the bundle under usr/lib."""
    appdir = dist / f"{identity.DATA_FOLDER}.AppDir"
    shutil.rmtree(appdir, ignore_errors=True)
    shutil.copytree(bundle, appdir / "usr" / "lib" / identity.EXECUTABLE, symlinks=True)
    run = write(appdir / "AppRun", filled(PACKAGING / "linux" / "AppRun.in"))
    run.chmod(0o755)
    copy(desktop, appdir / desktop.name)
    copy(icons.pngs[256], appdir / f"{identity.APP_ID}.png")
    copy(metainfo, appdir / "usr" / "share" / "metainfo" / f"{identity.APP_ID}.appdata.xml")
    return appdir


def make_appimage(appdir: Path, dist: Path) -> Path | None:
    tool = os.environ.get("APPIMAGETOOL") or shutil.which("appimagetool")
    if not tool:
        print("  no AppImage: appimagetool is not on PATH (it is not packaged by Debian or PyPI; see "
              "packaging/README.md). The AppDir is ready for it:", appdir)
        return None
    target = dist / f"{identity.APP_TITLE.replace(' ', '_')}-{identity.VERSION}-{machine()}.AppImage"
    env = {**os.environ, "ARCH": machine()}
    if subprocess.call([tool, "--no-appstream", str(appdir), str(target)], env=env) != 0:
        raise BuildError("appimagetool stopped with an error (its messages are above)")
    return target


# ---- Windows ----------------------------------------------------------------------------------------------------

def windows_installer(bundle: Path, dist: Path, icons: RenderedIcons) -> Path:
    iscc = os.environ.get("ISCC") or shutil.which("iscc") or next(
        (str(p) for p in (Path(os.environ.get("ProgramFiles(x86)", r"C:\Program Files (x86)")) / "Inno Setup 6"
                          / "ISCC.exe",) if p.exists()), None)
    if not iscc:
        raise BuildError("Inno Setup 6 is not installed (https://jrsoftware.org/isdl.php, or `winget install "
                         "JRSoftware.InnoSetup`); the bundle itself is in " + str(bundle))
    command = [iscc, "/Q", *(f"/D{name}={value}" for name, value in inno_defines(bundle, dist, icons).items()),
               str(PACKAGING / "windows" / "treasury-desk.iss")]
    if subprocess.call(command) != 0:
        raise BuildError("Inno Setup's compiler stopped with an error (its messages are above)")
    return dist / f"{identity.EXECUTABLE}-{identity.VERSION}-windows-x64-setup.exe"


def inno_defines(bundle: Path, dist: Path, icons: RenderedIcons) -> dict[str, str]:
    """The values packaging/windows/treasury-desk.iss reads as {#Name}."""
    return {"AppTitle": identity.APP_TITLE, "AppVersion": identity.VERSION, "AppId": identity.APP_ID,
            "AppGuid": identity.WINDOWS_APP_GUID.strip("{}"), "Publisher": identity.PUBLISHER,
            "Homepage": identity.HOMEPAGE, "Executable": identity.EXECUTABLE, "BundleDir": str(bundle),
            "IconFile": str(icons.ico), "OutputDir": str(dist)}


# ---- macOS ------------------------------------------------------------------------------------------------------

def macos_packages(dist: Path, *, archive: bool) -> list[Path]:
    app = dist / f"{identity.APP_TITLE}.app"
    if os.environ.get("TREASURY_CODESIGN_IDENTITY"):
        check = subprocess.run(["codesign", "--verify", "--deep", "--strict", str(app)], capture_output=True, text=True)
        if check.returncode != 0:
            raise BuildError(f"codesign does not accept the signed app: {check.stderr.strip()}")
        print(f"  signed and verified: {app.name} (notarise it next: packaging/README.md)")
    else:
        print(f"  not signed: set TREASURY_CODESIGN_IDENTITY to sign {app.name} (packaging/README.md)")
    if not archive:
        return [app]
    image = dist / f"{identity.EXECUTABLE}-{identity.VERSION}-macos-{machine()}.dmg"
    command = ["hdiutil", "create", "-volname", identity.APP_TITLE, "-srcfolder", str(app), "-ov",
               "-format", "UDZO", str(image)]
    if subprocess.call(command) != 0:
        raise BuildError("hdiutil could not make the disk image")
    return [app, image]


# ---- shared -----------------------------------------------------------------------------------------------------

def machine() -> str:
    return {"amd64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(platform.machine().lower(),
                                                                          platform.machine().lower())


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    return target


def size_report(bundle: Path, made: list[Path]) -> str:
    """The bundle's size and its largest parts, as the README quotes them."""
    parts = bundle / "_internal"
    sizes = sorted(((tree_size(entry), entry.name) for entry in parts.iterdir()), reverse=True)
    total = tree_size(bundle)
    lines = [f"Bundle {bundle}: {megabytes(total)} in {sum(1 for p in bundle.rglob('*') if p.is_file())} files"]
    for size, name in sizes[:12]:
        lines.append(f"  {megabytes(size):>9}  {name}")
    rest = total - sum(size for size, _ in sizes[:12])
    lines.append(f"  {megabytes(rest):>9}  everything else: {len(sizes) - 12} smaller entries and the program")
    for path in made:
        lines.append(f"{path.name}: {megabytes(tree_size(path))}")
    return "\n".join(lines)


def tree_size(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
