// Resolves a stage's `output` and `reads` paths and refuses, before anything is written or asked of a model,
// any that could harm a run or leave the places a stage may use:
// - no path ever resolves into a run's state (journal, lock, control, transcripts, report), this run's or
//   another's, symlinks followed;
// - a relative `output` lands in the run's artifacts folder and must stay inside it; writing into the project
//   takes an explicit (absolute) path there; another run's artifacts are never written;
// - a relative `reads` path is looked up in the run's artifacts first, then in the project;
// - anything outside the project and the run directory is refused;
// - a stage in a git worktree writes inside its worktree or the artifacts, never into the user's checkout.
// Errors are data, and name the option, the path as given and where it resolved.

import { existsSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { realPathOfNearest } from "../../stages/real-path.js";
import type { RunPaths } from "../../store/run-directory.js";
import { runsRoot } from "../../store/run-directory.js";

export interface PathRoots {
	/** The project directory the run works in. */
	cwd: string;
	paths: RunPaths;
	/** A stage in a git worktree: its worktree is its project, and the user's checkout is out of bounds. */
	worktree?: string;
}

export type PathResolution = { ok: true; path: string } | { ok: false; error: string };

type Place =
	| { place: "worktree" }
	| { place: "artifacts" }
	| { place: "other-artifacts"; runId: string }
	| { place: "run-state"; runId?: string }
	| { place: "project" }
	| { place: "outside" };

export function resolveOutputPath(given: string, roots: PathRoots): PathResolution {
	const target = isAbsolute(given) ? resolve(given) : resolve(roots.paths.artifactsDir, given);
	const where = placeOf(target, roots);
	if (!isAbsolute(given) && where.place !== "artifacts") {
		return refuse(
			"output",
			given,
			target,
			"a relative output must stay inside the run's artifacts folder; to write into the project give an absolute path inside it",
		);
	}
	switch (where.place) {
		case "artifacts":
		case "worktree":
			return { ok: true, path: target };
		case "project":
			if (!roots.worktree) return { ok: true, path: target };
			return refuse(
				"output",
				given,
				target,
				`the stage works in its worktree (${roots.worktree}); the user's checkout changes only through ctx.apply. Give a path inside the worktree, or a relative one (artifacts)`,
			);
		case "other-artifacts":
			return refuse("output", given, target, `it is inside the artifacts of another run (${where.runId})`);
		case "run-state":
			return refuse("output", given, target, runStateReason(where.runId, roots));
		case "outside":
			return refuse("output", given, target, outsideReason(roots));
	}
}

export function resolveReadPath(given: string, roots: PathRoots): PathResolution {
	const candidates = isAbsolute(given)
		? [resolve(given)]
		: [resolve(roots.paths.artifactsDir, given), resolve(roots.cwd, given)];
	for (const [index, candidate] of candidates.entries()) {
		const where = placeOf(candidate, roots);
		const relativeToArtifacts = !isAbsolute(given) && index === 0;
		// A relative path that climbs out of the artifacts folder is looked up in the project instead.
		if (relativeToArtifacts && where.place !== "artifacts") continue;
		if (where.place === "run-state") return refuse("reads", given, candidate, runStateReason(where.runId, roots));
		if (where.place === "outside") return refuse("reads", given, candidate, outsideReason(roots));
		if (existsSync(candidate)) {
			if (statSync(candidate).isDirectory()) {
				return {
					ok: false,
					error: `reads: expected a file, got the directory ${candidate}; name the files in it (or let the stage list it with its tools)`,
				};
			}
			return { ok: true, path: candidate };
		}
	}
	const places = isAbsolute(given) ? "" : ` (looked in the run's artifacts and in ${roots.cwd})`;
	return { ok: false, error: `reads: file not found: ${given}${places}` };
}

function placeOf(target: string, roots: PathRoots): Place {
	const real = realPathOfNearest(target);
	if (roots.worktree && inside(realPathOfNearest(roots.worktree), real) !== undefined) return { place: "worktree" };
	const runs = realPathOfNearest(runsRoot(roots.cwd));
	const inRuns = inside(runs, real);
	if (inRuns !== undefined) {
		const [runId, area] = inRuns.split(sep);
		if (!runId || area !== "artifacts") return { place: "run-state", ...(runId ? { runId } : {}) };
		return runId === roots.paths.runId ? { place: "artifacts" } : { place: "other-artifacts", runId };
	}
	// The run directory may live outside the project (a custom store); its artifacts are still the stage's.
	const artifacts = inside(realPathOfNearest(roots.paths.artifactsDir), real);
	if (artifacts !== undefined) return { place: "artifacts" };
	if (inside(realPathOfNearest(roots.paths.runDir), real) !== undefined) return { place: "run-state" };
	if (inside(realPathOfNearest(roots.cwd), real) !== undefined) return { place: "project" };
	return { place: "outside" };
}

/** The path of `target` below `root` ("" for the root itself), or undefined when it is not inside. */
function inside(root: string, target: string): string | undefined {
	const rel = relative(root, target);
	if (rel === "") return "";
	if (rel.startsWith("..") || isAbsolute(rel)) return undefined;
	return rel;
}

function runStateReason(runId: string | undefined, roots: PathRoots): string {
	if (runId === roots.paths.runId) return "it is part of this run's own records (journal, lock, transcripts, report)";
	if (runId) return `it is part of the records of run ${runId}`;
	return "it is the shared runs folder";
}

function outsideReason(roots: PathRoots): string {
	return `it is outside the project (${roots.cwd}) and the run directory; expected a path inside one of them`;
}

function refuse(option: string, given: string, target: string, why: string): PathResolution {
	return { ok: false, error: `${option}: path ${JSON.stringify(given)} resolves to ${target}: refused, ${why}` };
}
