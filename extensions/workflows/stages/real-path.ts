// Where a write or read of a path would really land: symbolic links followed, dangling ones too, so no link
// can slip a path past a check of where it goes (stage paths, the containment of a stage's tools).

import { existsSync, lstatSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

/** Where writing or reading `path` would really land: the real path of its nearest existing entry (a
 * dangling symbolic link is followed by hand), joined with the rest, so no link can escape a check. */
export function realPathOfNearest(path: string, hops = 0): string {
	let existing = path;
	while (!entryExists(existing)) {
		const parent = dirname(existing);
		if (parent === existing) return path;
		existing = parent;
	}
	const rest = relative(existing, path);
	if (existsSync(existing)) return resolve(realpathSync(existing), rest);
	// `existing` is a symbolic link to nothing: where it points is where a write would go.
	if (hops > 40) return resolve(existing, rest);
	const target = resolve(dirname(existing), readlinkSync(existing));
	return resolve(realPathOfNearest(target, hops + 1), rest);
}

function entryExists(path: string): boolean {
	try {
		lstatSync(path);
		return true;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === "ENOENT" || code === "ENOTDIR") return false;
		throw error;
	}
}
