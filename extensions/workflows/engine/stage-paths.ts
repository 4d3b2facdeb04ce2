// Resolves a stage's `output` and `reads` paths and refuses any that leave the project or the run
// directory. Relative outputs land in the run's artifacts folder; relative reads are looked up there
// first, then in the project. Errors are returned as data so nothing is written on a refusal.

import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";

export interface PathRoots {
	/** The project directory the run works in. */
	cwd: string;
	runDir: string;
	artifactsDir: string;
}

export type PathResolution = { ok: true; path: string } | { ok: false; error: string };

export function resolveOutputPath(path: string, roots: PathRoots): PathResolution {
	const target = isAbsolute(path) ? resolve(path) : resolve(roots.artifactsDir, path);
	return contained("output", path, target, roots);
}

export function resolveReadPath(path: string, roots: PathRoots): PathResolution {
	const candidates = isAbsolute(path)
		? [resolve(path)]
		: [resolve(roots.artifactsDir, path), resolve(roots.cwd, path)];
	for (const candidate of candidates) {
		const checked = contained("reads", path, candidate, roots);
		if (!checked.ok) return checked;
		if (existsSync(candidate)) return checked;
	}
	const places = isAbsolute(path) ? "" : ` (looked in the run's artifacts and in ${roots.cwd})`;
	return { ok: false, error: `reads: file not found: ${path}${places}` };
}

function contained(option: string, given: string, target: string, roots: PathRoots): PathResolution {
	const real = realPathOfNearest(target);
	for (const root of [roots.cwd, roots.runDir]) {
		const rel = relative(realPathOfNearest(root), real);
		if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) return { ok: true, path: target };
	}
	return {
		ok: false,
		error: `${option}: path ${JSON.stringify(given)} resolves to ${target}, outside the project (${roots.cwd}) and the run directory; expected a path inside one of them`,
	};
}

/** Real path of the nearest existing ancestor, joined with the rest, so symlinks cannot escape. */
function realPathOfNearest(path: string): string {
	let existing = path;
	while (!existsSync(existing)) {
		const parent = dirname(existing);
		if (parent === existing) return path;
		existing = parent;
	}
	return resolve(realpathSync(existing), relative(existing, path));
}
