/**
 * What every error code means to a person (S11, S25): a sentence that says what went wrong and one that says what to
 * do, in German, English and French. The UI and the CLI show these; the technical message of the LockstepError stays
 * in the log. Placeholders like {host} are filled from the error's details (E_CONNECT names the address that must be
 * reachable). Shared with the renderer, so no Node or Electron imports here.
 *
 * The table is deliberately typed as partial: other issues append codes to ERROR_CODES, and a missing translation must
 * not break the build of everyone else. test/feed/messages.test.ts fails instead until every code has all three.
 */
import type { ErrorCode, ErrorInfo } from './errors';

export type Locale = 'de' | 'en' | 'fr';
export const LOCALES: readonly Locale[] = ['de', 'en', 'fr'];

export interface LocalizedText {
  /** What went wrong. */
  problem: string;
  /** What the user (or IT) should do about it. */
  action: string;
}

type Entry = Record<Locale, LocalizedText>;

function t(en: [string, string], de: [string, string], fr: [string, string]): Entry {
  return { en: { problem: en[0], action: en[1] }, de: { problem: de[0], action: de[1] }, fr: { problem: fr[0], action: fr[1] } };
}

const CALL_IT: [string, string, string] = ['Contact your IT department.', 'Wenden Sie sich an Ihre IT-Abteilung.', 'Contactez votre service informatique.'];

export const MESSAGES: { readonly [K in ErrorCode]?: Entry } = {
  E_USAGE: t(['The command was not used correctly.', 'Check the command with --help.'], ['Der Befehl wurde falsch aufgerufen.', 'Prüfen Sie den Aufruf mit --help.'], ['La commande n’a pas été utilisée correctement.', 'Vérifiez la commande avec --help.']),
  E_VERSION_INVALID: t(['"{version}" is not a valid version number.', 'Use numbers separated by dots, such as 7.0.0.19 or 1.2.0-beta.2.'], ['„{version}“ ist keine gültige Versionsnummer.', 'Verwenden Sie durch Punkte getrennte Zahlen, z. B. 7.0.0.19 oder 1.2.0-beta.2.'], ['« {version} » n’est pas un numéro de version valide.', 'Utilisez des nombres séparés par des points, par ex. 7.0.0.19 ou 1.2.0-beta.2.']),
  E_CONFIG_INVALID: t(['The configuration file is invalid or cannot be read.', 'Ask IT to correct the machine-wide configuration file named in the details.'], ['Die Konfigurationsdatei ist ungültig oder nicht lesbar.', 'Bitten Sie die IT, die in den Details genannte Konfigurationsdatei zu korrigieren.'], ['Le fichier de configuration est invalide ou illisible.', 'Demandez au service informatique de corriger le fichier de configuration indiqué dans les détails.']),
  E_CONFIG_SECRET: t(['A password was found in the configuration file.', 'Remove it from the file and store it in the OS keychain with "lockstep secret".'], ['In der Konfigurationsdatei steht ein Passwort.', 'Entfernen Sie es aus der Datei und legen Sie es mit „lockstep secret“ im Schlüsselbund des Systems ab.'], ['Un mot de passe figure dans le fichier de configuration.', 'Retirez-le du fichier et enregistrez-le dans le trousseau du système avec « lockstep secret ».']),
  E_SECRET_MISSING: t(['A password is missing from the OS keychain.', 'Store it with "lockstep secret", or unlock the keychain.'], ['Im Schlüsselbund des Systems fehlt ein Passwort.', 'Hinterlegen Sie es mit „lockstep secret“ oder entsperren Sie den Schlüsselbund.'], ['Un mot de passe manque dans le trousseau du système.', 'Enregistrez-le avec « lockstep secret » ou déverrouillez le trousseau.']),
  E_KEYRING_UNAVAILABLE: t(['The OS keychain is not available.', 'Make sure a keyring service is running and unlocked. ' + CALL_IT[0]], ['Der Schlüsselbund des Systems ist nicht erreichbar.', 'Stellen Sie sicher, dass ein Schlüsselbund-Dienst läuft und entsperrt ist. ' + CALL_IT[1]], ['Le trousseau du système n’est pas disponible.', 'Vérifiez qu’un service de trousseau est lancé et déverrouillé. ' + CALL_IT[2]]),
  E_DB_URL_INVALID: t(['The database address in the configuration is invalid.', CALL_IT[0]], ['Die Datenbankadresse in der Konfiguration ist ungültig.', CALL_IT[1]], ['L’adresse de la base de données dans la configuration est invalide.', CALL_IT[2]]),
  E_DB_UNREACHABLE: t(['The shared database cannot be reached.', 'Check the network connection to the database server. ' + CALL_IT[0]], ['Die gemeinsame Datenbank ist nicht erreichbar.', 'Prüfen Sie die Netzwerkverbindung zum Datenbankserver. ' + CALL_IT[1]], ['La base de données partagée est injoignable.', 'Vérifiez la connexion réseau au serveur de base de données. ' + CALL_IT[2]]),
  E_DB_AUTH: t(['The shared database refused the login.', 'Store the correct password with "lockstep secret set-db-password".'], ['Die gemeinsame Datenbank hat die Anmeldung abgelehnt.', 'Hinterlegen Sie das richtige Passwort mit „lockstep secret set-db-password“.'], ['La base de données partagée a refusé la connexion.', 'Enregistrez le bon mot de passe avec « lockstep secret set-db-password ».']),
  E_DB_PERMISSION: t(['The shared database does not allow this login to make that change.', 'Releasing and withdrawing need the admin login: set database.adminUser and store its password with "lockstep secret set-db-password --admin".'], ['Die gemeinsame Datenbank erlaubt dieser Anmeldung die Änderung nicht.', 'Freigeben und Zurückziehen brauchen die Admin-Anmeldung: database.adminUser setzen und ihr Passwort mit „lockstep secret set-db-password --admin“ hinterlegen.'], ['La base de données partagée n’autorise pas cette connexion à faire cette modification.', 'Publier et retirer exigent la connexion administrateur : définissez database.adminUser et enregistrez son mot de passe avec « lockstep secret set-db-password --admin ».']),
  E_DB_CONNECTION: t(['The connection to the shared database failed.', 'Try again; if it persists, ' + CALL_IT[0].toLowerCase()], ['Die Verbindung zur gemeinsamen Datenbank ist fehlgeschlagen.', 'Versuchen Sie es erneut. ' + CALL_IT[1]], ['La connexion à la base de données partagée a échoué.', 'Réessayez ; si cela persiste, ' + CALL_IT[2].toLowerCase()]),
  E_DB_SCHEMA: t(['The shared database has not been prepared for this version.', 'IT must run "lockstep db migrate".'], ['Die gemeinsame Datenbank ist für diese Version nicht vorbereitet.', 'Die IT muss „lockstep db migrate“ ausführen.'], ['La base de données partagée n’est pas préparée pour cette version.', 'Le service informatique doit exécuter « lockstep db migrate ».']),
  E_DB_CORRUPT: t(['The shared database contains an invalid entry.', 'An administrator must withdraw the release named in the details.'], ['Die gemeinsame Datenbank enthält einen ungültigen Eintrag.', 'Ein Administrator muss die in den Details genannte Freigabe zurückziehen.'], ['La base de données partagée contient une entrée invalide.', 'Un administrateur doit retirer la publication indiquée dans les détails.']),
  E_NOT_ADMIN: t(['Only an administrator may do this.', 'Ask an administrator.'], ['Das darf nur ein Administrator.', 'Wenden Sie sich an einen Administrator.'], ['Seul un administrateur peut le faire.', 'Adressez-vous à un administrateur.']),
  E_NOT_FOUND: t(['The requested item does not exist.', 'Check the name or version you entered.'], ['Der angeforderte Eintrag existiert nicht.', 'Prüfen Sie den eingegebenen Namen oder die Version.'], ['L’élément demandé n’existe pas.', 'Vérifiez le nom ou la version saisis.']),
  E_ALREADY_RELEASED: t(['This version is already released.', 'Nothing to do.'], ['Diese Version ist bereits freigegeben.', 'Es ist nichts zu tun.'], ['Cette version est déjà publiée.', 'Rien à faire.']),
  E_RELEASE_CONFLICT: t(['Someone else changed the release at the same time.', 'Reload and decide again.'], ['Jemand anderes hat die Freigabe gleichzeitig geändert.', 'Laden Sie neu und entscheiden Sie erneut.'], ['Quelqu’un d’autre a modifié la publication en même temps.', 'Rechargez et décidez à nouveau.']),
  E_DOWNGRADE: t(['This would install an older version.', 'Only an administrator can withdraw a release to go back.'], ['Damit würde eine ältere Version installiert.', 'Nur ein Administrator kann durch Zurückziehen einer Freigabe zurückgehen.'], ['Cela installerait une version plus ancienne.', 'Seul un administrateur peut revenir en arrière en retirant une publication.']),
  E_BELOW_SECURITY_FLOOR: t(['Version {version} is below the vendor’s security minimum.', 'Choose a newer version.'], ['Version {version} liegt unter der Sicherheits-Mindestversion des Herstellers.', 'Wählen Sie eine neuere Version.'], ['La version {version} est inférieure au minimum de sécurité de l’éditeur.', 'Choisissez une version plus récente.']),
  E_INVALID_STATE: t(['This action is not possible right now.', 'Wait for the current action to finish.'], ['Diese Aktion ist gerade nicht möglich.', 'Warten Sie, bis der laufende Vorgang beendet ist.'], ['Cette action n’est pas possible pour le moment.', 'Attendez la fin de l’opération en cours.']),
  E_NO_QUESTION: t(['There is no release question to answer.', 'Nothing to do.'], ['Es gibt keine Freigabefrage zu beantworten.', 'Es ist nichts zu tun.'], ['Il n’y a pas de question de publication en attente.', 'Rien à faire.']),
  E_UPGRADE_UNAVAILABLE: t(['This workstation cannot install version {version} by itself.', CALL_IT[0]], ['Dieser Arbeitsplatz kann Version {version} nicht selbst installieren.', CALL_IT[1]], ['Ce poste ne peut pas installer lui-même la version {version}.', CALL_IT[2]]),
  E_LICENSE: t(['The licence is invalid or does not cover this version.', 'Check the licence file, or contact the vendor about your licence.'], ['Die Lizenz ist ungültig oder deckt diese Version nicht ab.', 'Prüfen Sie die Lizenzdatei oder wenden Sie sich wegen Ihrer Lizenz an den Hersteller.'], ['La licence est invalide ou ne couvre pas cette version.', 'Vérifiez le fichier de licence ou contactez l’éditeur au sujet de votre licence.']),
  E_REGISTRATION_MISSING: t(['This installation is not registered: no licence file is configured.', 'Ask IT to install the licence file supplied by the vendor.'], ['Diese Installation ist nicht registriert: Es ist keine Lizenzdatei eingerichtet.', 'Bitten Sie die IT, die Lizenzdatei des Herstellers einzurichten.'], ['Cette installation n’est pas enregistrée : aucun fichier de licence n’est configuré.', 'Demandez au service informatique d’installer le fichier de licence fourni par l’éditeur.']),
  E_CONNECT: t(['The update server cannot be reached.', 'Make sure {host} is reachable from this workstation (firewall, proxy), then try again.'], ['Der Update-Server ist nicht erreichbar.', 'Stellen Sie sicher, dass {host} von diesem Arbeitsplatz erreichbar ist (Firewall, Proxy), und versuchen Sie es erneut.'], ['Le serveur de mise à jour est injoignable.', 'Vérifiez que {host} est joignable depuis ce poste (pare-feu, proxy), puis réessayez.']),
  E_SIGNATURE: t(['The vendor signature of the update is invalid.', 'Do not install it. Report this to the vendor and to IT.'], ['Die Herstellersignatur des Updates ist ungültig.', 'Installieren Sie es nicht. Melden Sie dies dem Hersteller und der IT.'], ['La signature de l’éditeur de la mise à jour est invalide.', 'Ne l’installez pas. Signalez-le à l’éditeur et au service informatique.']),
  E_CHECKSUM: t(['The downloaded file is damaged (checksum mismatch).', 'Download it again; if it happens again, report it to the vendor.'], ['Die heruntergeladene Datei ist beschädigt (Prüfsumme stimmt nicht).', 'Laden Sie sie erneut herunter; tritt der Fehler wieder auf, melden Sie ihn dem Hersteller.'], ['Le fichier téléchargé est endommagé (somme de contrôle incorrecte).', 'Téléchargez-le à nouveau ; si cela se reproduit, signalez-le à l’éditeur.']),
  E_CATALOG_STALE: t(['The vendor’s version list has expired and may be out of date.', 'Try again later; if it persists, tell the vendor their feed is no longer refreshed.'], ['Die Versionsliste des Herstellers ist abgelaufen und evtl. veraltet.', 'Versuchen Sie es später erneut; bleibt es so, informieren Sie den Hersteller, dass sein Feed nicht mehr aktualisiert wird.'], ['La liste des versions de l’éditeur a expiré et n’est peut-être plus à jour.', 'Réessayez plus tard ; si cela persiste, signalez à l’éditeur que son flux n’est plus actualisé.']),
  E_DISK_FULL: t(['There is not enough free disk space.', 'Free space on the drive named in the details, then try again.'], ['Es ist nicht genug Speicherplatz frei.', 'Geben Sie auf dem in den Details genannten Laufwerk Platz frei und versuchen Sie es erneut.'], ['L’espace disque libre est insuffisant.', 'Libérez de l’espace sur le lecteur indiqué dans les détails, puis réessayez.']),
  E_ELEVATION_DENIED: t(['Administrator rights were refused.', 'Try again with the credentials of an account that may install software.'], ['Die Administratorrechte wurden verweigert.', 'Versuchen Sie es erneut mit den Zugangsdaten eines Kontos, das Software installieren darf.'], ['Les droits d’administrateur ont été refusés.', 'Réessayez avec les identifiants d’un compte autorisé à installer des logiciels.']),
  E_NO_WRITE_ACCESS: t(['There are no write rights on the installation folder.', 'Ask IT for write rights or for an administrator to run the update.'], ['Es fehlen Schreibrechte auf den Installationsordner.', 'Bitten Sie die IT um Schreibrechte oder darum, dass ein Administrator das Update ausführt.'], ['Vous n’avez pas les droits d’écriture sur le dossier d’installation.', 'Demandez ces droits au service informatique ou qu’un administrateur lance la mise à jour.']),
  E_INSTALL_FAILED: t(['The installation failed; the previous version was restored.', 'No data was lost. Report the error code and the log file to IT.'], ['Die Installation ist fehlgeschlagen; die vorherige Version wurde wiederhergestellt.', 'Es gingen keine Daten verloren. Melden Sie den Fehlercode und die Protokolldatei der IT.'], ['L’installation a échoué ; la version précédente a été restaurée.', 'Aucune donnée n’a été perdue. Transmettez le code d’erreur et le journal au service informatique.']),
  E_INTERNAL: t(['An unexpected error occurred.', 'Report the error code and the log file to IT.'], ['Ein unerwarteter Fehler ist aufgetreten.', 'Melden Sie den Fehlercode und die Protokolldatei der IT.'], ['Une erreur inattendue s’est produite.', 'Transmettez le code d’erreur et le journal au service informatique.']),
  E_CONTRACT_ENDED: t(['Version {version} was released after your update contract ended ({contractUntil}).', 'Renew the update contract with the vendor to install it.'], ['Version {version} erschien nach dem Ende Ihres Update-Vertrags ({contractUntil}).', 'Verlängern Sie den Update-Vertrag beim Hersteller, um sie zu installieren.'], ['La version {version} est sortie après la fin de votre contrat de mise à jour ({contractUntil}).', 'Renouvelez le contrat de mise à jour auprès de l’éditeur pour l’installer.']),
  E_NOT_YET_RELEASED: t(['Version {version} is dated {releaseAt} and cannot be installed before then.', 'Install it from then on; a check after that time offers it.'], ['Version {version} ist auf {releaseAt} datiert und kann nicht vorher installiert werden.', 'Installieren Sie sie ab diesem Zeitpunkt; eine Suche danach bietet sie an.'], ['La version {version} est datée du {releaseAt} et ne peut pas être installée avant.', 'Installez-la à partir de ce moment ; une recherche ultérieure la proposera.']),
  E_REINSTALL_REQUIRED: t(['Version {version} cannot be installed over versions below {below}.', 'A full reinstallation is needed; ' + CALL_IT[0].toLowerCase()], ['Version {version} kann nicht über Versionen unter {below} installiert werden.', 'Eine vollständige Neuinstallation ist nötig. ' + CALL_IT[1]], ['La version {version} ne peut pas être installée par-dessus une version antérieure à {below}.', 'Une réinstallation complète est nécessaire ; ' + CALL_IT[2].toLowerCase()]),
  E_UPGRADE_PATH: t(['No upgrade path to version {version} is available.', 'Install the stepping-stone version named in the details first, or contact the vendor.'], ['Für Version {version} gibt es keinen Update-Weg.', 'Installieren Sie zuerst die in den Details genannte Zwischenversion oder wenden Sie sich an den Hersteller.'], ['Aucun chemin de mise à jour vers la version {version} n’est disponible.', 'Installez d’abord la version intermédiaire indiquée dans les détails ou contactez l’éditeur.']),
  E_FEED_INVALID: t(['The vendor’s update feed is malformed.', 'Do not install from it. Report this to the vendor.'], ['Der Update-Feed des Herstellers ist fehlerhaft.', 'Installieren Sie nichts daraus. Melden Sie dies dem Hersteller.'], ['Le flux de mise à jour de l’éditeur est mal formé.', 'N’installez rien depuis ce flux. Signalez-le à l’éditeur.']),
  E_CANCELLED: t(['The action was cancelled.', 'Start it again when convenient; a download resumes where it stopped.'], ['Der Vorgang wurde abgebrochen.', 'Starten Sie ihn bei Gelegenheit erneut; ein Download setzt dort fort, wo er aufgehört hat.'], ['L’opération a été annulée.', 'Relancez-la quand vous voulez ; un téléchargement reprend là où il s’est arrêté.']),
  E_NOT_PERMITTED: t(['You are not allowed to start an update on this workstation.', 'Ask one of the users IT allowed to update, or IT itself.'], ['Sie dürfen auf diesem Arbeitsplatz kein Update starten.', 'Bitten Sie einen der von der IT berechtigten Benutzer oder die IT selbst.'], ['Vous n’êtes pas autorisé à lancer une mise à jour sur ce poste.', 'Demandez à un utilisateur autorisé par le service informatique, ou au service informatique.']),
  E_INSTALL_IN_PROGRESS: t(['Another installation is running on this workstation.', 'Wait until it has finished, then try again.'], ['Auf diesem Arbeitsplatz läuft bereits eine Installation.', 'Warten Sie, bis sie beendet ist, und versuchen Sie es erneut.'], ['Une autre installation est en cours sur ce poste.', 'Attendez qu’elle se termine, puis réessayez.']),
  E_TRANSFER_BUSY: t(['Too many workstations are fetching the update from the shared database right now.', 'Wait a moment; Lockstep tries again by itself.'], ['Gerade holen zu viele Arbeitsplätze das Update aus der gemeinsamen Datenbank.', 'Warten Sie einen Moment; Lockstep versucht es von selbst erneut.'], ['Trop de postes récupèrent la mise à jour depuis la base partagée en ce moment.', 'Patientez un instant ; Lockstep réessaie de lui-même.']),
  E_DB_TLS: t(['The shared database server could not prove its identity, or asked for the password unprotected.', 'IT must check the server certificate, database.caFile and the sslmode in the database address. ' + CALL_IT[0]], ['Der Server der gemeinsamen Datenbank konnte seine Identität nicht nachweisen oder verlangte das Passwort ungeschützt.', 'Die IT muss das Serverzertifikat, database.caFile und den sslmode in der Datenbankadresse prüfen. ' + CALL_IT[1]], ['Le serveur de la base de données partagée n’a pas pu prouver son identité, ou a demandé le mot de passe sans protection.', 'Le service informatique doit vérifier le certificat du serveur, database.caFile et le sslmode de l’adresse de la base. ' + CALL_IT[2]]),
  E_CONFIG_MISSING: t(
    ['There is no machine configuration file ({file}).', 'Name one with --config FILE or the LOCKSTEP_CONFIG variable. To try Lockstep first, run "lockstep demo" (or "npm start" in its folder): it leaves one in .lockstep-dev/admin-pc/lockstep.machine.json.'],
    ['Es gibt keine Maschinenkonfiguration ({file}).', 'Geben Sie eine mit --config DATEI oder der Variablen LOCKSTEP_CONFIG an. Zum Ausprobieren führen Sie „lockstep demo“ aus (oder „npm start“ in seinem Ordner): Danach liegt eine in .lockstep-dev/admin-pc/lockstep.machine.json.'],
    ['Il n’y a pas de fichier de configuration machine ({file}).', 'Indiquez-en un avec --config FICHIER ou la variable LOCKSTEP_CONFIG. Pour essayer Lockstep, lancez « lockstep demo » (ou « npm start » dans son dossier) : il en laisse un dans .lockstep-dev/admin-pc/lockstep.machine.json.'],
  ),
  E_SCHEMA_LEVEL: t(
    ['Version {version} does not work on the database’s schema level {level} (it works on {works}).', 'Use a version that works on level {level}: install the released version, or ask your administrator.'],
    ['Version {version} funktioniert nicht mit Schemastufe {level} der Datenbank (sie funktioniert mit {works}).', 'Verwenden Sie eine Version, die mit Stufe {level} funktioniert: Installieren Sie die freigegebene Version oder fragen Sie Ihren Administrator.'],
    ['La version {version} ne fonctionne pas avec le niveau de schéma {level} de la base (elle fonctionne avec {works}).', 'Utilisez une version qui fonctionne avec le niveau {level} : installez la version publiée ou demandez à votre administrateur.'],
  ),
  E_SCHEMA_MIGRATION_MISSING: t(
    ['This installation lacks the database migrations from schema level {from} to {to}; nothing was changed.', 'Install the version again from the vendor’s update source, then release it again.'],
    ['Dieser Installation fehlen die Datenbankmigrationen von Schemastufe {from} auf {to}; es wurde nichts geändert.', 'Installieren Sie die Version erneut aus der Update-Quelle des Herstellers und geben Sie sie dann erneut frei.'],
    ['Il manque à cette installation les migrations de la base du niveau de schéma {from} au niveau {to} ; rien n’a été modifié.', 'Réinstallez la version depuis la source de mise à jour de l’éditeur, puis publiez-la à nouveau.'],
  ),
  E_SCHEMA_MIGRATION_FAILED: t(
    ['The database migration {migration} of version {version} failed; the database is as it was and the version is not released.', 'Send the error code and the log file to the vendor, and test the version against a test database.'],
    ['Die Datenbankmigration {migration} von Version {version} ist fehlgeschlagen; die Datenbank ist unverändert und die Version nicht freigegeben.', 'Senden Sie den Fehlercode und die Protokolldatei an den Hersteller und testen Sie die Version mit einer Testdatenbank.'],
    ['La migration {migration} de la base de la version {version} a échoué ; la base est restée telle quelle et la version n’est pas publiée.', 'Envoyez le code d’erreur et le journal à l’éditeur, et testez la version avec une base de test.'],
  ),
  E_SCHEMA_NEEDS_INSTALL: t(
    ['Version {version} changes the database from schema level {from} to {to}; its migrations come with its installation.', 'Release it from a workstation where version {version} is installed (answer “Yes” when it starts), or test it against a test database.'],
    ['Version {version} ändert die Datenbank von Schemastufe {from} auf {to}; ihre Migrationen kommen mit ihrer Installation.', 'Geben Sie sie an einem Arbeitsplatz frei, auf dem Version {version} installiert ist (beim Start mit „Ja“ antworten), oder testen Sie sie mit einer Testdatenbank.'],
    ['La version {version} fait passer la base du niveau de schéma {from} au niveau {to} ; ses migrations viennent avec son installation.', 'Publiez-la depuis un poste où la version {version} est installée (répondez « Oui » à son démarrage), ou testez-la avec une base de test.'],
  ),
  E_SCHEMA_LEASE_BUSY: t(
    ['Another administrator ({holder}) is migrating the database right now.', 'Wait until that release has finished, then look at the released version again.'],
    ['Ein anderer Administrator ({holder}) migriert gerade die Datenbank.', 'Warten Sie, bis diese Freigabe abgeschlossen ist, und sehen Sie dann erneut nach der freigegebenen Version.'],
    ['Un autre administrateur ({holder}) migre la base en ce moment.', 'Attendez la fin de cette publication, puis regardez à nouveau la version publiée.'],
  ),
  E_SCHEMA_LEASE_LOST: t(
    ['This workstation lost the database migration lease (it took too long or was interrupted); nothing was changed.', 'Look at the released version, and release again if it is still needed.'],
    ['Dieser Arbeitsplatz hat die Sperre für die Datenbankmigration verloren (zu lange oder unterbrochen); es wurde nichts geändert.', 'Sehen Sie nach der freigegebenen Version und geben Sie erneut frei, falls noch nötig.'],
    ['Ce poste a perdu le verrou de migration de la base (trop long ou interrompu) ; rien n’a été modifié.', 'Regardez la version publiée et publiez à nouveau si c’est encore nécessaire.'],
  ),
  E_SCHEMA_BACKUP_FAILED: t(
    ['The backup before the database migration failed; nothing was changed and the version is not released.', 'IT must check the backup command (database.backup) or the free space beside the database, then release again.'],
    ['Die Sicherung vor der Datenbankmigration ist fehlgeschlagen; es wurde nichts geändert und die Version ist nicht freigegeben.', 'Die IT muss den Sicherungsbefehl (database.backup) oder den freien Platz neben der Datenbank prüfen; geben Sie danach erneut frei.'],
    ['La sauvegarde avant la migration de la base a échoué ; rien n’a été modifié et la version n’est pas publiée.', 'Le service informatique doit vérifier la commande de sauvegarde (database.backup) ou l’espace libre à côté de la base, puis publiez à nouveau.'],
  ),
  E_SCHEMA_CLAIM_INVALID: t(
    ['The schema claim for this version does not fit its migrations: {reason}', 'Correct --schema-works, --schema-brings or the migrations folder (files NNNN_name.js, one per level, no gaps) and add the version again.'],
    ['Die Schema-Angabe dieser Version passt nicht zu ihren Migrationen: {reason}', 'Korrigieren Sie --schema-works, --schema-brings oder den Migrationsordner (Dateien NNNN_name.js, eine je Stufe, ohne Lücken) und fügen Sie die Version erneut hinzu.'],
    ['La déclaration de schéma de cette version ne correspond pas à ses migrations : {reason}', 'Corrigez --schema-works, --schema-brings ou le dossier des migrations (fichiers NNNN_nom.js, un par niveau, sans trou) et ajoutez à nouveau la version.'],
  ),
  E_MODULE_INCOMPATIBLE: t(
    ['The release of version {version} brings no version of module {modules} that works with it; the module was kept as it was.', 'Ask the vendor for a module version for {version}, install it on the administrator’s workstation and release again, or remove the module.'],
    ['Die Freigabe von Version {version} bringt keine Version des Moduls {modules} mit, die mit ihr funktioniert; das Modul blieb, wie es war.', 'Fragen Sie den Hersteller nach einer Modulversion für {version}, installieren Sie sie auf dem Arbeitsplatz des Administrators und geben Sie erneut frei, oder entfernen Sie das Modul.'],
    ['La publication de la version {version} n’apporte aucune version du module {modules} compatible avec elle ; le module a été conservé tel quel.', 'Demandez à l’éditeur une version du module pour {version}, installez-la sur le poste de l’administrateur et publiez à nouveau, ou retirez le module.'],
  ),
};

/** E_CONNECT for a feed in a folder or on a file share (S21): the details name the folder instead of a host. */
export const CONNECT_FOLDER: Entry = t(
  ['The update folder cannot be reached.', 'Make sure the folder {folder} is reachable from this workstation (share connected, read access), then try again.'],
  ['Der Update-Ordner ist nicht erreichbar.', 'Stellen Sie sicher, dass der Ordner {folder} von diesem Arbeitsplatz erreichbar ist (Freigabe verbunden, Leserechte), und versuchen Sie es erneut.'],
  ['Le dossier de mise à jour est inaccessible.', 'Vérifiez que le dossier {folder} est accessible depuis ce poste (partage connecté, droits de lecture), puis réessayez.'],
);

const FALLBACK: Entry = t(
  ['An error occurred ({code}).', 'Report the error code and the log file to IT.'],
  ['Ein Fehler ist aufgetreten ({code}).', 'Melden Sie den Fehlercode und die Protokolldatei der IT.'],
  ['Une erreur s’est produite ({code}).', 'Transmettez le code d’erreur et le journal au service informatique.'],
);

function fill(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const v = values[key];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : whole === '{host}' ? '(unknown address)' : '?';
  });
}

/** The localized problem and action for an error, placeholders filled from its details. */
export function localizeError(error: Pick<ErrorInfo, 'code' | 'details'>, locale: Locale): LocalizedText {
  const entry = error.code === 'E_CONNECT' && typeof error.details?.['folder'] === 'string' ? CONNECT_FOLDER : (MESSAGES[error.code] ?? FALLBACK);
  const values = { code: error.code, ...(error.details ?? {}) };
  return { problem: fill(entry[locale].problem, values), action: fill(entry[locale].action, values) };
}
