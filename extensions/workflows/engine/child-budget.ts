// The limits of a child workflow (`ctx.workflow(def, { budget })`, or the child definition's own budget): checked
// over the nodes within the child's node, when a call in it may start and on every model turn of its stages. A
// reached limit ends the child `blocked` (ctx.workflow returns it); the run's own budget still applies to all.

import type { Usage, WorkflowBudget } from "../authoring/types.js";
import { BudgetExceededError } from "./budget.js";
import type { Scope, WorkflowFrame } from "./scope.js";

/** The budget keys a child workflow's limits may use (its time is the run's: the run's maxDurationMs applies). */
export const CHILD_BUDGET_KEYS = ["maxStages", "maxTurns", "maxToolCalls", "maxTokens", "maxCostUsd"] as const;

/** Throws (and stops the child) when a call starting in a child workflow would pass one of its limits. */
export function checkFrameBudgets(scope: Scope, nodeId: string, newStage: boolean): void {
	const reason = frameBudgetProblem(scope, nodeId, newStage ? 1 : 0);
	if (reason) throw reason;
}

/** A stage's live spend in a child workflow: stops the child whose limit it reached. */
export function checkFrameLive(scope: Scope, nodeId: string, live: Usage): void {
	frameBudgetProblem(scope, nodeId, 0, live);
}

function frameBudgetProblem(
	scope: Scope,
	nodeId: string,
	extraStages: number,
	live?: Usage,
): BudgetExceededError | undefined {
	for (let frame: WorkflowFrame | undefined = scope.frame; frame; frame = frame.parent) {
		const limits = frame.budget;
		if (!limits) continue;
		const reached = reachedChildLimit(limits, scope, frame.nodeId, extraStages, live);
		if (!reached) continue;
		const when = live ? `while stage "${nodeId}" ran` : `before "${nodeId}" started`;
		const stop = new BudgetExceededError(`budget of child workflow "${frame.name}": ${reached} ${when}`);
		frame.stop(stop);
		return stop;
	}
	return undefined;
}

function reachedChildLimit(
	limits: WorkflowBudget,
	scope: Scope,
	frameNode: string,
	extraStages: number,
	live: Usage | undefined,
): string | undefined {
	const spent = scope.services.fold.spentWithin(frameNode);
	const checks: Array<[number | undefined, number, string]> = [
		[limits.maxStages, spent.stages + extraStages, "stages"],
		[limits.maxTurns, spent.turns + (live?.turns ?? 0), "turns"],
		[limits.maxToolCalls, spent.toolCalls + (live?.toolCalls ?? 0), "tool calls"],
		[limits.maxTokens, spent.tokens + (live?.totalTokens ?? 0), "tokens"],
		[limits.maxCostUsd, spent.costUsd + (live?.cost ?? 0), "USD"],
	];
	for (const [limit, value, unit] of checks) {
		if (limit === undefined) continue;
		// A new stage must fit; spend reaching the limit stops the child.
		const over = unit === "stages" ? value > limit : value >= limit;
		if (over) return `${unit} ${unit === "USD" ? value.toFixed(4) : value} of ${limit} reached`;
	}
	return undefined;
}
