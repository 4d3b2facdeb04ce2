// Ends a whole run at once, with a status and a reason: what `ctx.exit` and `ctx.cancel` throw, and what the
// engine throws when a budget, a circuit breaker or no progress stops a run. It is not a failure of a step:
// it passes through `parallel` as it is (stopping the other branches) and never returns to the workflow.

import type { ExitStatus } from "./types.js";

export class RunStop extends Error {
	override readonly name: string = "RunStop";

	constructor(
		readonly status: ExitStatus,
		readonly reason: string,
		/** Declared outputs to report with the stop (ctx.exit), already checked against their types. */
		readonly outputs?: Record<string, unknown>,
	) {
		super(reason);
	}
}
