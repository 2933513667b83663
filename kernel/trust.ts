/**
 * Which vendor keys this workstation trusts (S18). The shared database is NOT a source of trust: whoever can write to
 * it could otherwise add their own key and push code. So trust comes from two places only:
 *
 *  1. BUILT_IN_VENDOR_KEYS, compiled into the app. This is the production key; changing it means shipping a new,
 *     signed build, which is exactly the vendor's power and nobody else's. The private half never enters this
 *     repository (the vendor keeps it offline); replace the constant with the vendor's real public key before release.
 *  2. `trustedKeys` in the machine-wide configuration, which IT writes beside the app and users cannot change (S22).
 *     This is how the demo feed and a site's test feed are trusted: `lockstep feed demo` generates a fresh key pair
 *     (no demo private key is ever committed, so nobody can sign "demo" packages for other sites) and writes its
 *     public key into the demo machine configuration. An administrator of the machine can already replace the app
 *     itself, so letting them add a key grants nothing new; a user or a database writer cannot.
 */
import { MachineConfig } from './config';

export const BUILT_IN_VENDOR_KEYS: readonly string[] = [
  // Lockstep vendor production key (key id 29b9c683c4c56c54).
  'jZuNdZ//Q5McVIMFtUR0Nd2A38cEDQZoTlQSP0UmA/U=',
];

export function trustedKeys(config: Pick<MachineConfig, 'feed'> | null): string[] {
  return [...BUILT_IN_VENDOR_KEYS, ...(config?.feed?.trustedKeys ?? [])];
}
