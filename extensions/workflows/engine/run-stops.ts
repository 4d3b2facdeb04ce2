// How a run ends when `run` throws, decided by what was thrown (error classes, never message text): the
// workflow cancelled itself, a pause or cancel stopped it, a budget ran out, a stage or the workflow failed.

import { ParallelError } from "../authoring/parallel-error.js";
import { StageError } from "../authoring/stage-error.js";
import { WorkflowCancelled } from "../authoring/workflow-cancelled.js";
import type { RunFinishedEvent, RunPausedEvent } from "../store/events.js";
import { BudgetExceededError } from "./budget.js";

/** A misuse of the ctx API or of the workflow's own contract, named after the workflow. */
export class WorkflowUsageError extends Error {
	override readonly name: string = "WorkflowUsageError";

	constructor(workflow: string, problem: string) {
		super(`Workflow "${workflow}": ${problem}`);
	}
}

export class InvalidOutputsError extends WorkflowUsageError {
	override readonly name = "InvalidOutputsError";

	constructor(workflow: string, problems: readonly string[]) {
		super(workflow, `invalid outputs:\n- ${problems.join("\n- ")}`);
	}
}

/** Errors that stop a whole run rather than fail a step: they pass through `parallel` as they are. */
export function isRunStop(error: unknown): error is WorkflowCancelled | BudgetExceededError {
	return error instanceof WorkflowCancelled || error instanceof BudgetExceededError;
}

export function finishedWithError(
	workflow: string,
	error: unknown,
	stopping: { mode: "pause" | "cancel"; reason: string } | undefined,
): RunFinishedEvent | RunPausedEvent {
	const at = new Date().toISOString();
	if (error instanceof WorkflowCancelled)
		return { type: "run_finished", at, status: "cancelled", reason: error.reason };
	if (stopping?.mode === "pause") return { type: "run_paused", at, reason: stopping.reason };
	if (stopping) return { type: "run_finished", at, status: "cancelled", reason: stopping.reason };
	if (error instanceof BudgetExceededError) {
		return {
			type: "run_finished",
			at,
			status: "blocked",
			reason: error.message,
			error: `Workflow "${workflow}": ${error.message}`,
		};
	}
	if (error instanceof StageError || error instanceof ParallelError || error instanceof WorkflowUsageError) {
		return { type: "run_finished", at, status: "failed", error: error.message };
	}
	const message = error instanceof Error ? error.message : String(error);
	return { type: "run_finished", at, status: "failed", error: `Workflow "${workflow}": ${message}` };
}
