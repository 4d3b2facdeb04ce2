// Raised by `ctx.parallel(..., { failFast: false })` when some branches failed: it carries every
// failure and the results of the branches that succeeded, so a workflow can use what finished.

export class ParallelError extends Error {
	override readonly name = "ParallelError";

	constructor(
		readonly workflow: string,
		/** One entry per step: the branch's result, or undefined where it failed. */
		readonly results: unknown[],
		/** The failures, in step order. */
		readonly failures: Error[],
	) {
		super(
			`Workflow "${workflow}": ${failures.length} of ${results.length} parallel branches failed:\n- ${failures
				.map((failure) => failure.message)
				.join("\n- ")}`,
		);
	}
}
