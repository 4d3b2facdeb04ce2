// The run's own git worktree (a workflow declared with `worktree`) as a node of the call protocol: made once,
// before the workflow's first call, and recorded, so a resume works on in the same worktree (made again from
// its recorded base when it is gone). Every stage of the run then works inside it, and ctx.cwd names it.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { StageError } from "../../authoring/stage-error.js";
import type { WorktreeOptions } from "../../authoring/types.js";
import type { WorktreeRecord } from "../../store/events.js";
import type { Scope } from "../scope.js";
import { ensureWorktree, worktreeLocation } from "../worktrees.js";
import { callNode, type NodeCall, type Prepared } from "./protocol.js";

export const RUN_WORKTREE = "worktree";

export async function runWorktree(scope: Scope, options: WorktreeOptions): Promise<WorktreeRecord> {
	return (await callNode(scope, worktreeCall(scope, options))) as WorktreeRecord;
}

function worktreeCall(
	scope: Scope,
	options: WorktreeOptions,
): NodeCall<"worktree", Prepared, WorktreeRecord | undefined> {
	const { services } = scope;
	return {
		kind: "worktree",
		name: RUN_WORKTREE,
		prepare: () => ({
			ok: true,
			value: {
				fingerprint: createHash("sha256").update(JSON.stringify(options)).digest("hex").slice(0, 16),
			},
		}),
		plan: (node, _ready, changed) => {
			const recorded = node.recorded;
			const made = recorded?.status === "completed" ? (recorded.result as WorktreeRecord | undefined) : undefined;
			if (made && !changed && existsSync(made.root)) return { type: "replay", result: made };
			return {
				type: "run",
				...(made ? { rerun: changed ?? `its worktree ${made.root} was gone` } : {}),
				detail: made,
			};
		},
		start: (node) => {
			const where = worktreeLocation(services.paths, node.id);
			return { root: where.root, branch: where.branch, base: options.base ?? "HEAD" };
		},
		run: async (node, _ready, recorded) => {
			const startedAt = Date.now();
			const label = "the run's worktree";
			const made = await ensureWorktree(scope, node.id, options, recorded, label);
			if (!made.ok) return { status: "failed", error: made.error, durationMs: Date.now() - startedAt };
			return { status: "completed", result: made.value, durationMs: Date.now() - startedAt };
		},
		deliver: (node, result, outcome) => {
			if (outcome && outcome.status !== "completed") {
				throw new StageError(services.workflow, node.id, outcome.error ?? "failed", outcome.status !== "failed");
			}
			return result;
		},
	};
}
