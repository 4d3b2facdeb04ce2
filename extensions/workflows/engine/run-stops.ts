// How a run ends, decided by what was thrown (error classes, never message text): the workflow exited or
// cancelled itself, a pause or cancel stopped it, a budget, a breaker or no progress stopped it (all RunStops),
// a stage or the workflow failed. And the honest end of a run that returned: never `completed` while a stage of
// it ended failed.

import type { TProperties } from "typebox";
import { ParallelError } from "../authoring/parallel-error.js";
import { RunStop } from "../authoring/run-stop.js";
import { StageError } from "../authoring/stage-error.js";
import type { ExitOptions, ExitStatus } from "../authoring/types.js";
import { checkOutputs } from "../authoring/validate.js";
import type { RunFinishedEvent, RunPausedEvent } from "../store/events.js";
import type { RunFold } from "../store/run-fold.js";

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
export function isRunStop(error: unknown): error is RunStop {
	return error instanceof RunStop;
}

const EXIT_STATUSES: readonly ExitStatus[] = ["completed", "skipped", "cancelled", "blocked", "failed"];

/** What ctx.exit throws: a RunStop, once its options and outputs are checked (a bad exit fails the run instead). */
export function exitStop(workflow: string, outputs: TProperties, options: ExitOptions): RunStop | WorkflowUsageError {
	const given = options as Partial<ExitOptions> | undefined;
	if (typeof given !== "object" || given === null) {
		return new WorkflowUsageError(workflow, `exit: expected { status, reason, outputs? }, got ${typeof given}`);
	}
	if (!EXIT_STATUSES.includes(given.status as ExitStatus)) {
		return new WorkflowUsageError(
			workflow,
			`exit: status: expected one of ${EXIT_STATUSES.join(", ")}, got ${JSON.stringify(given.status)}`,
		);
	}
	if (typeof given.reason !== "string" || given.reason.trim() === "") {
		return new WorkflowUsageError(
			workflow,
			`exit: reason: expected a non-empty string, got ${JSON.stringify(given.reason)}`,
		);
	}
	if (given.outputs !== undefined) {
		const problems = checkOutputs(outputs, given.outputs, true);
		if (problems.length > 0) {
			return new WorkflowUsageError(workflow, `exit: invalid outputs:\n- ${problems.join("\n- ")}`);
		}
	}
	return new RunStop(given.status as ExitStatus, given.reason, given.outputs);
}

/** A run that returned normally is `completed` only when no stage of it ended failed (the workflow caught the
 * failures); otherwise it failed, and the reason names the stages. `ctx.exit` says `completed` on purpose. */
export function honestEnd(fold: RunFold, finished: RunFinishedEvent): RunFinishedEvent {
	if (finished.status !== "completed") return finished;
	const failed = [...fold.nodes()].filter((node) => node.status === "failed" && !node.handled).map((node) => node.id);
	if (failed.length === 0) return finished;
	const reason = `the workflow returned, but ${failed.length} stage${failed.length === 1 ? "" : "s"} failed (${failed.slice(0, 10).join(", ")}${failed.length > 10 ? ", ..." : ""}); a workflow that means to complete anyway says so with ctx.exit({ status: "completed", reason })`;
	return { ...finished, status: "failed", reason };
}

/** How this process stops a run from outside `run`: a pause, a cancel, or a RunStop (a budget, a breaker). */
export type Stopping = { mode: "pause" | "cancel"; reason: string } | { mode: "stop"; reason: string; stop: RunStop };

export function finishedWithError(
	workflow: string,
	error: unknown,
	stopping: Stopping | undefined,
): RunFinishedEvent | RunPausedEvent {
	const at = new Date().toISOString();
	// A stop from outside wins over what it made the stages throw.
	const stop = stopping?.mode === "stop" ? stopping.stop : error instanceof RunStop ? error : undefined;
	if (stop) return stopEvent(workflow, stop, at);
	if (stopping?.mode === "pause") return { type: "run_paused", at, reason: stopping.reason };
	if (stopping) return { type: "run_finished", at, status: "cancelled", reason: stopping.reason };
	if (error instanceof StageError || error instanceof ParallelError || error instanceof WorkflowUsageError) {
		return { type: "run_finished", at, status: "failed", error: error.message };
	}
	const message = error instanceof Error ? error.message : String(error);
	return { type: "run_finished", at, status: "failed", error: `Workflow "${workflow}": ${message}` };
}

function stopEvent(workflow: string, stop: RunStop, at: string): RunFinishedEvent {
	return {
		type: "run_finished",
		at,
		status: stop.status,
		reason: stop.reason,
		...(stop.outputs ? { outputs: stop.outputs } : {}),
		// A blocked or failed end is an error of the run too; a completed, skipped or cancelled one is not.
		...(stop.status === "blocked" || stop.status === "failed"
			? { error: `Workflow "${workflow}": ${stop.reason}` }
			: {}),
	};
}
