// Where a stage works: the run's cwd, the run's worktree (a workflow's `worktree`, a multi-turn stage's), or a
// worktree of its own (a task's `worktree`), made before its first attempt or found again on resume; with a
// worktree, the places its file tools may write (the worktree and the run's artifacts).

import type { WorktreeRecord } from "../../store/events.js";
import type { Scope } from "../scope.js";
import { ensureWorktree } from "../worktrees.js";
import type { NodeRef } from "./protocol.js";
import type { Ready, TaskPlan } from "./task-plan.js";

/** Where a stage works: the run's cwd, the run's worktree, or a worktree of its own (`made` when made just now). */
export interface StagePlace {
	cwd: string;
	worktree?: WorktreeRecord;
	/** The places its file tools may write (a worktree and the artifacts); absent: no containment. */
	writeRoots?: string[];
	made?: WorktreeRecord;
}

export async function stagePlace(
	scope: Scope,
	node: NodeRef,
	stage: Ready,
	plan: TaskPlan,
): Promise<{ ok: true; place: StagePlace } | { ok: false; error: string }> {
	const { services } = scope;
	const artifacts = services.paths.artifactsDir;
	if (stage.worktree) {
		// The stage's error is named after the workflow and the stage already.
		const label = "its worktree";
		const made = await ensureWorktree(scope, node.id, stage.worktree.options, plan.worktree, label);
		if (!made.ok) return made;
		const worktree = made.value;
		const fresh = plan.worktree?.root !== worktree.root || plan.worktree?.baseCommit !== worktree.baseCommit;
		return {
			ok: true,
			place: {
				cwd: worktree.cwd,
				worktree,
				writeRoots: [worktree.root, artifacts],
				...(fresh ? { made: worktree } : {}),
			},
		};
	}
	const shared = scope.place?.worktree;
	if (shared && scope.place) {
		return { ok: true, place: { cwd: scope.place.cwd, worktree: shared, writeRoots: [shared.root, artifacts] } };
	}
	return { ok: true, place: { cwd: scope.place?.cwd ?? services.settings.cwd } };
}
