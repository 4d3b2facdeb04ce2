// Thrown by ctx.cancel(reason): the workflow decided to stop (a person said no at a gate, say). The
// run ends with status `cancelled` and the reason, and is never resumed.

export class WorkflowCancelled extends Error {
	constructor(readonly reason: string) {
		super(reason);
		this.name = "WorkflowCancelled";
	}
}
