; Inno Setup 6 script for 回访管理 (huifang-desktop), made from the PyInstaller one-folder build.
;
; packaging/build runs it when iscc is on PATH; by hand, from the project folder:
;   iscc /DAppVersion=0.1.0 /DSourceDir=dist\huifang-desktop /DOutputDir=dist packaging\installer.iss
;
; Upgrades: the AppId below never changes, so a new setup installs over the previous version (same
; folder, same shortcuts) and replaces the whole program folder. The user's data (database, backups,
; logs, form overrides) is not in the program folder: the program keeps it in the user data folder
; (platformdirs: %LOCALAPPDATA%\huifang-desktop), backs the database up and migrates it at the first
; start of the new version. Uninstalling removes the program folder only and keeps that data folder.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\huifang-desktop"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif
#ifndef Compression
  ; packaging/test_installer compiles with a faster setting: it checks the installer's logic, not its size.
  #define Compression "lzma2/max"
#endif
#define AppName "回访管理"
#define AppExeName "huifang-desktop.exe"

[Setup]
; Never change the AppId: it is how Windows and Inno Setup recognise an installed version to upgrade.
AppId={{6F1D2C7A-3B84-4E59-A0C6-9D2E7B5F41A8}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=huifang-desktop developers
VersionInfoVersion={#AppVersion}
VersionInfoProductName={#AppName}
DefaultDirName={autopf}\huifang-desktop
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
UninstallDisplayName={#AppName}
UninstallDisplayIcon={app}\{#AppExeName}
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
CloseApplications=yes
RestartApplications=no
OutputDir={#OutputDir}
OutputBaseFilename=huifang-desktop-{#AppVersion}-setup
Compression={#Compression}
SolidCompression=yes
WizardStyle=modern
#ifdef SetupIcon
SetupIconFile={#SetupIcon}
#endif

[Languages]
; Inno Setup ships no Simplified Chinese messages: packaging/ChineseSimplified.isl is the project's own
; translation of Default.isl (Inno Setup 6.4). Setup picks the language of the Windows user interface; Chinese
; is listed first, so it is also the choice when no language matches.
Name: "chinesesimplified"; MessagesFile: "ChineseSimplified.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the bundled libraries completely: stale files of the old version must not mix in.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Files the program may have made inside its own folder. The data folder (%LOCALAPPDATA%\huifang-desktop)
; is deliberately not listed: uninstalling keeps the office's database and backups.
Type: filesandordirs; Name: "{app}\_internal"
