// ctx.task as a node of the call protocol: a model stage in its own Pi sessions, under a run-wide slot. Its
// plan is task-plan.ts (the replay rules); running it is task-attempts.ts (its models in turn, watched).

import { StageError } from "../../authoring/stage-error.js";
import type { StageResult, TaskOptions } from "../../authoring/types.js";
import type { Scope } from "../scope.js";
import { prepareStage } from "../stage/prepare.js";
import { callNode, type NodeCall } from "./protocol.js";
import { runTaskAttempts } from "./task-attempts.js";
import { attemptFile, planTask, type Ready, type TaskPlan, taskStart } from "./task-plan.js";

export async function runTask(scope: Scope, name: string, options: TaskOptions): Promise<StageResult> {
	const stageName = typeof name === "string" && name.trim() ? name : "(unnamed)";
	return (await callNode(scope, taskCall(scope, stageName, name, options))) as StageResult;
}

function taskCall(
	scope: Scope,
	stageName: string,
	rawName: unknown,
	options: TaskOptions,
): NodeCall<"task", Ready, TaskPlan> {
	const { services } = scope;
	return {
		kind: "task",
		name: stageName,
		usesSlot: true,
		prepare: (node) => {
			const prepared = prepareStage(scope, node.id, rawName, options, node.parents);
			if (prepared.ok) return prepared;
			const model = (typeof options === "object" && options?.model) || services.settings.defaultModel || "";
			return { ...prepared, start: { model, sessionFile: attemptFile(scope, node.id, node.recorded) } };
		},
		plan: (node, stage, changed) => planTask(scope, node, stage, changed, options),
		start: (_node, stage, plan) => taskStart(stage, plan),
		run: (node, stage, plan, signal) => runTaskAttempts(scope, node, stage, plan, options, signal),
		deliver: (node, result, outcome) => {
			if (outcome && outcome.status !== "completed") {
				throw new StageError(services.workflow, node.id, outcome.error ?? "failed", outcome.status !== "failed");
			}
			const stage = result as StageResult;
			services.completed.push(stage);
			return stage;
		},
	};
}
