// The real release (PKG-1) for the tests that need the single executable or the tarball: built by
// `installer/package.ts` once per set of sources and kept in the temp dir, so the test files that
// use it (each its own process) share one build of ~15 s.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRelease, type Release } from '../../installer/package.ts';
import { ROOT } from './appliance.ts';

const INPUTS = ['appliance', 'licensing', 'ui/src', 'ui/index.html', 'ui/build.ts', 'installer', 'systemd', 'package.json', 'package-lock.json'];

function inputsHash(): string {
  const hash = createHash('sha256');
  const add = (path: string) => {
    const full = join(ROOT, path);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full).sort()) add(join(path, entry));
    } else {
      hash.update(path).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  INPUTS.forEach(add);
  return hash.digest('hex').slice(0, 16);
}

export interface ReleaseArtifacts {
  releaseDir: string;
  tarball: string;
  sums: string;
  installScript: string;
  version: string;
  /** the executable as it is inside the tarball */
  binary: string;
  name: string;
}

let built: Promise<ReleaseArtifacts> | null = null;

export function releaseArtifacts(): Promise<ReleaseArtifacts> {
  built ??= buildOrReuse();
  return built;
}

async function buildOrReuse(): Promise<ReleaseArtifacts> {
  const dir = join(tmpdir(), `mcs-edge-release-${inputsHash()}`);
  const recordFile = join(dir, 'release.json');
  if (!existsSync(recordFile)) {
    const scratch = `${dir}.building-${process.pid}`;
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    const release: Release = await packageRelease({ outDir: join(scratch, 'release'), workDir: join(scratch, 'work') });
    const relocate = (path: string) => path.replace(scratch, dir);
    const record: ReleaseArtifacts = {
      releaseDir: relocate(release.releaseDir), tarball: relocate(release.tarball), sums: relocate(release.sums),
      installScript: relocate(release.installScript), version: release.version, binary: relocate(release.binary), name: release.name,
    };
    writeFileSync(join(scratch, 'release.json'), JSON.stringify(record));
    rmSync(dir, { recursive: true, force: true });
    renameSync(scratch, dir);
    // Releases of earlier sources are 130 MB each: keep only this one.
    for (const entry of readdirSync(tmpdir())) {
      if (/^mcs-edge-release-[0-9a-f]{16}$/.test(entry) && join(tmpdir(), entry) !== dir) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    }
  }
  return JSON.parse(readFileSync(recordFile, 'utf8')) as ReleaseArtifacts;
}
