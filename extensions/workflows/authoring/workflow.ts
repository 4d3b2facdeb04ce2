// `workflow()`: declares a workflow with typed inputs and outputs. It checks the declaration itself (an option it
// does not know is refused by name) and returns a frozen definition; running it is the engine's job. A definition
// without a name takes its file's name when the loader imports it (`withFileName`).

import { basename } from "node:path";
import type { TProperties } from "typebox";
import { budgetProblems } from "./budget-spec.js";
import type {
	AnyWorkflowDefinition,
	InferSchema,
	WorkflowBudget,
	WorkflowContext,
	WorkflowDefinition,
	WorktreeOptions,
} from "./types.js";
import { worktreeProblem } from "./worktree-spec.js";

/** Rejects, at compile time, returned keys that `outputs` does not declare. */
type NoUndeclaredKeys<R, O> = R & Record<Exclude<keyof R, keyof O>, never>;

export interface WorkflowSpec<I extends TProperties, O extends TProperties, R> {
	/** Unique name, lower-case words joined by `-` (`review-change`); default: the file's name (`review-change.ts`). */
	name?: string;
	/** One line: what the workflow does and when to use it. */
	description: string;
	/** Input properties as TypeBox schemas (`{ target: Type.String() }`); default none. */
	inputs?: I;
	/** Output properties as TypeBox schemas; default none. */
	outputs?: O;
	budget?: WorkflowBudget;
	/** Run every stage in one git worktree of the run (`true`: from HEAD), so the user's checkout stays as it is. */
	worktree?: boolean | WorktreeOptions;
	run: (ctx: WorkflowContext<InferSchema<I>>) => Promise<R>;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
const SPEC_KEYS = ["name", "description", "inputs", "outputs", "budget", "worktree", "run"];
const DEFINITION_KEYS = ["kind", "file"];

// biome-ignore lint/complexity/noBannedTypes: `{}` is the empty property map of a workflow without inputs or outputs.
type None = {};

export function workflow<
	I extends TProperties = None,
	O extends TProperties = None,
	R extends InferSchema<O> = InferSchema<O>,
>(spec: WorkflowSpec<I, O, NoUndeclaredKeys<R, InferSchema<O>>>): WorkflowDefinition<I, O> {
	const problems = checkSpec(spec as unknown as WorkflowSpec<TProperties, TProperties, unknown>);
	if (problems.length > 0) {
		const label = typeof spec?.name === "string" ? `Workflow "${spec.name}"` : "Workflow";
		throw new Error(`${label} is not a valid definition:\n- ${problems.join("\n- ")}`);
	}
	return Object.freeze({
		kind: "pi-workflow",
		name: spec.name ?? "",
		description: spec.description,
		inputs: spec.inputs ?? ({} as I),
		outputs: spec.outputs ?? ({} as O),
		budget: spec.budget,
		...(spec.worktree ? { worktree: spec.worktree } : {}),
		run: spec.run as WorkflowDefinition<I, O>["run"],
	});
}

function checkSpec(spec: WorkflowSpec<TProperties, TProperties, unknown>): string[] {
	if (typeof spec !== "object" || spec === null) return [`expected an object, got ${typeof spec}`];
	const problems: string[] = [];
	for (const key of Object.keys(spec)) {
		// A definition spread into a new one (`workflow({ ...other, name })`) brings its own marker and file.
		if (!SPEC_KEYS.includes(key) && !DEFINITION_KEYS.includes(key))
			problems.push(`unknown option "${key}": pi-workflows has no such option (expected: ${SPEC_KEYS.join(", ")})`);
	}
	if (spec.name !== undefined && (typeof spec.name !== "string" || !NAME_PATTERN.test(spec.name))) {
		problems.push(
			`name: expected lower-case words joined by "-" (like "review-change"), got ${JSON.stringify(spec.name)}`,
		);
	}
	if (typeof spec.description !== "string" || spec.description.trim() === "") {
		problems.push(`description: expected a non-empty string, got ${JSON.stringify(spec.description)}`);
	}
	for (const key of ["inputs", "outputs"] as const) {
		const map = spec[key];
		if (map === undefined) continue;
		if (typeof map !== "object" || map === null || Array.isArray(map)) {
			problems.push(`${key}: expected an object of TypeBox schemas ({ name: Type.String() }), got ${typeof map}`);
			continue;
		}
		for (const [prop, schema] of Object.entries(map)) {
			if (typeof schema !== "object" || schema === null) {
				problems.push(`${key}.${prop}: expected a TypeBox schema, got ${typeof schema}`);
			}
		}
	}
	if (typeof spec.run !== "function")
		problems.push(`run: expected an async function (ctx) => outputs, got ${typeof spec.run}`);
	problems.push(...budgetProblems(spec.budget, "budget"));
	const worktree = worktreeProblem(spec.worktree);
	if (worktree) problems.push(worktree);
	return problems;
}

/** A definition loaded from `file`: it records the file, and one declared without a name takes the file's name. */
export function withFileName<D extends AnyWorkflowDefinition>(
	definition: D,
	file: string,
): { ok: true; definition: D } | { ok: false; error: string } {
	const fileName = basename(file).replace(/\.[cm]?ts$/, "");
	if (definition.name === "" && !NAME_PATTERN.test(fileName)) {
		return {
			ok: false,
			error: `name: none given, and the file name "${fileName}" is not a workflow name (lower-case words joined by "-", like "review-change"); give the workflow a name or rename the file`,
		};
	}
	return { ok: true, definition: Object.freeze({ ...definition, name: definition.name || fileName, file }) };
}

/** Whether a value is a definition made by `workflow()` (used by loaders to check default exports). */
export function isWorkflowDefinition(value: unknown): value is WorkflowDefinition {
	return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "pi-workflow";
}
