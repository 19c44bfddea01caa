; Treasury Desk's Windows installer, for Inno Setup 6 (https://jrsoftware.org/isinfo.php).
;
; packaging/build.py compiles it on Windows after PyInstaller has built the bundle, passing every value below
; from treasury_app/identity.py and the build's folders:
;     ISCC.exe /Q /DAppTitle=… /DAppVersion=… /DAppId=… /DAppGuid=… /DPublisher=… /DHomepage=… /DExecutable=…
;              /DBundleDir=… /DIconFile=… /DOutputDir=… packaging\windows\treasury-desk.iss
;
; It installs for all users into Program Files (administrator rights), adds the Start menu entry, and registers
; an uninstaller that removes exactly the installed files. Each user's data folder (%LOCALAPPDATA%\TreasuryDesk,
; holding the ledger) is never touched: removing the program must not remove the payouts' record.
#ifndef AppVersion
  #error Compile with packaging/build.py: it passes /DAppVersion=… and the other values from treasury_app/identity.py
#endif

[Setup]
; The GUID is the upgrade key: the same one for every version, so an upgrade replaces the installed copy.
; "{{" is a literal "{" in Inno Setup: the line reads AppId={GUID}.
AppId={{{#AppGuid}}
AppName={#AppTitle}
AppVersion={#AppVersion}
AppVerName={#AppTitle} {#AppVersion}
AppPublisher={#Publisher}
AppPublisherURL={#Homepage}
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppTitle}
DefaultGroupName={#AppTitle}
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename={#Executable}-{#AppVersion}-windows-x64-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#Executable}.exe
UninstallDisplayName={#AppTitle}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; A running copy would keep its files open: ask to close it first (and reopen it afterwards).
CloseApplications=yes
RestartApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole PyInstaller folder: the window program, the command-line program and their _internal folder.
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
; The AppUserModelID matches the window's (QGuiApplication.setDesktopFileName), so the taskbar groups them.
Name: "{autoprograms}\{#AppTitle}"; Filename: "{app}\{#Executable}.exe"; AppUserModelID: "{#AppId}"
Name: "{autodesktop}\{#AppTitle}"; Filename: "{app}\{#Executable}.exe"; AppUserModelID: "{#AppId}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#Executable}.exe"; Description: "{cm:LaunchProgram,{#AppTitle}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Python may write bytecode caches beside the program; they are ours to remove. Nothing outside {app} is listed.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
