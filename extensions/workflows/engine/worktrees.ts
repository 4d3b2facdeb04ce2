// The run's git worktrees, as the engine uses them (the git work itself is sandbox/): where a stage's or the
// run's worktree goes and its branch, making it or finding it again on resume, the change of a stage saved as a
// `.patch` artifact, the paths of the user's checkout named in a prompt moved into the worktree, and removing the
// run's worktrees when it ends for good (completed, skipped, cancelled) unless they are to be kept.

import { existsSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { StageChange, WorktreeOptions } from "../authoring/types.js";

export { worktreeProblem } from "../authoring/worktree-spec.js";

import { runGit } from "../sandbox/git.js";
import {
	createWorktree,
	removeWorktree,
	snapshotWorktree,
	checkWorktree as verifyWorktree,
} from "../sandbox/worktree.js";
import type { RunStatus, WorktreeRecord } from "../store/events.js";
import type { RunPaths } from "../store/run-directory.js";
import type { RunFold } from "../store/run-fold.js";
import type { Scope } from "./scope.js";

export type WorktreeResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Where a node's worktree goes (inside the run's folder) and its branch: the same in every process. */
export function worktreeLocation(paths: RunPaths, nodeId: string): { root: string; branch: string } {
	const safe = nodeId.replace(/[^A-Za-z0-9._-]/g, "_");
	return { root: join(paths.runDir, "worktrees", safe), branch: `pi-workflows/${paths.runId}/${safe}` };
}

export function worktreeOptions(given: boolean | WorktreeOptions | undefined): WorktreeOptions | undefined {
	if (given === undefined || given === false) return undefined;
	return given === true ? {} : given;
}

/** The node's worktree: the recorded one when it is still there, else a new one (one of an earlier process that
 * was made but never recorded is removed first: it is this run's, at this run's path, on this run's branch). */
export async function ensureWorktree(
	scope: Scope,
	nodeId: string,
	options: WorktreeOptions,
	recorded: WorktreeRecord | undefined,
	label: string,
): Promise<WorktreeResult<WorktreeRecord>> {
	const { services } = scope;
	const where = worktreeLocation(services.paths, nodeId);
	// A dry run makes no git worktree (it would write into the repository): an empty folder of the run stands in.
	if (services.settings.dryRun) {
		mkdirSync(where.root, { recursive: true });
		const cwd = services.settings.cwd;
		return {
			ok: true,
			value: { root: where.root, branch: where.branch, repoRoot: cwd, cwd: where.root, baseCommit: "", link: [] },
		};
	}
	if (recorded && existsSync(recorded.root)) {
		const found = await verifyWorktree(recorded, label);
		if (found.ok) return found;
		return { ok: false, error: `${found.error}; its worktree is kept as it is for you to look at` };
	}
	if (recorded) {
		services.warn(`"${nodeId}": its worktree ${recorded.root} was gone; a new one is made from its base`);
		const pruned = await removeWorktree(recorded, { deleteBranch: true });
		if (!pruned.ok) return pruned;
	} else if (existsSync(where.root)) {
		// Made by an earlier process that stopped before it recorded it: removed only when git says it is this
		// run's (at this run's path, on this run's branch); anything else there is not ours to touch.
		if (!(await isRegisteredOn(services.settings.cwd, where.root, where.branch))) {
			return {
				ok: false,
				error: `${label}: ${where.root} already exists and is not a worktree of this run (expected nothing there, or this run's worktree on branch "${where.branch}"); nothing was changed. Remove it to go on.`,
			};
		}
		const left = {
			root: where.root,
			branch: where.branch,
			repoRoot: services.settings.cwd,
			cwd: where.root,
			baseCommit: "",
			link: [],
		};
		const removed = await removeWorktree(left, { deleteBranch: true });
		if (!removed.ok) return removed;
	}
	return createWorktree({
		repoCwd: services.settings.cwd,
		path: where.root,
		branch: where.branch,
		...(recorded ? { base: recorded.baseCommit } : options.base ? { base: options.base } : {}),
		...(options.carry && !recorded ? { carry: true } : {}),
		...(options.link ? { link: options.link } : {}),
		label,
	});
}

/** Whether git lists a worktree at `root` on `branch` (so it is one of this run's). */
async function isRegisteredOn(cwd: string, root: string, branch: string): Promise<boolean> {
	const listed = await runGit(cwd, ["worktree", "list", "--porcelain"]);
	if (listed.code !== 0) return false;
	const real = existsSync(root) ? realpathSync(root) : root;
	const blocks = listed.stdout.split("\n\n");
	return blocks.some((block) => {
		const lines = block.split("\n");
		const path = lines.find((line) => line.startsWith("worktree "))?.slice("worktree ".length);
		return path !== undefined && (path === root || path === real) && lines.includes(`branch refs/heads/${branch}`);
	});
}

/** One snapshot at a time per worktree: stages sharing the run's worktree end one after another there. */
const snapshotting = new Map<string, Promise<unknown>>();

/** Saves what the worktree holds now, measured from its base, as `artifacts/<id>.patch`, and summarizes it. */
export async function saveChange(
	scope: Scope,
	nodeId: string,
	worktree: WorktreeRecord,
	label: string,
): Promise<WorktreeResult<StageChange>> {
	const patchFile = join(scope.services.paths.artifactsDir, `${nodeId.replace(/[^A-Za-z0-9._-]/g, "_")}.patch`);
	if (scope.services.settings.dryRun) {
		mkdirSync(dirname(patchFile), { recursive: true });
		writeFileSync(patchFile, "");
		const none = {
			patchFile,
			files: [],
			insertions: 0,
			deletions: 0,
			worktree: worktree.root,
			branch: worktree.branch,
		};
		return { ok: true, value: { ...none, commit: "" } };
	}
	const before = snapshotting.get(worktree.root) ?? Promise.resolve();
	const snapshot = before.then(() => snapshotWorktree(worktree, worktree.baseCommit, patchFile, label));
	snapshotting.set(worktree.root, snapshot);
	const taken = await snapshot;
	if (snapshotting.get(worktree.root) === snapshot) snapshotting.delete(worktree.root);
	if (!taken.ok) return taken;
	const { files, insertions, deletions, commit } = taken.value;
	return {
		ok: true,
		value: {
			patchFile,
			files: files.map(({ path, insertions, deletions, status }) => ({ path, insertions, deletions, status })),
			insertions,
			deletions,
			worktree: worktree.root,
			branch: worktree.branch,
			commit,
		},
	};
}

/** The prompt as the stage sees it: paths in the user's checkout named inside the worktree instead. Paths into the
 * runs folder (the run's artifacts, its worktrees) are where they are, and stay as they are. */
export function inWorktree(text: string, worktree: WorktreeRecord, runs: string): string {
	// Where a path ends: the end, a separator, a quote or bracket, or a full stop that ends a sentence.
	const end = `(?:$|[/\\s"'\`),:;\\]]|\\.(?:$|\\s))`;
	const runsInRepo = relative(worktree.repoRoot, runs);
	const keep = runsInRepo.startsWith("..") ? "" : `(?!/${escapeRegExp(runsInRepo)}${end})`;
	const pattern = new RegExp(`${escapeRegExp(worktree.repoRoot)}${keep}(?=${end})`, "g");
	return text.replace(pattern, worktree.root);
}

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The worktrees of a run, from its journal: each stage's own and the run's. */
export function recordedWorktrees(fold: RunFold): Array<{ node: string; worktree: WorktreeRecord }> {
	const found: Array<{ node: string; worktree: WorktreeRecord }> = [];
	for (const node of fold.nodes()) {
		const started = node.started;
		if (started.kind === "task" && started.worktree && "baseCommit" in started.worktree) {
			found.push({ node: node.id, worktree: started.worktree as WorktreeRecord });
		}
		if (started.kind === "stage" && started.worktree) found.push({ node: node.id, worktree: started.worktree });
		if (started.kind === "worktree" && node.status === "completed" && node.result) {
			found.push({ node: node.id, worktree: node.result as WorktreeRecord });
		}
	}
	return found;
}

/** Whether a run that ended with this status keeps its worktrees: only a final end removes them. */
export function keepsWorktrees(status: RunStatus, keep: boolean): boolean {
	return keep || !(status === "completed" || status === "skipped" || status === "cancelled");
}

/** Removes the run's worktrees and their branches (the patches stay in the artifacts); problems are warnings. */
export async function removeRunWorktrees(fold: RunFold, warn: (message: string) => void): Promise<number> {
	let removed = 0;
	const seen = new Set<string>();
	for (const { node, worktree } of recordedWorktrees(fold)) {
		if (seen.has(worktree.root) || !existsSync(worktree.root)) continue;
		seen.add(worktree.root);
		const done = await removeWorktree(worktree, { deleteBranch: true });
		if (done.ok) removed++;
		else warn(`the worktree of "${node}" (${worktree.root}) could not be removed: ${done.error}`);
	}
	return removed;
}
