// A stage's structured result (`schema`): the `submit_result` tool whose parameters are the schema, the
// submission it keeps (checked against the schema again), and the corrective follow-ups for a model that
// answered without a valid submission: up to MAX_CORRECTIONS, then the attempt fails (kind "structured") and
// the stage's next model may try.

import type { ToolDefinition } from "@mariozechner/pi-coding-agent";
import type { TSchema } from "typebox";
import { Value } from "typebox/value";

export const SUBMIT_TOOL = "submit_result";
export const MAX_CORRECTIONS = 3;

export class StructuredResult {
	private submitted: { value: unknown } | undefined;
	private lastProblem: string | undefined;
	private corrections = 0;
	readonly tool: ToolDefinition;

	constructor(private readonly schema: TSchema) {
		this.tool = {
			name: SUBMIT_TOOL,
			label: "Submit result",
			description:
				"Submit the result of this task. Its parameters are the result: call it once, with every required field, when your work is done.",
			promptSnippet: `${SUBMIT_TOOL}: submit the task's result (required before you finish)`,
			parameters: schema,
			execute: async (_id, params) => {
				const problems = schemaProblems(this.schema, params);
				if (problems) {
					this.lastProblem = problems;
					return {
						content: [
							{ type: "text", text: `The result was not accepted: ${problems}. Call ${SUBMIT_TOOL} again.` },
						],
						details: undefined,
					};
				}
				this.submitted = { value: params };
				return {
					content: [{ type: "text", text: "Result received. You are done: finish with a short summary." }],
					details: undefined,
				};
			},
		} as ToolDefinition;
	}

	/** The accepted submission, if the model made one. */
	get value(): { value: unknown } | undefined {
		return this.submitted;
	}

	/** A call of the submit tool failed before it ran (Pi checks the arguments against the schema first). */
	rejected(error: string | undefined): void {
		const text = (error ?? "").trim();
		this.lastProblem = text ? text.slice(0, 500) : "its arguments did not match the schema";
	}

	/** A new model attempt starts over: no submission, no corrections yet. */
	reset(): void {
		this.submitted = undefined;
		this.lastProblem = undefined;
		this.corrections = 0;
	}

	/** The correction to prompt the model with after it answered, or undefined (it submitted, or it had its chances). */
	followUp(): string | undefined {
		if (this.submitted || this.corrections >= MAX_CORRECTIONS) return undefined;
		this.corrections++;
		const why = this.lastProblem ? ` Your last submission was not accepted: ${this.lastProblem}.` : "";
		return `You finished without submitting a valid result.${why} Call the ${SUBMIT_TOOL} tool now with the result (its parameters are the required shape); this is correction ${this.corrections} of ${MAX_CORRECTIONS}.`;
	}

	/** Why the attempt has no result, once the corrections are spent. */
	failure(): string {
		const why = this.lastProblem ? `; the last submission was rejected: ${this.lastProblem}` : "";
		return `no valid structured result after ${MAX_CORRECTIONS} corrections (the model never called ${SUBMIT_TOOL} with a valid result${why})`;
	}
}

/** Whether `value` is a schema a submit tool can take: a TypeBox or JSON schema of an object. */
export function schemaProblem(value: unknown): string | undefined {
	if (typeof value !== "object" || value === null || Array.isArray(value)) {
		return `schema: expected a TypeBox schema of an object (Type.Object({...})), got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`;
	}
	const schema = value as { type?: unknown; properties?: unknown };
	if (schema.type !== "object" || typeof schema.properties !== "object" || schema.properties === null) {
		return `schema: expected a TypeBox schema of an object (Type.Object({...})), got one with type ${JSON.stringify(schema.type)}`;
	}
	try {
		Value.Check(value as TSchema, {});
	} catch (error) {
		return `schema: not a schema TypeBox can check: ${error instanceof Error ? error.message : String(error)}`;
	}
	return undefined;
}

function schemaProblems(schema: TSchema, value: unknown): string | undefined {
	if (Value.Check(schema, value)) return undefined;
	const errors = [...Value.Errors(schema, value)].slice(0, 5);
	return (
		errors.map((error) => `${error.instancePath || "(root)"} ${error.message}`).join("; ") ||
		"it does not match the schema"
	);
}
