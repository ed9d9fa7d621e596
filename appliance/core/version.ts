// The appliance's version: stamped into the single executable at package time (PKG-1), read from
// package.json when running from source or from the dist/ bundle.
import { readFileSync } from 'node:fs';

declare const __MCS_VERSION__: string | undefined;

function versionFromPackageJson(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export const VERSION: string = typeof __MCS_VERSION__ === 'string' ? __MCS_VERSION__ : versionFromPackageJson();
