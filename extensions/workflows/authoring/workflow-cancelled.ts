// Thrown by ctx.cancel(reason): the workflow decided to stop (a person said no at a gate, say). The run ends
// with status `cancelled` and the reason, and is never resumed. The same as `ctx.exit({ status: "cancelled" })`.

import { RunStop } from "./run-stop.js";

export class WorkflowCancelled extends RunStop {
	override readonly name = "WorkflowCancelled";

	constructor(reason: string) {
		super("cancelled", reason);
	}
}
