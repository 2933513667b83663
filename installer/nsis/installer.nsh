; Lockstep additions to the electron-builder NSIS script.
; An update (electron-updater passes --updated) must keep the configured data folders and Lockstep's backups:
; the installer only replaces program files; the state folder lives beside the install folder, not inside it.
!macro customInit
  ; nothing to add: per-machine elevation comes from perMachine + allowElevation in electron-builder.yml
!macroend
