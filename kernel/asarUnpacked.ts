/**
 * Where a file that the packaged app keeps outside its archive really lies. electron-builder packs the app into
 * `resources/app.asar` and moves the files matched by `asarUnpack` to `resources/app.asar.unpacked`, at the same
 * relative path; `__dirname` of code loaded from the archive still names the archive. Electron reads archives only
 * through its patched `fs` and `require`: a Worker thread's script, a child process or the OS cannot open a path inside
 * one, so such a file is started from its unpacked twin. Paths without an `.asar` folder (plain Node, development)
 * come back unchanged.
 */
import * as path from 'node:path';

export function asarUnpackedPath(file: string): string {
  const parts = file.split(path.sep);
  const archive = parts.findIndex((part) => part.endsWith('.asar'));
  if (archive < 0) return file;
  parts[archive] = `${parts[archive]}.unpacked`;
  return parts.join(path.sep);
}
