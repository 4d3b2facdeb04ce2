// Dynamic workflows as data: the model sends a typed spec (named steps, parallel/sequence groups or
// `dependsOn` links), never code. A spec is validated with every problem listed by its path, compiled
// to a plan tree that the same engine runs, and can be saved as a readable TypeScript workflow file
// that produces the same graph.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { Type } from "typebox";
import { budgetProblems, STAGE_BUDGET_KEYS } from "../authoring/budget-spec.js";
import type {
	AnyWorkflowDefinition,
	StageResult,
	TaskOptions,
	WorkflowBudget,
	WorkflowContext,
} from "../authoring/types.js";
import { isRecord } from "../authoring/validate.js";
import { workflow } from "../authoring/workflow.js";
import { worktreeProblem } from "../authoring/worktree-spec.js";
import { DEFAULT_MAX_STAGES } from "../engine/budget.js";
import { schemaProblem } from "../engine/stage/structured-result.js";

const TASK_KEYS = [
	"name",
	"prompt",
	"model",
	"tools",
	"output",
	"outputMode",
	"reads",
	"context",
	"forkFrom",
	"systemPrompt",
	"dependsOn",
	"fallbackModels",
	"schema",
	"timeoutMs",
	"idleTimeoutMs",
	"toolTimeoutMs",
	"budget",
	"worktree",
];
const STRING_KEYS = ["model", "output", "forkFrom", "systemPrompt"] as const;
const LIST_KEYS = ["tools", "reads", "dependsOn", "fallbackModels"] as const;
/** Time limits of a step, in milliseconds, and the least each takes (0 turns the idle watchdog off). */
const TIME_KEYS = [
	["timeoutMs", 1],
	["idleTimeoutMs", 0],
	["toolTimeoutMs", 1],
] as const;

export interface TaskSpec extends TaskOptions {
	name: string;
	dependsOn?: string[];
}

/** A compiled plan: tasks, and groups run side by side or one after another. */
export type PlanNode =
	| { kind: "task"; task: TaskSpec /** Steps whose results are this task's handoff (dependsOn). */; from?: string[] }
	| { kind: "parallel"; nodes: PlanNode[]; concurrency?: number; failFast?: boolean }
	| { kind: "sequence"; nodes: PlanNode[] };

export interface WorkflowSpecData {
	name: string;
	description: string;
	plan: PlanNode;
	/** The run's limits (maxStages defaults to DEFAULT_MAX_STAGES). */
	budget?: WorkflowBudget;
}

/** A model a spec names, where it names it, and whether it is a fallback (skipped, not refused, without a login). */
export interface SpecModel {
	spec: string;
	where: string;
	fallback: boolean;
}

/** Validates a spec; throws one error listing every problem with its path in the spec. */
export function parseSpec(raw: unknown): WorkflowSpecData {
	const problems: string[] = [];
	const names = new Map<string, string>();
	if (!isRecord(raw))
		throw new Error(`Invalid workflow spec: expected an object { name, description, steps }, got ${typeof raw}`);
	const name = raw.name;
	if (typeof name !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
		problems.push(`name: expected lower-case words joined by "-", got ${JSON.stringify(name)}`);
	}
	const description =
		typeof raw.description === "string" && raw.description.trim()
			? raw.description
			: `One-off workflow ${String(name)}`;
	const steps = parseSteps(raw.steps, "steps", problems, names);
	const usesDependsOn = steps.some((node) => node.kind === "task" && node.from !== undefined);
	const plan: PlanNode = usesDependsOn ? levelsFromDependencies(steps, problems) : { kind: "sequence", nodes: steps };
	const budgetIssues = budgetProblems(raw.budget, "budget");
	problems.push(...budgetIssues);
	const budget = raw.budget as WorkflowBudget | undefined;
	// A spec that could never finish within its stage limit is refused before anything is spent.
	const maxStages = budgetIssues.length === 0 ? (budget?.maxStages ?? DEFAULT_MAX_STAGES) : undefined;
	const stageCount = names.size;
	if (maxStages !== undefined && stageCount > maxStages) {
		problems.push(
			`steps: ${stageCount} steps, more than the run may start (budget.maxStages ${maxStages}${budget?.maxStages === undefined ? ", the default" : ""}); give a larger "budget": { "maxStages": ${stageCount} } if that many is meant`,
		);
	}
	if (problems.length > 0) {
		throw new Error(
			`Invalid workflow spec${typeof name === "string" ? ` "${name}"` : ""}:\n- ${problems.join("\n- ")}`,
		);
	}
	return { name: name as string, description, plan, ...(budget ? { budget } : {}) };
}

/** Every model string the spec names, to be checked before the run starts. */
export function specModels(spec: WorkflowSpecData): SpecModel[] {
	const found: SpecModel[] = [];
	const visit = (node: PlanNode) => {
		if (node.kind !== "task") {
			node.nodes.forEach(visit);
			return;
		}
		const where = `step "${node.task.name}"`;
		if (node.task.model) found.push({ spec: node.task.model, where: `${where} model`, fallback: false });
		for (const [index, model] of (node.task.fallbackModels ?? []).entries()) {
			found.push({ spec: model, where: `${where} fallbackModels[${index}]`, fallback: true });
		}
	};
	visit(spec.plan);
	return found;
}

function parseSteps(value: unknown, path: string, problems: string[], names: Map<string, string>): PlanNode[] {
	if (!Array.isArray(value) || value.length === 0) {
		problems.push(
			`${path}: expected a non-empty array of steps, got ${Array.isArray(value) ? "an empty array" : typeof value}`,
		);
		return [];
	}
	return value.flatMap((step, index) => {
		const node = parseStep(step, `${path}[${index}]`, problems, names);
		return node ? [node] : [];
	});
}

function parseStep(step: unknown, path: string, problems: string[], names: Map<string, string>): PlanNode | undefined {
	if (!isRecord(step)) {
		problems.push(`${path}: expected a step object, got ${typeof step}`);
		return undefined;
	}
	if ("parallel" in step || "sequence" in step) {
		const kind = "parallel" in step ? "parallel" : "sequence";
		const nodes = parseSteps(step[kind], `${path}.${kind}`, problems, names);
		if (kind === "sequence") return { kind, nodes };
		const concurrency = step.concurrency;
		if (concurrency !== undefined && (!Number.isInteger(concurrency) || (concurrency as number) < 1)) {
			problems.push(`${path}.concurrency: expected an integer from 1 and up, got ${JSON.stringify(concurrency)}`);
		}
		if (step.failFast !== undefined && typeof step.failFast !== "boolean") {
			problems.push(`${path}.failFast: expected true or false, got ${JSON.stringify(step.failFast)}`);
		}
		return {
			kind,
			nodes,
			concurrency: concurrency as number | undefined,
			failFast: step.failFast as boolean | undefined,
		};
	}
	for (const key of Object.keys(step)) {
		if (!TASK_KEYS.includes(key))
			problems.push(
				`${path}.${key}: unknown key (expected one of ${TASK_KEYS.join(", ")}, or a "parallel"/"sequence" group)`,
			);
	}
	if (typeof step.name !== "string" || !step.name.trim()) {
		problems.push(`${path}.name: expected a non-empty string, got ${JSON.stringify(step.name)}`);
	} else if (names.has(step.name)) {
		problems.push(`${path}.name: "${step.name}" is already used at ${names.get(step.name)}`);
	} else {
		names.set(step.name, path);
	}
	if (typeof step.prompt !== "string" || !step.prompt.trim()) {
		problems.push(`${path}.prompt: expected a non-empty string, got ${JSON.stringify(step.prompt)}`);
	}
	for (const key of STRING_KEYS) {
		if (step[key] !== undefined && typeof step[key] !== "string")
			problems.push(`${path}.${key}: expected a string, got ${JSON.stringify(step[key])}`);
	}
	for (const key of LIST_KEYS) {
		const list = step[key];
		if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== "string"))) {
			problems.push(`${path}.${key}: expected an array of strings, got ${JSON.stringify(list)}`);
		}
	}
	if (step.outputMode !== undefined && step.outputMode !== "inline" && step.outputMode !== "file-only") {
		problems.push(`${path}.outputMode: expected "inline" or "file-only", got ${JSON.stringify(step.outputMode)}`);
	}
	if (step.outputMode === "file-only" && step.output === undefined)
		problems.push(`${path}.outputMode: "file-only" needs "output"`);
	if (step.context !== undefined && step.context !== "fresh" && step.context !== "fork") {
		problems.push(`${path}.context: expected "fresh" or "fork", got ${JSON.stringify(step.context)}`);
	}
	for (const [key, least] of TIME_KEYS) {
		const value = step[key];
		if (value !== undefined && !(typeof value === "number" && Number.isInteger(value) && value >= least)) {
			const expected =
				least === 0 ? "a whole number of milliseconds, 0 or more" : "a whole number of milliseconds above 0";
			problems.push(`${path}.${key}: expected ${expected}, got ${JSON.stringify(value)}`);
		}
	}
	problems.push(...budgetProblems(step.budget, `${path}.budget`, STAGE_BUDGET_KEYS));
	const worktree = worktreeProblem(step.worktree, `${path}.worktree`);
	if (worktree) problems.push(worktree);
	if (step.schema !== undefined) {
		const problem = schemaProblem(step.schema);
		if (problem) problems.push(`${path}.${problem}`);
	}
	const { dependsOn, ...task } = step as unknown as TaskSpec;
	return { kind: "task", task, ...(dependsOn ? { from: dependsOn } : {}) };
}

/** Turns top-level `dependsOn` links into levels: each level runs in parallel after the one before. */
function levelsFromDependencies(steps: PlanNode[], problems: string[]): PlanNode {
	const tasks = steps.filter((node): node is Extract<PlanNode, { kind: "task" }> => node.kind === "task");
	if (tasks.length !== steps.length) {
		problems.push(`steps: a spec that uses "dependsOn" must list plain steps only (no parallel/sequence groups)`);
		return { kind: "sequence", nodes: steps };
	}
	const byName = new Map(tasks.map((node) => [node.task.name, node]));
	const level = new Map<string, number>();
	const visit = (node: Extract<PlanNode, { kind: "task" }>, trail: string[]): number => {
		const known = level.get(node.task.name);
		if (known !== undefined) return known;
		if (trail.includes(node.task.name)) {
			problems.push(`dependsOn: cycle ${[...trail, node.task.name].join(" -> ")}`);
			return 0;
		}
		let depth = 0;
		for (const dep of node.from ?? []) {
			const target = byName.get(dep);
			if (!target) {
				problems.push(
					`steps "${node.task.name}".dependsOn: unknown step "${dep}" (steps: ${[...byName.keys()].join(", ")})`,
				);
				continue;
			}
			depth = Math.max(depth, visit(target, [...trail, node.task.name]) + 1);
		}
		level.set(node.task.name, depth);
		return depth;
	};
	for (const node of tasks) visit(node, []);
	const levels: PlanNode[][] = [];
	for (const node of tasks) {
		const depth = level.get(node.task.name) ?? 0;
		levels[depth] = [...(levels[depth] ?? []), { ...node, from: node.from ?? [] }];
	}
	return {
		kind: "sequence",
		nodes: levels.map((nodes) => (nodes.length === 1 ? (nodes[0] as PlanNode) : { kind: "parallel", nodes })),
	};
}

/** A workflow definition that runs the spec's plan; its output `result` is the last step's text. */
export function definitionFromSpec(spec: WorkflowSpecData): AnyWorkflowDefinition {
	return workflow({
		name: spec.name,
		description: spec.description,
		inputs: {},
		outputs: { result: Type.String() },
		...(spec.budget ? { budget: spec.budget } : {}),
		run: async (ctx) => {
			const done = new Map<string, StageResult>();
			const last = await runNode(ctx, spec.plan, [], done);
			return { result: last.map((result) => result.text).join("\n\n") };
		},
	});
}

async function runNode(
	ctx: WorkflowContext<unknown>,
	node: PlanNode,
	before: StageResult[],
	done: Map<string, StageResult>,
): Promise<StageResult[]> {
	if (node.kind === "task") {
		const previous = node.from ? node.from.flatMap((name) => done.get(name) ?? []) : before;
		const { name, ...options } = node.task;
		const result = await ctx.task(name, { ...options, ...(previous.length > 0 ? { previous } : {}) });
		done.set(name, result);
		return [result];
	}
	if (node.kind === "sequence") {
		let results = before;
		for (const child of node.nodes) results = await runNode(ctx, child, results, done);
		return results;
	}
	const groups = await ctx.parallel(
		node.nodes.map((child) => (branch: WorkflowContext<unknown>) => runNode(branch, child, before, done)),
		{ concurrency: node.concurrency, failFast: node.failFast },
	);
	return groups.flat();
}

/** Writes the spec as a TypeScript workflow file under `.pi/workflows/` (never overwriting one). */
export function saveSpec(spec: WorkflowSpecData, cwd: string, path?: string): { name: string; file: string } {
	const folder = join(cwd, ".pi", "workflows");
	const file = resolve(folder, path ?? `${spec.name}.ts`);
	const rel = relative(folder, file);
	if (rel.startsWith("..") || isAbsolute(rel) || !file.endsWith(".ts")) {
		throw new Error(`save: expected a .ts file name inside .pi/workflows, got ${JSON.stringify(path)}`);
	}
	if (existsSync(file)) throw new Error(`save: ${relative(cwd, file)} already exists; choose another "path" or name`);
	mkdirSync(folder, { recursive: true });
	writeFileSync(file, specToTypeScript(spec));
	return { name: spec.name, file: relative(cwd, file) || basename(file) };
}

/** Readable TypeScript that runs the same plan (and so records the same graph): one variable per stage, named
 * after it; parallel stages as steps of one `ctx.parallel`, a branch that is a sequence as a function. */
export function specToTypeScript(spec: WorkflowSpecData): string {
	const names = new VariableNames();
	const lines: string[] = [];
	const fieldsOf = (task: TaskSpec, previous: string) => {
		const { name: _name, ...options } = task;
		const fields = Object.entries(options).map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
		// One result is a handoff of its own; `[x]` reads better as `x`.
		if (previous !== "[]") fields.push(`previous: ${/^\[\w+\]$/.test(previous) ? previous.slice(1, -1) : previous}`);
		return fields;
	};
	const previousOf = (node: PlanNode & { kind: "task" }, before: string) =>
		node.from ? `[${node.from.map((dep) => names.of(dep)).join(", ")}]` : before;
	// Emits a node; returns the expression of the results it leaves for the next one.
	const emit = (node: PlanNode, ctx: string, before: string, indent: string): string => {
		if (node.kind === "task") {
			const variable = names.take(node.task.name);
			const fields = fieldsOf(node.task, previousOf(node, before));
			lines.push(
				`${indent}const ${variable} = await ${ctx}.task(${JSON.stringify(node.task.name)}, { ${fields.join(", ")} });`,
			);
			return `[${variable}]`;
		}
		if (node.kind === "sequence") {
			let current = before;
			for (const child of node.nodes) current = emit(child, ctx, current, indent);
			return current;
		}
		const set = [
			...(node.concurrency !== undefined ? [`concurrency: ${node.concurrency}`] : []),
			...(node.failFast !== undefined ? [`failFast: ${node.failFast}`] : []),
		];
		const options = set.length > 0 ? `\n${indent}\t{ ${set.join(", ")} },` : "";
		const tasks = node.nodes.every((child) => child.kind === "task");
		if (tasks) {
			const steps = node.nodes as Array<PlanNode & { kind: "task" }>;
			const variables = steps.map((step) => names.take(step.task.name));
			lines.push(`${indent}const [${variables.join(", ")}] = await ${ctx}.parallel(`, `${indent}\t[`);
			for (const step of steps) {
				const fields = [
					`name: ${JSON.stringify(step.task.name)}`,
					...fieldsOf(step.task, previousOf(step, before)),
				];
				lines.push(`${indent}\t\t{ ${fields.join(", ")} },`);
			}
			lines.push(`${indent}\t],${options}`, `${indent});`);
			return `[${variables.join(", ")}]`;
		}
		// Branches of several stages run as functions, each with a ctx of its own; each returns what it leaves.
		const body: string[][] = [];
		const results: string[] = [];
		for (const child of node.nodes) {
			const start = lines.length;
			const branch = names.take("branch");
			const left = emit(child, branch, before, `${indent}\t\t`);
			const emitted = lines.splice(start);
			body.push([`${indent}\tasync (${branch}) => {`, ...emitted, `${indent}\t\treturn ${left};`, `${indent}\t},`]);
			results.push(names.take(`${lastStage(child)}-results`));
		}
		lines.push(`${indent}const [${results.join(", ")}] = await ${ctx}.parallel(`, `${indent}\t[`);
		for (const branch of body) lines.push(...branch.map((line) => `\t${line}`));
		lines.push(`${indent}\t],${options}`, `${indent});`);
		return `[${results.map((result) => `...${result}`).join(", ")}]`;
	};
	const last = emit(spec.plan, "ctx", "[]", "\t\t");
	return [
		`// ${spec.description}`,
		"// Saved from a dynamic workflow spec by pi-workflows; edit freely.",
		"",
		'import { workflow } from "pi-workflows";',
		'import { Type } from "typebox";',
		"",
		"export default workflow({",
		`\tname: ${JSON.stringify(spec.name)},`,
		`\tdescription: ${JSON.stringify(spec.description)},`,
		"\tinputs: {},",
		"\toutputs: { result: Type.String() },",
		...(spec.budget ? [`\tbudget: ${JSON.stringify(spec.budget)},`] : []),
		"\trun: async (ctx) => {",
		...lines,
		`\t\treturn { result: ${resultText(last)} };`,
		"\t},",
		"});",
		"",
	].join("\n");
}

/** The text a saved workflow returns: the last stage's, or the texts of the last group, blank-line separated. */
function resultText(last: string): string {
	if (last === "[]") return '""';
	const single = /^\[(\w+)\]$/.exec(last);
	if (single) return `${single[1]}.text`;
	return `${last}.map((result) => result.text).join("\\n\\n")`;
}

function lastStage(node: PlanNode): string {
	if (node.kind === "task") return node.task.name;
	return lastStage(node.nodes.at(-1) as PlanNode);
}

/** Variable names for stages: the stage's name in camelCase (`check-a` is `checkA`), unique, never a keyword. */
class VariableNames {
	private readonly byStage = new Map<string, string>();
	private readonly used = new Set(["ctx", "workflow", "Type", "result"]);

	take(stage: string): string {
		const words = stage.split(/[^A-Za-z0-9]+/).filter(Boolean);
		let base = words
			.map((word, index) => (index === 0 ? word.toLowerCase() : word[0]?.toUpperCase() + word.slice(1)))
			.join("");
		if (!/^[A-Za-z_]/.test(base)) base = `stage${base[0]?.toUpperCase() ?? ""}${base.slice(1)}`;
		if (RESERVED.has(base)) base = `${base}Stage`;
		let name = base;
		for (let count = 2; this.used.has(name); count++) name = `${base}${count}`;
		this.used.add(name);
		if (!this.byStage.has(stage)) this.byStage.set(stage, name);
		return name;
	}

	/** The variable a stage's result was given. */
	of(stage: string): string {
		const name = this.byStage.get(stage);
		if (!name) throw new Error(`save: stage "${stage}" is used before it runs`);
		return name;
	}
}

const RESERVED = new Set(
	"break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof let new null return super switch this throw true try typeof var void while with yield await async static implements interface package private protected public arguments eval undefined".split(
		" ",
	),
);
