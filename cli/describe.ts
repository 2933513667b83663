/** Human sentences for the CLI's text output (the UI has its own localized catalogs). */
import { GateDecision, SchemaMove } from '../contract/gate';

/** What releasing the installed version does to the client's database, and whether this test install may use it. */
function schemaNote(installed: string, move: SchemaMove | undefined, canAnswer: boolean): string {
  if (!move) return '';
  const yes = canAnswer ? `; "yes" migrates the database from schema level ${move.from} to ${move.to}` : '';
  return move.worksOnCurrent
    ? `${yes || `; releasing it migrates the database from schema level ${move.from} to ${move.to}`} (this test installation works on the current level)`
    : `${yes}. Version ${installed} changes the database from level ${move.from} to ${move.to}: it does not use the database until released for all — release it for all, or test it against a test database`;
}

export function describeDecision(d: GateDecision): string {
  switch (d.type) {
    case 'proceed':
      return `proceed — this workstation runs the released version ${d.released}`;
    case 'upgrade':
      return d.downgrade
        ? `upgrade — version ${d.installed} was withdrawn; moving back to the released ${d.released}`
        : `upgrade — this workstation runs ${d.installed}, the released version is ${d.released}`;
    case 'ask-release':
      if (d.scheduled) return `ask-release — version ${d.installed} is scheduled for release at ${d.scheduled.at} (by ${d.scheduled.by})${d.canAnswer ? '; cancel with: lockstep release --cancel ' + d.installed : ''}`;
      return (d.canAnswer
        ? `ask-release — release version ${d.installed} for all workstations? (answer with: lockstep gate --answer yes|no)`
        : `ask-release — version ${d.installed} is a test installation awaiting release by an administrator`) + schemaNote(d.installed, d.migration, d.canAnswer);
    case 'test-workstation':
      return `test-workstation — test version ${d.installed} (released: ${d.released ?? 'none'})` + schemaNote(d.installed, d.migration, false);
    case 'outdated':
      return `outdated — Outdated software version: this workstation runs ${d.installed}, the released version is ${d.released} — contact your administrator` +
        (d.policy === 'block' ? ' (blocked: the database is not used)' : d.deadline ? ` (warning: this workstation must be updated by ${d.deadline})` : ' (warning)') +
        (d.reason ? ` [${d.reason.code}: ${d.reason.message}]` : '');
  }
}
