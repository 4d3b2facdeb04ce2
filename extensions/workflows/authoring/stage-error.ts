// The error a failed stage raises inside `run`: it names the workflow and the stage, and carries the
// stage id so `parallel` and the runner can tell stage failures from other errors.

export class StageError extends Error {
	override readonly name = "StageError";

	constructor(
		readonly workflow: string,
		readonly stageId: string,
		readonly reason: string,
		/** True when the stage was stopped from outside (cancel, a fail-fast sibling). */
		readonly stopped = false,
	) {
		super(`Workflow "${workflow}", stage "${stageId}": ${reason}`);
	}
}
