/** Human sentences for the CLI's text output (the UI has its own localized catalogs). */
import { GateDecision } from '../contract/gate';

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
      return d.canAnswer
        ? `ask-release — release version ${d.installed} for all workstations? (answer with: lockstep gate --answer yes|no)`
        : `ask-release — version ${d.installed} is a test installation awaiting release by an administrator`;
    case 'test-workstation':
      return `test-workstation — test version ${d.installed} (released: ${d.released ?? 'none'})`;
    case 'outdated':
      return `outdated — Outdated software version: this workstation runs ${d.installed}, the released version is ${d.released} — contact your administrator` +
        (d.policy === 'block' ? ' (blocked: the database is not used)' : d.deadline ? ` (warning: this workstation must be updated by ${d.deadline})` : ' (warning)') +
        (d.reason ? ` [${d.reason.code}: ${d.reason.message}]` : '');
  }
}
