// ctx.progress: a loop reports what it considers its state each round, and the same state too many rounds in a
// row stops the run `blocked`, reason "no progress". Kept per scope (a loop in each parallel branch is watched
// on its own). A resume re-executes the loop with its recorded results, so the counts come back as they were.

import { createHash } from "node:crypto";
import { RunStop } from "../authoring/run-stop.js";
import { WorkflowUsageError } from "./run-stops.js";

export const DEFAULT_PROGRESS_LIMIT = 3;

export class ProgressWatch {
	private readonly last = new Map<string, { digest: string; times: number }>();

	constructor(private readonly workflow: string) {}

	observe(scope: string, signature: unknown, limit: number = DEFAULT_PROGRESS_LIMIT): void {
		if (!Number.isInteger(limit) || limit < 2) {
			throw new WorkflowUsageError(
				this.workflow,
				`progress: limit: expected an integer from 2 and up, got ${JSON.stringify(limit)}`,
			);
		}
		const digest = digestOf(this.workflow, signature);
		const previous = this.last.get(scope);
		const times = previous?.digest === digest ? previous.times + 1 : 1;
		this.last.set(scope, { digest, times });
		if (times >= limit) {
			throw new RunStop(
				"blocked",
				`no progress: the workflow reported the same state ${times} times in a row (signature ${digest.slice(0, 12)})`,
			);
		}
	}
}

function digestOf(workflow: string, signature: unknown): string {
	let text: string | undefined;
	try {
		text = typeof signature === "string" ? signature : JSON.stringify(signature);
	} catch (error) {
		throw new WorkflowUsageError(
			workflow,
			`progress: expected a signature that JSON can hold (a string, say), got one that fails: ${error instanceof Error ? error.message : String(error)}`,
		);
	}
	if (text === undefined) {
		throw new WorkflowUsageError(workflow, `progress: expected a signature (a string, say), got ${typeof signature}`);
	}
	return createHash("sha256").update(text).digest("hex");
}
