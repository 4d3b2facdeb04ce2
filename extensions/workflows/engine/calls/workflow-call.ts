// ctx.workflow as a node of the call protocol: a child workflow run inside this run, with validated inputs,
// sharing the run's journal, budget and replay. Its calls live under the node's identity and `within` it in the
// graph. A child's ctx.exit (or ctx.cancel, or its own budget) ends the child only: ctx.workflow returns
// `{ status, outputs, exited }`. An unexpected failure throws a StageError naming the child; a stop of the whole
// run passes through. A finished child replays from the journal without running it; a blocked or failed one
// runs again on resume (its finished calls replay).

import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { BUDGET_KEYS, budgetProblems } from "../../authoring/budget-spec.js";
import { RunStop } from "../../authoring/run-stop.js";
import { StageError } from "../../authoring/stage-error.js";
import type { AnyWorkflowDefinition, ChildWorkflowOptions, ChildWorkflowResult } from "../../authoring/types.js";
import { checkInputs, checkOutputs, isRecord } from "../../authoring/validate.js";
import { isWorkflowDefinition } from "../../authoring/workflow.js";
import { CallScope } from "../call-identity.js";
import { CHILD_BUDGET_KEYS } from "../child-budget.js";
import { createContext } from "../context.js";
import { Frontier } from "../graph.js";
import type { Scope, WorkflowFrame } from "../scope.js";
import { type CallPlan, callNode, type NodeCall, type NodeOutcome, type NodeRef, type Prepared } from "./protocol.js";

/** Child ends that are final: a resume hands them back. A blocked or failed child runs again instead. */
const FINAL = new Set(["completed", "skipped", "cancelled"]);

interface ChildReady extends Prepared {
	definition: AnyWorkflowDefinition;
	inputs: Record<string, unknown>;
}

export async function runChildWorkflow(
	scope: Scope,
	definition: AnyWorkflowDefinition,
	options: ChildWorkflowOptions<unknown> = {},
): Promise<ChildWorkflowResult<Record<string, unknown>>> {
	const name = isWorkflowDefinition(definition) ? definition.name || "(unnamed)" : "(not a workflow)";
	return (await callNode(scope, workflowCall(scope, name, definition, options ?? {}))) as ChildWorkflowResult<
		Record<string, unknown>
	>;
}

function workflowCall(
	scope: Scope,
	name: string,
	definition: unknown,
	options: ChildWorkflowOptions<unknown>,
): NodeCall<"workflow", ChildReady, undefined> {
	const { services } = scope;
	// A stop of the whole run (or of an enclosing child) met inside the child: passed on as it was thrown.
	let passOn: unknown;
	return {
		kind: "workflow",
		name,
		prepare: () => {
			const start = { workflow: name, inputs: options.inputs ?? {} };
			const problem = childProblem(scope, name, definition, options);
			if (problem) return { ok: false, error: problem, start };
			const child = definition as AnyWorkflowDefinition;
			const inputs = (options.inputs ?? {}) as Record<string, unknown>;
			const fingerprint = createHash("sha256")
				.update(JSON.stringify({ workflow: child.name, inputs, budget: options.budget ?? null }))
				.digest("hex")
				.slice(0, 16);
			return { ok: true, value: { fingerprint, definition: child, inputs } };
		},
		plan: (node, _ready, changed): CallPlan<undefined> => {
			const recorded = node.recorded;
			const result = recorded?.result as ChildWorkflowResult<unknown> | undefined;
			if (recorded && !changed && result && FINAL.has(result.status)) return { type: "replay", result };
			if (!recorded) return { type: "run", detail: undefined };
			const rerun = changed ?? `the child ended ${result?.status ?? recorded.status}; it runs again`;
			return { type: "run", rerun, detail: undefined };
		},
		start: (_node, ready) => ({ workflow: ready.definition.name, inputs: ready.inputs }),
		run: async (node, ready, _detail, signal) => {
			const startedAt = Date.now();
			const outcome = await runChild(scope, node, ready, options, signal);
			if (outcome.passOn !== undefined) passOn = outcome.passOn;
			return { ...outcome.node, durationMs: Date.now() - startedAt };
		},
		deliver: (node, result, outcome) => {
			if (passOn !== undefined) throw passOn;
			if (outcome && !outcome.handled && outcome.status !== "completed" && outcome.status !== "cancelled") {
				throw new StageError(services.workflow, node.id, outcome.error ?? "failed", outcome.status !== "failed");
			}
			return result;
		},
	};
}

function childProblem(
	scope: Scope,
	name: string,
	definition: unknown,
	options: ChildWorkflowOptions<unknown>,
): string | undefined {
	if (!isWorkflowDefinition(definition)) {
		return `workflow: expected a definition made by workflow() (a module's default export), got ${describe(definition)}`;
	}
	if (!definition.name) return `workflow: the definition has no name; give workflow({ name: ... }) one`;
	if (!isRecord(options))
		return `workflow "${name}": options: expected { inputs?, budget? }, got ${describe(options)}`;
	const depth = (scope.frame?.depth ?? 0) + 1;
	const limit = scope.services.settings.maxWorkflowDepth;
	if (depth > limit) {
		const chain = frames(scope.frame)
			.map((frame) => frame.name)
			.reverse();
		return `workflow "${name}": nested ${depth} levels deep (${[scope.services.workflow, ...chain, name].join(" > ")}), the limit is ${limit}`;
	}
	const inputs = checkInputs(definition.inputs, options.inputs ?? {});
	if (inputs.length > 0) return `workflow "${name}": invalid inputs:\n- ${inputs.join("\n- ")}`;
	const budget = budgetProblems(options.budget, "budget", BUDGET_KEYS);
	if (budget.length > 0) return `workflow "${name}": ${budget.join("; ")}`;
	const unsupported = Object.keys(options.budget ?? {}).filter(
		(key) => !(CHILD_BUDGET_KEYS as readonly string[]).includes(key) && key !== "warnAtPercent",
	);
	if (unsupported.length > 0) {
		return `workflow "${name}": budget: ${unsupported.join(", ")} cannot limit a child workflow (its time is the run's; set it on the run), expected ${CHILD_BUDGET_KEYS.join(", ")}`;
	}
	return undefined;
}

async function runChild(
	scope: Scope,
	node: NodeRef,
	ready: ChildReady,
	options: ChildWorkflowOptions<unknown>,
	signal: AbortSignal,
): Promise<{ node: Omit<NodeOutcome, "durationMs">; passOn?: unknown }> {
	const { definition } = ready;
	const controller = new AbortController();
	const childSignal = AbortSignal.any([signal, controller.signal]);
	setMaxListeners(0, childSignal);
	let ended: RunStop | undefined;
	const budget = options.budget ?? childBudget(definition);
	const frame: WorkflowFrame = {
		name: definition.name,
		...(definition.file ? { file: definition.file } : {}),
		nodeId: node.id,
		depth: (scope.frame?.depth ?? 0) + 1,
		outputs: definition.outputs,
		...(budget ? { budget } : {}),
		stop: (stop) => {
			if (ended) return;
			ended = stop;
			controller.abort();
		},
		stopping: () => {
			if (!ended) return undefined;
			return ended.status === "blocked" || ended.status === "failed" ? "stop" : "cancel";
		},
		...(scope.frame ? { parent: scope.frame } : {}),
	};
	const child: Scope = {
		services: scope.services,
		// The child's first calls follow what the child's node followed.
		frontier: new Frontier(node.parents),
		signal: childSignal,
		calls: CallScope.within(node.key),
		within: node.id,
		frame,
		...(scope.place ? { place: scope.place } : {}),
	};
	try {
		const outputs = await definition.run(createContext(child, ready.inputs));
		const problems = checkOutputs(definition.outputs, outputs);
		if (problems.length > 0) {
			return failed(`child workflow "${definition.name}" returned invalid outputs:\n- ${problems.join("\n- ")}`);
		}
		const result = { status: "completed", outputs, exited: false };
		return { node: { status: "completed", result } };
	} catch (error) {
		// The child ended itself (exit, cancel, its own budget) while the run goes on: ctx.workflow returns how.
		if (ended && !signal.aborted) return exitedWith(ended);
		if (error instanceof RunStop) {
			const stopping = scope.services.stopping();
			return {
				node: { status: stopping === "cancel" ? "cancelled" : "interrupted", error: error.reason },
				passOn: error,
			};
		}
		const message = error instanceof Error ? error.message : String(error);
		return failed(`child workflow "${definition.name}" failed: ${message}`);
	}
}

/** How a child that ended itself is recorded: a final end completes the node, a blocked or failed one is data. */
function exitedWith(stop: RunStop): { node: Omit<NodeOutcome, "durationMs"> } {
	const result = {
		status: stop.status,
		outputs: stop.outputs ?? {},
		exited: true,
		reason: stop.reason,
	};
	if (stop.status === "completed" || stop.status === "skipped") return { node: { status: "completed", result } };
	if (stop.status === "cancelled") return { node: { status: "cancelled", result, error: stop.reason } };
	return { node: { status: "failed", result, error: stop.reason, handled: true } };
}

function failed(error: string): { node: Omit<NodeOutcome, "durationMs"> } {
	return { node: { status: "failed", error } };
}

function childBudget(definition: AnyWorkflowDefinition): ChildWorkflowOptions<unknown>["budget"] {
	const own = definition.budget;
	if (!own) return undefined;
	const limits = Object.fromEntries(
		Object.entries(own).filter(([key]) => (CHILD_BUDGET_KEYS as readonly string[]).includes(key)),
	);
	return Object.keys(limits).length > 0 ? limits : undefined;
}

function frames(frame: WorkflowFrame | undefined): WorkflowFrame[] {
	const list: WorkflowFrame[] = [];
	for (let at = frame; at; at = at.parent) list.push(at);
	return list;
}

function describe(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "an array";
	return typeof value === "object" ? "an object that is not a workflow" : `${typeof value} ${JSON.stringify(value)}`;
}
