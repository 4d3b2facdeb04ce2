// ctx.task as a node of the call protocol: a model stage in its own Pi sessions, under a run-wide slot. Its
// plan is task-plan.ts (the replay rules); running it is task-attempts.ts (its models in turn, watched). A prompt
// of a multi-turn stage (ctx.stage) is a task too, continuing the session's one transcript.

import { StageError } from "../../authoring/stage-error.js";
import type { StageResult, TaskOptions } from "../../authoring/types.js";
import type { Scope } from "../scope.js";
import { prepareStage } from "../stage/prepare.js";
import { normalizeTaskOptions } from "../stage/task-options.js";
import { callNode, type NodeCall } from "./protocol.js";
import { runTaskAttempts } from "./task-attempts.js";
import { attemptFile, planTask, type Ready, type TaskPlan, taskStart } from "./task-plan.js";

/** A prompt of a multi-turn stage: its place in the session and the transcript every prompt continues. */
export interface SessionLink {
	stageId: string;
	/** 1 for the session's first prompt, 2 for the next, ... */
	index: number;
	sessionFile: string;
}

export async function runTask(
	scope: Scope,
	name: string,
	options: TaskOptions,
	session?: SessionLink,
): Promise<StageResult> {
	const stageName = typeof name === "string" && name.trim() ? name : "(unnamed)";
	const normalized = normalizeTaskOptions(options);
	return (await callNode(scope, taskCall(scope, stageName, name, normalized, session))) as StageResult;
}

function taskCall(
	scope: Scope,
	stageName: string,
	rawName: unknown,
	options: TaskOptions,
	session: SessionLink | undefined,
): NodeCall<"task", Ready, TaskPlan> {
	const { services } = scope;
	return {
		kind: "task",
		name: stageName,
		usesSlot: true,
		// A multi-turn stage counts once, as its session; its prompts are its turns.
		countsAsStage: !session,
		...(session ? { idName: `${session.stageId}/${session.index}` } : {}),
		prepare: (node) => {
			const prepared = prepareStage(scope, node.id, rawName, options, node.parents);
			if (prepared.ok) return prepared;
			const model = (typeof options === "object" && options?.model) || services.settings.defaultModel || "";
			const sessionFile = session?.sessionFile ?? attemptFile(scope, node.id, node.recorded);
			return { ...prepared, start: { model, sessionFile } };
		},
		plan: (node, stage, changed) => planTask(scope, node, stage, changed, options, session?.sessionFile),
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
